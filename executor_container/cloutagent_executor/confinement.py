"""Where a run's CLI runs: as the executor's own child, or sandboxed behind its own model gateway."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import AsyncIterator

import claude_agent_sdk

from .model_gateway import ModelGateway, UpstreamCredential, new_run_token
from .models import AgentRequest
from .sandbox import SandboxConfig, write_shim
from .settings import ExecutorSettings

BUNDLED_CLI = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


@asynccontextmanager
async def confined(request: AgentRequest, settings: ExecutorSettings) -> AsyncIterator[AgentRequest]:
    """``request`` as this deployment runs it; a sandbox and its gateway live as long as the block."""
    if settings.sandbox == "none":
        yield request
        return
    run_dir = Path(tempfile.mkdtemp(prefix="cloutagent-run-"))
    token = new_run_token()
    credential = UpstreamCredential(settings.anthropic_api_key, settings.claude_code_oauth_token)
    gateway = await ModelGateway(run_dir / "model.sock", token, settings.anthropic_base_url, credential).start()
    try:
        config = SandboxConfig(cli=settings.claude_cli_path or str(BUNDLED_CLI), workspace=request.cwd,
                               socket=str(gateway.socket_path), token=token, secret_names=tuple(request.env))
        config_dir = settings.claude_config_dir or str(run_dir / "claude-config")
        yield replace(request, cli_path=str(write_shim(run_dir, config)), claude_config_dir=config_dir)
    finally:
        await gateway.close()
        shutil.rmtree(run_dir, ignore_errors=True)
