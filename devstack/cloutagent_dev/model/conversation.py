"""Read a Messages API request for what the script needs: the prompt, progress, tools and cwd.

The server keeps no state between requests: where the script stands is read off the
conversation the CLI sends each time, so concurrent runs and resumed sessions just work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)
_CWD = re.compile(r"Primary working directory: *(\S[^\n]*)")

# Texts the CLI itself puts in user messages; they continue a turn, they are not a new prompt.
_SYNTHETIC_PREFIXES = (
    "[Request interrupted by user",
    "[Your previous response had no visible output",
    "Output token limit hit",
)


@dataclass(frozen=True)
class ToolResult:
    """What a tool call came back with, as the model sees it."""

    tool_use_id: str
    text: str
    is_error: bool


@dataclass
class Conversation:
    """The request as the script sees it."""

    model: str
    prompt: str  # the user's own text of the prompt being answered
    calls_answered: int  # assistant replies already given to this prompt
    earlier_messages: int  # user/assistant messages before this prompt (resume, follow-ups)
    last_results: list[ToolResult] = field(default_factory=list)  # after the latest reply
    tools: list[str] = field(default_factory=list)
    cwd: str | None = None
    system: str = ""

    @property
    def last_result(self) -> ToolResult | None:
        return self.last_results[-1] if self.last_results else None


def read_conversation(body: dict[str, Any]) -> Conversation:
    messages = _dicts(body.get("messages"))
    turns = [m for m in messages if m.get("role") in ("user", "assistant")]
    prompt_at = _last_prompt_index(turns)
    after = turns[prompt_at + 1:] if prompt_at >= 0 else turns
    return Conversation(
        model=str(body.get("model") or ""),
        prompt=human_text(turns[prompt_at]) if prompt_at >= 0 else "",
        calls_answered=sum(1 for m in after if m.get("role") == "assistant"),
        earlier_messages=max(prompt_at, 0),
        last_results=_results_after_last_reply(turns),
        tools=tool_names(body),
        cwd=_find_cwd(body, messages),
        system=system_text(body),
    )


def tool_names(body: dict[str, Any]) -> list[str]:
    return [str(t["name"]) for t in _dicts(body.get("tools")) if t.get("name")]


def system_text(body: dict[str, Any]) -> str:
    """The system prompt as one string, whether sent as a string or as text blocks."""
    system = body.get("system")
    if isinstance(system, str):
        return system
    return "\n".join(_texts(system))


def human_text(message: dict[str, Any]) -> str:
    """The user's own words in a message: text blocks minus system reminders and CLI markers."""
    texts = [_REMINDER.sub("", text).strip() for text in _texts(message.get("content"))]
    return "\n".join(t for t in texts if t and not t.startswith(_SYNTHETIC_PREFIXES))


def _dicts(value: Any) -> list[dict[str, Any]]:
    # Whatever arrives is read defensively: a malformed request must not break the server.
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _texts(content: Any) -> list[str]:
    """The text of a content field: a plain string, or its text blocks."""
    if isinstance(content, str):
        return [content]
    return [b["text"] for b in _dicts(content) if b.get("type") == "text" and isinstance(b.get("text"), str)]


def _last_prompt_index(turns: list[dict[str, Any]]) -> int:
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].get("role") == "user" and human_text(turns[index]):
            return index
    return -1


def _results_after_last_reply(turns: list[dict[str, Any]]) -> list[ToolResult]:
    results: list[ToolResult] = []
    for message in reversed(turns):
        if message.get("role") == "assistant":
            break
        results[:0] = _tool_results(message.get("content"))
    return results


def _tool_results(content: Any) -> list[ToolResult]:
    return [
        ToolResult(str(b.get("tool_use_id", "")), _result_text(b.get("content")), bool(b.get("is_error")))
        for b in _dicts(content)
        if b.get("type") == "tool_result"
    ]


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(_texts(content))


def _find_cwd(body: dict[str, Any], messages: list[dict[str, Any]]) -> str | None:
    # The CLI states its working directory in an environment section: in the system prompt
    # in some versions, in a mid-conversation "system" message in others.
    sources = [system_text(body)] + ["\n".join(_texts(m.get("content"))) for m in messages]
    for source in sources:
        match = _CWD.search(source)
        if match:
            return match.group(1).strip()
    return None
