"""Where a run's CLI runs: as the executor's own child, or apart from it behind its own model gateway.

``settings.sandbox`` picks how: ``bubblewrap`` (namespaces: the local stack and CI), ``user``
(the agent's own uid: Fargate, where the executor runs as root only to drop to that uid), or
``none`` (a laptop that can do neither; ``make dev`` says so).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import AsyncIterator

import claude_agent_sdk

from .limits import Limits
from .model_gateway import ModelGateway, UpstreamCredential, new_run_token
from .models import AgentOutcome, AgentRequest
from .sandbox import SandboxConfig, write_shim
from .settings import ExecutorSettings

BUNDLED_CLI = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


@dataclass(frozen=True)
class Confinement:
    """A run's request as this deployment runs it, and its gateway when it has one."""

    request: AgentRequest
    gateway: ModelGateway | None = None

    def settle(self, outcome: AgentOutcome) -> AgentOutcome:
        """The outcome as the gateway saw it: its budget stop, and at least the cost it metered."""
        if self.gateway is None:
            return outcome
        metered = round(self.gateway.meter.cost_usd(), 6)
        if self.gateway.exhausted and outcome.status in ("completed", "failed"):
            outcome = replace(outcome, status="budget_exceeded", error=f"{self.gateway.exhausted} (stopped by the gateway)")
        return replace(outcome, cost_usd=max(outcome.cost_usd, metered))


@asynccontextmanager
async def confined(request: AgentRequest, settings: ExecutorSettings) -> AsyncIterator[Confinement]:
    """A sandbox and its gateway, for as long as the block runs (or the request as is)."""
    if settings.sandbox == "none":
        yield Confinement(request)
        return
    as_user = settings.sandbox == "user"
    run_dir = Path(tempfile.mkdtemp(prefix="cloutagent-run-"))
    token = new_run_token()
    credential = UpstreamCredential(settings.anthropic_api_key, settings.claude_code_oauth_token)
    limits = Limits(request.max_tokens, request.max_cost_usd)
    gateway = await ModelGateway(None if as_user else run_dir / "model.sock", token, settings.anthropic_base_url,
                                 credential, limits).start()
    try:
        config_dir = settings.claude_config_dir or str(run_dir / "claude-config")
        config = SandboxConfig(cli=settings.claude_cli_path or str(BUNDLED_CLI), workspace=request.cwd,
                               socket=str(gateway.socket_path or ""), token=token, secret_names=tuple(request.env),
                               kind=settings.sandbox, gateway_url=gateway.url, agent_uid=settings.agent_uid)
        if as_user:
            hand_to_agent(run_dir, Path(config_dir), Path(request.cwd), settings.agent_uid)
        yield Confinement(replace(request, cli_path=str(write_shim(run_dir, config)), claude_config_dir=config_dir),
                          gateway)
    finally:
        await gateway.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def hand_to_agent(run_dir: Path, config_dir: Path, workspace: Path, uid: int) -> None:
    """Let the agent's uid pass through the run's directory and own its config and workspace.

    The run directory stays root's (its sandbox.json holds the token the shim hands on);
    the agent may only traverse it to reach its config directory.
    """
    run_dir.chmod(0o711)
    config_dir.mkdir(parents=True, exist_ok=True)
    for folder in (config_dir, workspace):
        os.chown(folder, uid, uid)
        for parent, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)
