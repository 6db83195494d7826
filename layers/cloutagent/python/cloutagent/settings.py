"""Every setting the platform reads, in one place, read once per process.

Nothing else in the runtime reads ``os.environ`` (the executor reads its own few ids in
``cloutagent_executor.settings``; the dev stack has ``cloutagent_dev.settings``). In AWS the
values come from the function's environment (set by ``infra/``); locally ``cloutagent dev``
sets them before loading handlers.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "CLOUTAGENT_"


class Settings(BaseModel):
    """Read from the environment by ``get_settings``: ``CLOUTAGENT_<FIELD>``, or the field's alias.

    A plain model, not pydantic-settings' ``BaseSettings``: every field is a scalar, and importing
    pydantic-settings (its CLI, dotenv and cloud sources) cost every function's cold start ~50 ms.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    stage: str = "local"
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Where boto3 goes; empty in AWS. Locally: the moto server.
    aws_endpoint_url: str = Field(default="", validation_alias="AWS_ENDPOINT_URL")

    table_name: str = "cloutagent-main"
    # Transcripts, workspace snapshots and run diffs, each under <folder>/<tenantId>/.
    sessions_bucket: str = ""
    # Repositories at http://127.0.0.1 (the dev stack's Git server); never set in AWS.
    allow_loopback_repositories: bool = False
    # Webhook receivers at http://127.0.0.1 (tests' and developers' own); never set in AWS.
    allow_loopback_webhooks: bool = False
    # API Gateway management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}).
    connections_url: str = ""
    # The HTTP API's base URL (webhook receivers): Git host triggers give it out as their endpoint.
    http_api_url: str = ""

    user_pool_id: str = ""
    user_pool_client_id: str = ""
    # Defaults to Cognito's well-known URL for the pool; the local stack points it at moto.
    jwks_url: str = ""
    jwks_min_refetch_seconds: int = 60

    kms_key_id: str = ""

    ecs_cluster: str = ""
    task_definition: str = ""
    task_container_name: str = "executor"
    subnets: str = ""  # comma-separated
    security_groups: str = ""  # comma-separated
    # Idle executor tasks kept waiting for a claim (adapters/claims.py); 0: every run starts its
    # own task. The claim queue is set whenever the pool size is above 0.
    executor_pool_size: int = Field(default=0, ge=0)
    claim_queue_url: str = ""

    stripe_secret_name: str = ""  # Secrets Manager secret with {"apiKey", "webhookSecret"}
    stripe_prices: str = "{}"  # JSON: {"pro": "price_..."}
    stripe_api_base: str = ""  # tests and the local stack point Stripe at a local fake
    stripe_metered_price: str = ""  # optional metered price added to every checkout (usage billing)
    stripe_meter_event_name: str = "cloutagent_usage"  # the Billing Meter's event_name (value: micro-USD)
    stripe_timeout_seconds: float = 10.0

    # EventBridge Scheduler (services/schedules.py): the group every schedule is made in, the function
    # a firing invokes (scheduled_run) and the role Scheduler invokes it as.
    schedule_group: str = "cloutagent-schedules"
    scheduled_run_arn: str = ""
    scheduler_role_arn: str = ""

    event_retention_days: int = 30
    # How long one append may wait out other writers on the same project's lastSeq before the
    # caller gets CONFLICT: a Lambda's reply must come inside API Gateway's 29 s; the executor,
    # which no client waits on, sets more (cloutagent_executor.main.executor_container).
    seq_contention_seconds: float = Field(default=20.0, gt=0)
    # Scales every plan's request rate limits (an operator's lever, e.g. 0.5 under attack; the local
    # stack lowers it so its tests can exceed a limit at the rate one laptop processes requests).
    rate_limit_scale: float = Field(default=1.0, gt=0, le=10)
    connection_ttl_seconds: int = 2 * 60 * 60

    # X-Ray (observability.tracer): Lambda runs the daemon and sets LAMBDA_TASK_ROOT; Powertools'
    # POWERTOOLS_TRACE_DISABLED turns tracing off there too.
    lambda_task_root: str = Field(default="", validation_alias="LAMBDA_TASK_ROOT")
    trace_disabled: bool = Field(default=False, validation_alias="POWERTOOLS_TRACE_DISABLED")

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def effective_jwks_url(self) -> str:
        return self.jwks_url or f"{self.issuer}/.well-known/jwks.json"

    @property
    def stripe_price_map(self) -> dict[str, str]:
        return json.loads(self.stripe_prices or "{}")

    @property
    def in_lambda(self) -> bool:
        return bool(self.lambda_task_root)

    @property
    def tracing(self) -> bool:
        return self.in_lambda and not self.trace_disabled

    @property
    def billing_enabled(self) -> bool:
        """Stripe is configured: tenants' subscriptions count, and billing actions work."""
        return bool(self.stripe_secret_name)


def _from_environment() -> dict[str, Any]:
    """Each field's variable, keyed as the model validates it: by its alias where it has one."""
    values = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        variable = alias or ENV_PREFIX + name.upper()
        if variable in os.environ:
            values[alias or name] = os.environ[variable]
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(_from_environment())


def reset_settings() -> None:
    """Forget cached settings (the local stack and tests change the environment)."""
    get_settings.cache_clear()
