"""What ``cloutagent dev`` reads from the developer's environment, once.

Real credentials switch a local part to the real service: Claude credentials send the CLI to
the real API instead of the scripted model, a Stripe test-mode key replaces the fake Stripe.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DevSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    anthropic_api_key: str = Field(default="", validation_alias="ANTHROPIC_API_KEY", repr=False)
    claude_code_oauth_token: str = Field(default="", validation_alias="CLAUDE_CODE_OAUTH_TOKEN", repr=False)
    # A real test-mode key instead of the local fake Stripe, and the signing secret `stripe listen` prints.
    stripe_api_key: str = Field(default="", validation_alias="STRIPE_API_KEY", repr=False)
    stripe_webhook_secret: str = Field(default="", validation_alias="STRIPE_WEBHOOK_SECRET", repr=False)
    # A CLI other than the one bundled with claude-agent-sdk (a newer build, a wrapper).
    claude_cli_path: str = Field(default="", validation_alias="CLOUTAGENT_CLAUDE_CLI_PATH")
    # Warm executors waiting for runs (``cloutagent dev --executor-pool``); the name infra gives
    # the executions function the same setting under in AWS.
    executor_pool_size: int = Field(default=0, ge=0, validation_alias="CLOUTAGENT_EXECUTOR_POOL_SIZE")
    # An emulated network round trip for every @connections POST (docs/local-stack.md, the knobs).
    post_delay_ms: float = Field(default=0.0, ge=0, le=60_000, validation_alias="CLOUTAGENT_DEV_POST_DELAY_MS")
    # How many real seconds a minute of the local scheduler lasts (cloutagent_dev/scheduler.py): tests
    # shorten it to see rate(1 minute) fire within seconds; also ``PUT /local/scheduler`` while it runs.
    scheduler_seconds_per_minute: float = Field(default=60.0, ge=0.5, le=3600,
                                                validation_alias="CLOUTAGENT_DEV_SCHEDULER_SECONDS_PER_MINUTE")

    @property
    def has_claude_credentials(self) -> bool:
        return bool(self.anthropic_api_key or self.claude_code_oauth_token)


@lru_cache(maxsize=1)
def get_dev_settings() -> DevSettings:
    return DevSettings()
