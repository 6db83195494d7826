"""Reliability tests reuse the integration fixtures (handlers in-process on the stack's moto)."""

from tests.integration.conftest import aws, count_aws_calls, event_for  # noqa: F401
