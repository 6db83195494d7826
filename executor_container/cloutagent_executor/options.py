"""AgentRequest -> ClaudeAgentOptions: the one place run settings become CLI flags."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from claude_agent_sdk import ClaudeAgentOptions

if TYPE_CHECKING:
    from .agent import AgentRequest

# Tool results of a real agent (a file read, a build log) outgrow the SDK's 1 MiB line default.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024

# The CLI inherits the executor's environment. These would let the agent's shell reach the
# task role's credentials and task metadata, so the agent sees them empty unless the
# project deliberately supplies its own values.
EXECUTOR_ONLY_ENV = (
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "ECS_CONTAINER_METADATA_URI",
    "ECS_CONTAINER_METADATA_URI_V4",
)

# The Bash tool runs bash, whatever else the image or machine has: Claude Code picks zsh when it
# finds one, and scripts written for bash (`/dev/tcp`, arrays, `shopt`) would then fail.
AGENT_SHELL = {"CLAUDE_CODE_SHELL": "/bin/bash"}


def build_options(request: "AgentRequest", stderr: Callable[[str], None],
                  can_use_tool: Callable | None = None, *, gateway_metered: bool = False) -> ClaudeAgentOptions:
    """``gateway_metered``: a model gateway meters the CLI's calls as they stream (confinement.py)."""
    return ClaudeAgentOptions(
        cwd=request.cwd,
        model=request.model,
        system_prompt=_system_prompt(request.system_prompt),
        allowed_tools=list(request.allowed_tools),
        disallowed_tools=list(request.disallowed_tools),
        permission_mode=request.permission_mode,  # type: ignore[arg-type]  # the CLI validates it
        # No filesystem settings unless the project opted in: a settings file left in the workspace
        # (by an earlier run, a repository) could run hooks or widen what the agent may do.
        setting_sources=["project"] if request.project_settings else [],
        max_turns=request.max_turns,
        resume=request.resume_session_id,
        max_budget_usd=request.max_cost_usd,
        env={**dict.fromkeys(EXECUTOR_ONLY_ENV, ""), **AGENT_SHELL, **request.env, **_config_dir(request)},
        cli_path=request.cli_path,
        session_store=request.session_store,
        max_buffer_size=MAX_MESSAGE_BYTES,
        # The stream's message_delta events carry each call's output tokens as they are written;
        # the budget check needs them (usage.UsageMeter) unless a gateway meters the calls. They
        # are never relayed, and cost the CLI and the relay about three lines per block.
        include_partial_messages=not gateway_metered,
        stderr=stderr,
        # What the permission mode and rules leave undecided is asked of the team (steering.py).
        can_use_tool=can_use_tool,
    )


def _config_dir(request: "AgentRequest") -> dict[str, str]:
    return {"CLAUDE_CONFIG_DIR": request.claude_config_dir} if request.claude_config_dir else {}


def _system_prompt(extra: str | None) -> dict:
    # Claude Code's own prompt carries its tool-use instructions; replacing it (the SDK's
    # default is an empty prompt) cripples the agent, so a project's prompt is appended.
    preset: dict = {"type": "preset", "preset": "claude_code"}
    if extra:
        preset["append"] = extra
    return preset


def stderr_logger(logger: logging.Logger, scrub: Callable[[str], str]) -> Callable[[str], None]:
    """The CLI's stderr, line by line, into the debug log with secrets masked."""

    def log_line(line: str) -> None:
        logger.debug("claude stderr: %s", scrub(line))

    return log_line
