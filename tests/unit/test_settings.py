"""Settings come from the function's environment: CLOUTAGENT_<FIELD>, or the variable Lambda or
Powertools name (AWS_REGION, LAMBDA_TASK_ROOT, …)."""

from __future__ import annotations

import pytest

from cloutagent.settings import Settings, get_settings, reset_settings


@pytest.fixture
def environment(monkeypatch):
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_every_field_is_read_from_its_variable(environment):
    environment.setenv("CLOUTAGENT_TABLE_NAME", "t-prod")
    environment.setenv("CLOUTAGENT_EXECUTOR_POOL_SIZE", "3")
    environment.setenv("CLOUTAGENT_ALLOW_LOOPBACK_WEBHOOKS", "true")
    environment.setenv("CLOUTAGENT_RATE_LIMIT_SCALE", "0.5")
    environment.setenv("AWS_REGION", "eu-west-1")
    environment.setenv("LAMBDA_TASK_ROOT", "/var/task")
    environment.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    settings = get_settings()
    assert (settings.table_name, settings.executor_pool_size, settings.allow_loopback_webhooks) == ("t-prod", 3, True)
    assert settings.rate_limit_scale == 0.5 and settings.region == "eu-west-1"
    # the aliased variables count too: in Lambda, tracing is on unless Powertools turns it off
    assert settings.tracing
    environment.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    reset_settings()
    assert not get_settings().tracing


def test_only_the_prefixed_name_counts(environment):
    # TABLE_NAME alone is someone else's variable; an alias replaces the prefixed name, not adds to it
    environment.setenv("TABLE_NAME", "not-ours")
    environment.setenv("CLOUTAGENT_REGION", "ap-south-1")
    environment.setenv("AWS_REGION", "us-west-2")
    environment.delenv("CLOUTAGENT_TABLE_NAME", raising=False)
    assert get_settings().table_name == Settings.model_fields["table_name"].default
    assert get_settings().region == "us-west-2"


def test_a_malformed_value_fails_loudly_at_start(environment):
    environment.setenv("CLOUTAGENT_EXECUTOR_POOL_SIZE", "-1")
    with pytest.raises(ValueError):
        get_settings()
