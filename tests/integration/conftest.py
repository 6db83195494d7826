"""Handlers in-process against the session stack's moto: the same table, the same gateway."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any, Iterator

import pytest

from cloutagent.local.events import load_event


@pytest.fixture(scope="session")
def aws(ready):
    """Point this process at the stack's moto, the way `cloutagent invoke` does."""
    from cloutagent.local.stack import apply_environment, join_environment
    from cloutagent.wiring import get_container

    apply_environment(join_environment(ready))
    return get_container()


class AwsCallCounter:
    """Counts every AWS API call made through the shared clients (botocore event hooks)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model=None, **kwargs: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def count_aws_calls(aws):
    @contextlib.contextmanager
    def counting(*services: str) -> Iterator[AwsCallCounter]:
        counter = AwsCallCounter()
        clients = [aws.clients.client(s) for s in services or ("dynamodb",)] + [aws.clients.connections_api()]
        for c in clients:
            c.meta.events.register("before-call", counter)
        try:
            yield counter
        finally:
            for c in clients:
                c.meta.events.unregister("before-call", counter)

    return counting


@pytest.fixture
def event_for(ready):
    def make(name: str, **values: Any) -> dict[str, Any]:
        defaults = {"tenant_id": ready["tenantId"], "user_id": ready["userId"], "role": "owner",
                    "connection_id": "integration-conn", "project_id": "none"}
        return load_event(name, **{**defaults, **values})

    return make
