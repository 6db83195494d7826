"""What the executor asks of an agent run, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_agent_sdk import SessionStore

STATUSES = ("completed", "failed", "cancelled", "timeout", "budget_exceeded")


@dataclass(frozen=True)
class AgentRequest:
    prompt: str
    cwd: str
    model: str | None = None
    system_prompt: str | None = None  # appended to Claude Code's own system prompt
    allowed_tools: list[str] = field(default_factory=list)
    disallowed_tools: list[str] = field(default_factory=list)
    permission_mode: str | None = None
    project_settings: bool = False  # load the workspace's .claude/settings.json and CLAUDE.md
    max_turns: int | None = None
    resume_session_id: str | None = None
    max_tokens: int | None = None  # input + output + cache-write tokens
    max_cost_usd: float | None = None
    timeout_seconds: int = 900
    env: dict[str, str] = field(default_factory=dict, repr=False)  # secrets: never log values
    cli_path: str | None = None  # None: the CLI bundled with claude-agent-sdk
    session_store: "SessionStore | None" = None
    claude_config_dir: str | None = None  # None: the CLI's default (or CLAUDE_CONFIG_DIR inherited)


@dataclass(frozen=True)
class AgentOutcome:
    status: str  # one of STATUSES
    usage: dict[str, Any]  # inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens
    cost_usd: float
    duration_ms: int
    num_turns: int
    session_id: str | None
    error: str | None = None
