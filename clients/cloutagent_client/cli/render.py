"""Readable text for events: what the agent says, the tools it calls, what they return."""

from __future__ import annotations

import json
from typing import Any

_TOOL_ARGUMENT = {"Bash": "command", "Read": "file_path", "Write": "file_path", "Edit": "file_path",
                  "Glob": "pattern", "Grep": "pattern", "WebFetch": "url", "WebSearch": "query", "Task": "description"}
_RESULT_LINES = 4


class Style:
    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


def short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_call(name: str, arguments: Any) -> str:
    key = _TOOL_ARGUMENT.get(name)
    if isinstance(arguments, dict) and key and isinstance(arguments.get(key), str):
        return f"{name}({short(arguments[key], 80)})"
    return f"{name}({short(arguments or {}, 80)})"


def result_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return json.dumps(content, ensure_ascii=False)


def message(data: dict[str, Any], style: Style) -> str | None:
    """One ``execution.message`` as text for the terminal, or None for what readers skip."""
    kind = data.get("kind")
    if kind == "text":
        text = data.get("text", "")
        return text if data.get("role") == "assistant" else style.dim(f"› {text}")
    if kind == "thinking":
        return style.dim(f"✻ {short(data.get('thinking', ''), 200)}")
    if kind == "tool_use":
        return style.cyan(f"⏺ {tool_call(str(data.get('name')), data.get('input'))}")
    if kind == "tool_result":
        lines = result_text(data.get("content")).strip().splitlines() or ["(no output)"]
        hidden = len(lines) - _RESULT_LINES
        shown = lines[:_RESULT_LINES] + ([f"… (+{hidden} lines)"] if hidden > 0 else [])
        body = "\n".join(("  ⎿ " if i == 0 else "    ") + line for i, line in enumerate(shown))
        return style.red(body) if data.get("isError") else style.dim(body)
    if kind == "system" and data.get("subtype") in ("api_error", "rate_limit"):
        detail = {k: v for k, v in data.items() if k not in ("kind", "subtype", "executionId")}
        return style.red(f"! {data.get('subtype')}: {short(detail)}")
    return None  # init, result and other bookkeeping: the status line covers them


def event_line(event: dict[str, Any], style: Style) -> str | None:
    """One stored event for ``cloutagent logs``: seq, time, and what happened."""
    data = event.get("data") or {}
    head = style.dim(f"#{event.get('seq')} {str(event.get('ts', ''))[11:19]}")
    name = event.get("event")
    if name == "execution.message":
        text = message(data, style)
        return None if text is None else f"{head} {text}"
    if name == "execution.started":
        return f"{head} {style.bold('▶ run ' + str(data.get('executionId')))} {short(data.get('promptPreview', ''), 80)}"
    if name == "execution.finished":
        return f"{head} {style.bold('■ ' + str(data.get('status')))} {summary(data)}"
    if name == "project.state":
        return f"{head} {style.dim('state ' + str(data.get('state')))}"
    return f"{head} {style.dim(str(name))} {style.dim(short({k: v for k, v in data.items() if k != 'project'}, 80))}"


def tokens(usage: dict[str, Any] | None) -> int:
    usage = usage or {}
    return sum(int(usage.get(k) or 0) for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"))


def summary(finished: dict[str, Any]) -> str:
    parts = [f"{(finished.get('durationMs') or 0) / 1000:.1f}s", f"{tokens(finished.get('usage')):,} tokens",
             f"${float(finished.get('costUsd') or 0):.4f}"]
    if finished.get("error"):
        parts.append(short(finished["error"], 160))
    return " · ".join(parts)
