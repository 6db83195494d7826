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
from typing import Any, AsyncIterator

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


@dataclass
class Sandbox:
    """A run's directory (its sandbox config and shim), its model gateway and token, its CLI config."""

    settings: ExecutorSettings
    run_dir: Path
    gateway: ModelGateway
    config_dir: str

    @classmethod
    async def open(cls, settings: ExecutorSettings, limits: Limits) -> "Sandbox":
        as_user = settings.sandbox == "user"
        run_dir = Path(tempfile.mkdtemp(prefix="cloutagent-run-"))
        credential = UpstreamCredential(settings.anthropic_api_key, settings.claude_code_oauth_token)
        gateway = await ModelGateway(None if as_user else run_dir / "model.sock", new_run_token(),
                                     settings.anthropic_base_url, credential, limits).start()
        sandbox = cls(settings, run_dir, gateway, settings.claude_config_dir or str(run_dir / "claude-config"))
        if as_user:
            # The run directory stays root's (the shims' configs hold the token they hand
            # on); the agent may only pass through it to reach its config directory.
            run_dir.chmod(0o711)
            give_to_agent(Path(sandbox.config_dir), settings.agent_uid)
        return sandbox

    def shim(self, name: str, workspace: str, secret_names: tuple[str, ...] = (), workspace_inside: str = "",
             chdir: str = "") -> Path:
        """The executable the SDK runs as the CLI, entering this sandbox (see SandboxConfig)."""
        settings = self.settings
        config = SandboxConfig(cli=settings.claude_cli_path or str(BUNDLED_CLI), workspace=workspace,
                               socket=str(self.gateway.socket_path or ""), token=self.gateway.token,
                               secret_names=secret_names, kind=settings.sandbox, gateway_url=self.gateway.url,
                               agent_uid=settings.agent_uid, workspace_inside=workspace_inside, chdir=chdir)
        return write_shim(self.run_dir, config, name)

    def confine(self, request: AgentRequest, shim: Path) -> Confinement:
        return Confinement(replace(request, cli_path=str(shim), claude_config_dir=self.config_dir), self.gateway)

    async def close(self) -> None:
        await self.gateway.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)


@asynccontextmanager
async def confined(request: AgentRequest, settings: ExecutorSettings, spare: Any = None) -> AsyncIterator[Confinement]:
    """A sandbox and its gateway, for as long as the block runs (or the request as is).

    ``spare``, a pool executor's parked CLI that serves this run (spare.py), brings its own,
    which it closes itself.
    """
    if spare is not None:
        yield spare.confine(request)
        return
    if settings.sandbox == "none":
        yield Confinement(request)
        return
    sandbox = await Sandbox.open(settings, Limits(request.max_tokens, request.max_cost_usd))
    try:
        if settings.sandbox == "user":
            give_to_agent(Path(request.cwd), settings.agent_uid)
        yield sandbox.confine(request, sandbox.shim("claude", request.cwd, tuple(request.env)))
    finally:
        await sandbox.close()


def give_to_agent(folder: Path, uid: int) -> None:
    """Make the agent's uid the owner of ``folder`` and all in it (its config, its workspace)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, uid, uid)
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)
