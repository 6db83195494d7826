"""What one executor process is told: which execution to run and where its files go.

Read once from the task's environment (ECS container overrides in AWS, the local launcher on a
laptop). A launched executor gets the three ids; a pool executor gets none, only the claim queue,
and takes its ids from the claim it receives (``pool.py``, ``claimed``). Anything in between (some
ids, or neither ids nor a queue) fails at once, by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

IDS = ("tenant_id", "project_id", "execution_id")


class ExecutorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUTAGENT_", extra="ignore")

    # Empty in a pool executor until it claims an execution.
    tenant_id: str = ""
    project_id: str = ""
    execution_id: str = ""
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
    # ``make bench`` only: a file the relay appends each message's arrival time to (relay.ArrivalTrace).
    relay_trace: str = ""
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

    # -- a pool executor ------------------------------------------------------------------------
    # The queue it long-polls for its one claim (cloutagent.adapters.claims).
    claim_queue_url: str = ""
    # One long poll, well under the 10 s read timeout of the platform's clients (adapters/aws.py):
    # a reply lost to that timeout would hide its claim for the queue's visibility timeout.
    claim_wait_seconds: int = Field(default=5, ge=0, le=8)
    # Where each claim's CLI config directory is made (<root>/<execution id>), as the local
    # launcher makes a launched run's; empty: the run's own (confinement.py), as on Fargate.
    claude_config_root: str = ""
    # Set by ECS in every task: where the claimer reads its own task ARN (its claim record).
    ecs_container_metadata_uri_v4: str = Field(default="", validation_alias="ECS_CONTAINER_METADATA_URI_V4")

    @model_validator(mode="after")
    def _launched_or_pooled(self) -> "ExecutorSettings":
        given = [name for name in IDS if getattr(self, name)]
        if given and len(given) < len(IDS):
            raise ValueError("needs all of " + ", ".join(f"CLOUTAGENT_{n.upper()}" for n in IDS if n not in given))
        if not given and not self.claim_queue_url:
            raise ValueError("needs CLOUTAGENT_TENANT_ID, CLOUTAGENT_PROJECT_ID and CLOUTAGENT_EXECUTION_ID "
                             "(a launched run) or CLOUTAGENT_CLAIM_QUEUE_URL (a pool executor)")
        return self

    @property
    def pooled(self) -> bool:
        """Started with no execution: it waits for a claim (pool.py)."""
        return not self.execution_id

    def claimed(self, tenant_id: str, project_id: str, execution_id: str) -> "ExecutorSettings":
        """This pool executor's settings once it has claimed an execution: a launched run's."""
        update = {"tenant_id": tenant_id, "project_id": project_id, "execution_id": execution_id}
        if self.claude_config_root:
            update["claude_config_dir"] = str(Path(self.claude_config_root) / execution_id)
        return self.model_copy(update=update)
