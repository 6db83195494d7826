"""Fixtures that run the real bundled Claude Code CLI, through the SDK, against the scripted model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from claude_agent_sdk import AssistantMessage, ClaudeAgentOptions, ResultMessage, SystemMessage, UserMessage, query
from claude_agent_sdk.types import TextBlock, ToolResultBlock, ToolUseBlock

from cloutagent_dev.model import ScriptedModel, cli_env


@dataclass
class Arrival:
    """An SDK message and the wall-clock time it reached the caller."""

    at: float
    message: Any


@dataclass
class Run:
    """Everything one CLI run produced."""

    arrivals: list[Arrival] = field(default_factory=list)
    error: BaseException | None = None
    started: float = 0.0
    ended: float = 0.0

    @property
    def messages(self) -> list[Any]:
        return [a.message for a in self.arrivals]

    @property
    def init(self) -> SystemMessage:
        return next(m for m in self.messages if isinstance(m, SystemMessage) and m.subtype == "init")

    @property
    def result(self) -> ResultMessage | None:
        return next((m for m in self.messages if isinstance(m, ResultMessage)), None)

    def texts(self) -> list[str]:
        return [b.text for m in self.messages if isinstance(m, AssistantMessage)
                for b in m.content if isinstance(b, TextBlock)]

    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for m in self.messages if isinstance(m, AssistantMessage)
                for b in m.content if isinstance(b, ToolUseBlock)]

    def tool_results(self) -> list[ToolResultBlock]:
        return [b for m in self.messages if isinstance(m, UserMessage) and isinstance(m.content, list)
                for b in m.content if isinstance(b, ToolResultBlock)]

    def text_arrivals(self) -> list[tuple[float, str]]:
        return [(a.at, b.text) for a in self.arrivals if isinstance(a.message, AssistantMessage)
                for b in a.message.content if isinstance(b, TextBlock)]


@pytest.fixture
def scripted_model():
    """A fresh scripted model per test, so its recorded requests are that test's alone."""
    with ScriptedModel() as model:
        yield model


@pytest.fixture
def options(scripted_model: ScriptedModel, tmp_path: Path) -> Callable[..., ClaudeAgentOptions]:
    """Build ClaudeAgentOptions for a CLI that can only reach the scripted model.

    Each call gets its own working directory unless ``cwd`` is given; the CLI's config (sessions,
    shell snapshots) lives under tmp_path, never in the real home. IS_SANDBOX=1 lets the CLI run
    bypassPermissions as root.
    """
    counter = iter(range(1_000_000))

    def make(*, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs: Any) -> ClaudeAgentOptions:
        work = cwd or tmp_path / f"work{next(counter)}"
        work.mkdir(parents=True, exist_ok=True)
        full_env = cli_env(scripted_model.base_url, IS_SANDBOX="1", CLAUDE_CONFIG_DIR=str(tmp_path / "config"))
        full_env.update(env or {})
        kwargs.setdefault("permission_mode", "bypassPermissions")
        return ClaudeAgentOptions(env=full_env, cwd=str(work), **kwargs)

    return make


async def run_cli(prompt: str, options: ClaudeAgentOptions) -> Run:
    """One-shot ``query()``: collect every message with its arrival time, and how the run ended."""
    run = Run(started=time.time())
    try:
        async for message in query(prompt=prompt, options=options):
            run.arrivals.append(Arrival(time.time(), message))
    except Exception as error:  # the SDK raises after an error result, or when the CLI dies
        run.error = error
    run.ended = time.time()
    return run


@pytest.fixture
def cli() -> Callable[[str, ClaudeAgentOptions], Any]:
    return run_cli
