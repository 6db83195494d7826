"""Deployment settings, read once from CDK context (cdk.json, overridable with ``-c key=value``).

``-c`` values always arrive as strings, so every reader below also accepts the string form
("false", "512", '["https://app.example.com"]').
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from constructs import Node

from infra.definitions import REPO_ROOT, Definitions

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


@dataclass(frozen=True, kw_only=True)
class ExecutorImage:
    """Where the Fargate image comes from: an ECR repository + tag, or (tag empty) a local build."""

    repository_name: str
    tag: str

    @property
    def prebuilt(self) -> bool:
        return bool(self.tag)


@dataclass(frozen=True, kw_only=True)
class InfraConfig:
    stage: str
    allowed_origins: tuple[str, ...]
    stripe_secret_name: str
    stripe_prices: Mapping[str, str]
    executor_image: ExecutorImage
    executor_cpu: int
    executor_memory_mib: int
    executor_ephemeral_storage_gib: int
    executor_pool_size: int
    lambda_memory_mb: int
    log_retention_days: int
    ws_throttle_rate: int
    ws_throttle_burst: int
    webhook_throttle_rate: int
    webhook_throttle_burst: int
    max_azs: int
    nat_gateways: int
    sessions_expiration_days: int
    alarm_email: str
    require_mfa: bool
    cognito_plus_tier: bool
    retain_data: bool
    api_gateway_account_role: bool
    bundle_dependencies: bool
    host_console: bool
    functions_root: Path

    @property
    def stack_name(self) -> str:
        return f"cloutagent-{self.stage}"

    @classmethod
    def from_context(cls, node: Node, definitions: Definitions) -> "InfraConfig":
        ctx = _Context(node)
        stage = ctx.text("stage", "dev")
        if not _STAGE.match(stage):
            raise ValueError(f"stage {stage!r} must match {_STAGE.pattern} (it names resources)")
        prices = ctx.json("stripePrices", {})
        unknown = sorted(set(prices) - set(definitions.plans))
        if unknown:
            raise ValueError(f"stripePrices maps unknown plans {unknown}; plans.json has {sorted(definitions.plans)}")
        root = Path(ctx.text("functionsRoot", "."))
        return cls(
            stage=stage,
            allowed_origins=tuple(ctx.json("allowedOrigins", [])),
            stripe_secret_name=ctx.text("stripeSecretName", ""),
            stripe_prices=dict(prices),
            executor_image=ExecutorImage(
                repository_name=ctx.text("executorRepositoryName", "cloutagent-executor"),
                tag=ctx.text("executorImageTag", ""),
            ),
            executor_cpu=ctx.integer("executorCpu", 1024),
            executor_memory_mib=ctx.integer("executorMemoryMiB", 4096),
            # The task's own disk (Fargate: 21-200 GiB) holds the run's workspace and checkout.
            executor_ephemeral_storage_gib=ctx.integer("executorEphemeralStorageGiB", 50),
            # Idle executor tasks waiting for a claim (constructs/executor_pool.py); 0: cold starts.
            executor_pool_size=_pool_size(ctx.integer("executorPoolSize", 0)),
            lambda_memory_mb=ctx.integer("lambdaMemoryMb", 512),
            log_retention_days=ctx.integer("logRetentionDays", 30),
            ws_throttle_rate=ctx.integer("wsThrottleRate", 100),
            ws_throttle_burst=ctx.integer("wsThrottleBurst", 200),
            webhook_throttle_rate=ctx.integer("webhookThrottleRate", 20),
            webhook_throttle_burst=ctx.integer("webhookThrottleBurst", 40),
            max_azs=ctx.integer("maxAzs", 2),
            nat_gateways=ctx.integer("natGateways", 1),
            sessions_expiration_days=ctx.integer("sessionsExpirationDays", 90),
            alarm_email=ctx.text("alarmEmail", ""),
            require_mfa=ctx.boolean("requireMfa", False),
            cognito_plus_tier=ctx.boolean("cognitoPlusTier", False),
            retain_data=ctx.boolean("retainData", True),
            api_gateway_account_role=ctx.boolean("apiGatewayAccountRole", False),
            bundle_dependencies=ctx.boolean("bundleDependencies", True),
            # The web console on S3 + CloudFront (constructs/console_hosting.py).
            host_console=ctx.boolean("hostConsole", True),
            # Relative paths are relative to the repository, not to wherever `cdk` was started.
            functions_root=root if root.is_absolute() else (REPO_ROOT / root).resolve(),
        )


MAX_EXECUTOR_POOL = 100  # idle Fargate tasks cost as much as busy ones; more is surely a typo


def _pool_size(size: int) -> int:
    if not 0 <= size <= MAX_EXECUTOR_POOL:
        raise ValueError(f"executorPoolSize must be 0 (no pool) to {MAX_EXECUTOR_POOL}, got {size}")
    return size


class _Context:
    def __init__(self, node: Node) -> None:
        self._node = node

    def _raw(self, key: str) -> Any:
        return self._node.try_get_context(key)

    def text(self, key: str, default: str) -> str:
        value = self._raw(key)
        return default if value is None else str(value)

    def integer(self, key: str, default: int) -> int:
        value = self._raw(key)
        return default if value in (None, "") else int(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._raw(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"context {key}={value!r} is not a boolean")

    def json(self, key: str, default: Any) -> Any:
        value = self._raw(key)
        if value is None or value == "":
            return default
        return json.loads(value) if isinstance(value, str) else value
