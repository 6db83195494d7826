"""Handlers in-process against the session stack's moto: the same table, the same gateway."""

from __future__ import annotations

from typing import Any

import pytest

from cloutagent_dev.awscalls import counting
from cloutagent_dev.events import load_event

# Every action but ping/health/whoami/openapi first counts itself in its rate-limit window: one
# UpdateItem (domain/rate_limits.py, adapters/dynamo/rate_counter.py). Budgets below add it explicitly.
RATE_COUNT = {"dynamodb.UpdateItem": 1}


@pytest.fixture(scope="session")
def aws(ready):
    """Point this process at the stack's moto, the way `cloutagent invoke` does."""
    from cloutagent_dev.stack import apply_environment, join_environment
    from cloutagent.wiring import get_container

    apply_environment(join_environment(ready))
    return get_container()


@pytest.fixture
def count_aws_calls(aws):
    def counting_calls(*services: str):
        return counting(aws, *services)

    return counting_calls


@pytest.fixture
def event_for(ready):
    def make(name: str, **values: Any) -> dict[str, Any]:
        defaults = {"tenant_id": ready["tenantId"], "user_id": ready["userId"], "role": "owner",
                    "connection_id": "integration-conn", "project_id": "none"}
        return load_event(name, **{**defaults, **values})

    return make
