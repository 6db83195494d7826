"""What one executor process is told: which execution to run and where its files go.

Read once from the task's environment (ECS container overrides in AWS, the local launcher on a
laptop). The ids have no defaults, so a task started without them fails at once, by name.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExecutorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUTAGENT_", extra="ignore")

    tenant_id: str = Field(min_length=1)
    project_id: str = Field(min_length=1)
    execution_id: str = Field(min_length=1)
    workspace_root: str = "/mnt/workspaces"
    sessions_bucket: str = ""  # empty: sessions stay on local disk (no resume on another machine)
    claude_cli_path: str = ""  # empty: the CLI bundled with claude-agent-sdk
