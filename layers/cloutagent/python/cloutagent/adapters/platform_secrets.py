"""The operator's own secrets (Stripe keys, the webhook signing secret, Anthropic credentials).

They live in Secrets Manager as JSON objects and are read through Powertools Parameters, which
caches each one for ``max_age`` seconds per process: a warm Lambda does not call Secrets Manager
on every request, and a rotated secret is picked up within five minutes. Locally the stack
provisions the same names in moto (``local/provision.py``).
"""

from __future__ import annotations

from typing import Any, Protocol

from cloutagent.errors import SecretsUnavailable
from cloutagent.observability import logger

STRIPE_SECRET = "cloutagent/stripe"  # {"apiKey", "webhookSecret"}
ANTHROPIC_SECRET = "cloutagent/anthropic"  # {"apiKey"}
CACHE_SECONDS = 300


class PlatformSecrets(Protocol):
    def get(self, name: str) -> dict[str, Any]: ...


class SecretsManagerPlatformSecrets:
    def __init__(self, client: Any, max_age: int = CACHE_SECONDS):
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        # get_secret(name, transform="json", max_age=...), on our own (lazily created) client.
        self.provider = SecretsProvider(boto3_client=client)
        self.max_age = max_age

    def get(self, name: str) -> dict[str, Any]:
        """The secret ``name`` as a dict, cached for ``max_age`` seconds."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

        try:
            value = self.provider.get(name, transform="json", max_age=self.max_age)
        except (GetParameterError, TransformParameterError) as exc:
            logger.warning("platform secret unavailable", extra={"secret_name": name, "error_type": type(exc).__name__})
            raise SecretsUnavailable("A platform secret is not available") from exc
        if not isinstance(value, dict):
            logger.warning("platform secret is not a JSON object", extra={"secret_name": name})
            raise SecretsUnavailable("A platform secret is not available")
        return value


class StaticPlatformSecrets:
    """An in-memory port for tests."""

    def __init__(self, values: dict[str, dict[str, Any]]):
        self.values = values

    def get(self, name: str) -> dict[str, Any]:
        if name not in self.values:
            raise SecretsUnavailable("A platform secret is not available")
        return dict(self.values[name])
