"""A spare Claude Code CLI: a pool executor starts it before any claim, and its run takes it over.

Claude Code can start as a pre-warmed spare (``--await-claim``): it boots in a neutral directory,
skips what belongs to a session, and waits for a ``claim_session`` control request that moves
it into the session's directory as if it had been spawned there (its git status, environment
section and transcript keys are the claimed folder's) with the session's permission mode and
appended prompt. The CLI's start, most of what a warm run still waited for, is then done before
the claim.

Before its claim the spare holds nothing of a tenant. It runs in a sandbox of its own (a gateway
with a token, a CLI config directory and a workspace root, all empty) with no secret, no session
store and no permission callback. At the claim the run binds:
- its permission callback and its stderr log (with the run's secrets masked), through forwarders;
- its session store, as the SDK's transcript mirror;
- its secrets, written to a file in the config directory that the Bash tool sources before each
  command (``CLAUDE_ENV_FILE``): the CLI reads its environment only at start-up;
- its model (``set_model``) and the gateway's limits.

A run that needs what a spare takes only at start-up (``refusal``: a session to resume, a turn
cap, the project's settings files, tool allow and deny lists) closes it and starts as a launched
executor's run does. The CLI's budget flag is not set on a spare: the gateway and the executor's
meter stop a run over budget (model_gateway.py, limits.py).

``claim_session`` and the transcript mirror are driven through the SDK's internal query object:
the Python SDK has no public call for them (its TypeScript sibling does), and the claim's fields
are documented by the CLI's own schema (``claude --help`` lists ``--await-claim`` as SDK-internal).
"""

from __future__ import annotations

import logging
import shlex
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, PermissionResultDeny
from claude_agent_sdk._internal.session_resume import build_mirror_batcher

from .confinement import Confinement, Sandbox, give_to_agent
from .limits import Limits
from .models import AgentRequest
from .options import build_options
from .settings import ExecutorSettings

logger = logging.getLogger(__name__)

# --await-claim: park until claim_session. --allow-dangerously-skip-permissions: a claim may ask
# for bypassPermissions (every claim names its mode, so the spare's own never carries over).
# --session-mirror: transcripts come out on stdout, for the session store bound at the claim.
SPARE_FLAGS: dict[str, str | None] = {"await-claim": None, "allow-dangerously-skip-permissions": None,
                                      "session-mirror": None}
ENV_FILE = "agent-env.sh"  # in the config directory: not in the workspace, so never in a diff
PARK = "park"


def refusal(request: AgentRequest) -> str | None:
    """Why a spare cannot serve ``request`` (the CLI takes it only at start-up), or None."""
    if request.resume_session_id:
        return "it resumes a session"
    if request.max_turns is not None:
        return "it caps turns"
    if request.project_settings:
        return "it loads the project's settings files"
    if request.allowed_tools or request.disallowed_tools:
        return "it allows or denies tools"
    return None


def env_file_text(env: dict[str, str]) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(env.items()))


class SpareCli:
    """A parked CLI in a sandbox of its own, until a run claims it."""

    def __init__(self, settings: ExecutorSettings, sandbox: Sandbox | None, config_dir: Path, host_root: Path):
        self.settings, self.sandbox = settings, sandbox
        self.config_dir, self.host_root = config_dir, host_root
        self.client: ClaudeSDKClient | None = None
        self._can_use_tool: Callable | None = None
        self._stderr: Callable[[str], None] = lambda line: logger.debug("spare claude stderr: %s", line)

    @classmethod
    async def start(cls, settings: ExecutorSettings) -> "SpareCli":
        # A config directory of its own, whatever the settings name: close() removes it.
        own = settings.model_copy(update={"claude_config_dir": ""})
        sandbox = await Sandbox.open(own, Limits()) if settings.sandbox != "none" else None
        config_dir = Path(sandbox.config_dir if sandbox else tempfile.mkdtemp(prefix="cloutagent-claude-"))
        (config_dir / PARK).mkdir(parents=True, exist_ok=True)
        # In bubblewrap the run's folder is made in a root of the spare's own, bound where the
        # workspace root is: the CLI sees the folder at its usual path, and nothing else there.
        host_root = sandbox.run_dir / "workspaces" if settings.sandbox == "bubblewrap" else Path(settings.workspace_root)
        host_root.mkdir(parents=True, exist_ok=True)
        if settings.sandbox == "user":
            give_to_agent(config_dir, settings.agent_uid)
        spare = cls(settings, sandbox, config_dir, host_root)
        try:
            spare.client = ClaudeSDKClient(spare._parked_options())
            await spare.client.connect()
        except BaseException:
            await spare.close()
            raise
        return spare

    @property
    def env_file(self) -> Path:
        return self.config_dir / ENV_FILE

    @property
    def alive(self) -> bool:
        """The parked CLI still runs (the SDK keeps its process on the transport)."""
        process = getattr(getattr(self.client, "_transport", None), "_process", None)
        return process is not None and process.returncode is None

    def serves(self, request: AgentRequest) -> bool:
        if not self.alive:
            logger.warning("the spare CLI is gone: this run starts a CLI of its own")
            return False
        why = refusal(request)
        if why is not None:
            logger.info("the spare CLI cannot serve this run (%s): it starts a CLI of its own", why)
        return why is None

    def confine(self, request: AgentRequest) -> Confinement:
        """The run's request in this sandbox, its gateway held to the run's limits."""
        request = replace(request, claude_config_dir=str(self.config_dir))
        if self.sandbox is None:
            return Confinement(request)
        self.sandbox.gateway.limits = Limits(request.max_tokens, request.max_cost_usd)
        if self.settings.sandbox == "user":
            give_to_agent(Path(request.cwd), self.settings.agent_uid)
        return Confinement(request, self.sandbox.gateway)

    async def claim(self, request: AgentRequest, can_use_tool: Callable | None,
                    stderr: Callable[[str], None]) -> ClaudeSDKClient:
        """Bind the parked CLI to ``request``: after this it is the run's, as if started for it."""
        assert self.client is not None
        self._can_use_tool, self._stderr = can_use_tool, stderr
        self.env_file.write_text(env_file_text(request.env))
        self.env_file.chmod(0o600)
        if self.settings.sandbox == "user":
            give_to_agent(self.config_dir, self.settings.agent_uid)
        query: Any = self.client._query  # the SDK's control channel (see the module's docstring)
        if request.session_store is not None:
            query.set_transcript_mirror_batcher(build_mirror_batcher(
                store=request.session_store, materialized=None, env={"CLAUDE_CONFIG_DIR": str(self.config_dir)},
                on_error=_mirror_error(query)))
        claim: dict[str, Any] = {"subtype": "claim_session", "cwd": request.cwd,
                                 "permission_mode": request.permission_mode or "default"}
        if request.system_prompt:
            claim["append_system_prompt"] = request.system_prompt
        answer = await query._send_control_request(claim)
        logger.info("spare CLI claimed", extra={"parked_ms": (answer or {}).get("parked_ms")})
        if request.model:
            await self.client.set_model(request.model)
        client, self.client = self.client, None  # the run's now: it closes it when it ends
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await _disconnect(client)
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            await sandbox.close()
        shutil.rmtree(self.config_dir, ignore_errors=True)

    # -- the parked CLI ------------------------------------------------------------------------
    def _parked_options(self) -> ClaudeAgentOptions:
        park = str(self.config_dir / PARK)
        neutral = AgentRequest(prompt="", cwd=park, claude_config_dir=str(self.config_dir))
        if self.sandbox is not None:
            shim = self.sandbox.shim("claude-spare", str(self.host_root), workspace_inside=self._workspace_inside(),
                                     chdir=park)
            neutral = replace(neutral, cli_path=str(shim))
        options = build_options(neutral, self._forward_stderr, self._forward_can_use_tool,
                                gateway_metered=self.sandbox is not None)
        return replace(options, extra_args={**options.extra_args, **SPARE_FLAGS},
                       env={**options.env, "CLAUDE_ENV_FILE": str(self.env_file)})

    def _workspace_inside(self) -> str:
        return self.settings.workspace_root if self.settings.sandbox == "bubblewrap" else ""

    def _forward_stderr(self, line: str) -> None:
        self._stderr(line)

    async def _forward_can_use_tool(self, tool_name: str, tool_input: dict, context: Any):
        if self._can_use_tool is None:  # nothing asks before a claim; if it did, nobody may answer
            return PermissionResultDeny(message="This CLI has not been claimed by a run", interrupt=True)
        return await self._can_use_tool(tool_name, tool_input, context)


def _mirror_error(query: Any):
    async def report(key: Any, error: str) -> None:
        query.report_mirror_error(key, error)

    return report


async def _disconnect(client: ClaudeSDKClient) -> None:
    try:
        await client.disconnect()
    except Exception as error:  # noqa: BLE001 - closing a CLI nobody uses any more
        logger.warning("closing the spare CLI failed: %s", type(error).__name__)
