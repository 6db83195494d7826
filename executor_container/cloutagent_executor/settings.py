"""What one executor process is told: which execution to run and where its files go.

Read once from the task's environment (ECS container overrides in AWS, the local launcher on a
laptop). The ids have no defaults, so a task started without them fails at once, by name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExecutorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUTAGENT_", extra="ignore")

    tenant_id: str = Field(min_length=1)
    project_id: str = Field(min_length=1)
    execution_id: str = Field(min_length=1)
    workspace_root: str = "/mnt/workspaces"
    # Transcripts (sessions/<tenant>/) and workspace snapshots (workspaces/<tenant>/). Empty:
    # sessions stay on local disk and every run starts from an empty workspace.
    sessions_bucket: str = ""
    claude_cli_path: str = ""  # empty: the CLI bundled with claude-agent-sdk
    # "bubblewrap": the CLI runs in a sandbox with a model gateway of its own (sandbox.py);
    # "user": it runs as ``agent_uid`` beside a root executor, with a gateway too (Fargate);
    # "none": it runs as the executor's own process, with the executor's reach.
    sandbox: Literal["none", "bubblewrap", "user"] = "none"
    agent_uid: int = Field(default=10002, gt=0)
    # The role whose tenant-tagged session makes every AWS call (tenant_session.py); empty: the
    # process's own credentials.
    tenant_role_arn: str = ""
    # Repositories at http://127.0.0.1 (the dev stack's Git server); never set in AWS.
    allow_loopback_repositories: bool = False
    # Where the model is and the platform's credential for it. In a sandboxed run only the
    # gateway (model_gateway.py) holds them; empty base URL: the Anthropic API.
    anthropic_base_url: str = Field(default="", validation_alias="ANTHROPIC_BASE_URL")
    anthropic_api_key: str = Field(default="", validation_alias="ANTHROPIC_API_KEY", repr=False)
    claude_code_oauth_token: str = Field(default="", validation_alias="CLAUDE_CODE_OAUTH_TOKEN", repr=False)
    # The CLI's config directory (sessions, shell snapshots); empty: one of the run's own.
    claude_config_dir: str = Field(default="", validation_alias="CLAUDE_CONFIG_DIR")
