"""Readable text for events: what the agent says, the tools it calls, what they return."""

from __future__ import annotations

import json
import os
import re
from typing import Any, TextIO

from cloutagent_client.cli.output import on_shown_data
from cloutagent_client.steering import questions

TOOL_ARGUMENT = {"Bash": "command", "Read": "file_path", "Write": "file_path", "Edit": "file_path",
                  "Glob": "pattern", "Grep": "pattern", "WebFetch": "url", "WebSearch": "query", "Task": "description"}
_RESULT_LINES = 4


class TerminalMarkdown:
    """The agent's Markdown as a terminal shows it (rich): headings, lists, code blocks. Only on
    a terminal; a pipe or a file gets the text as it came."""

    def __init__(self, stream: TextIO):
        from rich.console import Console

        self.console = Console(file=stream, force_terminal=True, highlight=False, emoji=False,
                               no_color=bool(os.environ.get("NO_COLOR")))

    @classmethod
    def for_stream(cls, stream: TextIO, *, json_mode: bool = False) -> "TerminalMarkdown | None":
        return cls(stream) if stream.isatty() and not json_mode else None

    def render(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console.print(Markdown(text))  # text already made safe: escapes are visible, not sent


class Style:
    def __init__(self, color: bool):
        self.color = color

    @classmethod
    def for_stream(cls, stream: TextIO, *, json_mode: bool = False) -> "Style":
        """Colour on a terminal only, and never with --json or NO_COLOR (https://no-color.org)."""
        return cls(color=stream.isatty() and not json_mode and not os.environ.get("NO_COLOR"))

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

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)


def short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_call(name: str, arguments: Any) -> str:
    key = TOOL_ARGUMENT.get(name)
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


@on_shown_data
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


@on_shown_data
def event_line(event: dict[str, Any], style: Style, kinds: dict[str, str] | None = None) -> str | None:
    """One stored event for ``cloutagent logs``: seq, time, and what happened. ``kinds`` (request id
    -> ``permission`` or ``question``) lets a resolution say "answered" for a question."""
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
    if name == "execution.git":
        return f"{head} {git_summary(data, style)}"
    if name == "project.state":
        return f"{head} {style.dim('state ' + str(data.get('state')))}"
    steering = steering_line(event, style, kinds)
    if steering is not None:
        return f"{head} {steering}"
    return f"{head} {style.dim(str(name))} {style.dim(short({k: v for k, v in data.items() if k != 'project'}, 80))}"


@on_shown_data
def request_line(data: dict[str, Any], style: Style) -> str:
    """A permission request in one line: ``? allow Bash(ls)? · pr_…``, or a question and its options."""
    if data.get("kind") == "question":
        asked = [f"{q.get('question', '?')} ({' / '.join(str(o.get('label')) for o in q.get('options') or [])})"
                 for q in questions(data)]
        return f"{style.yellow('? ' + short('; '.join(asked) or 'a question', 160))} · {data.get('requestId')}"
    call = tool_call(str(data.get("toolName")), data.get("input"))
    return f"{style.yellow(f'? allow {call}?')} · {data.get('requestId')}"


@on_shown_data
def waiting_line(data: dict[str, Any], project_id: str, style: Style) -> str:
    """A request this terminal does not ask about, and how to answer it from elsewhere."""
    request_id = data.get("requestId")
    how = (f'cloutagent answer {project_id} {request_id} --answer "QUESTION=ANSWER"' if data.get("kind") == "question"
           else f"cloutagent approve|deny {project_id} {request_id}")
    return f"{request_line(data, style)} {style.dim('— waiting for an answer: ' + how)}"


@on_shown_data
def resolved_line(data: dict[str, Any], style: Style, kind: str | None = None) -> str:
    """How a request was resolved: ``✓ pr_… allowed by u_…``, ``✗ pr_… denied: timeout``, …"""
    request_id = data.get("requestId")
    if data.get("reason") == "timeout":
        return style.red(f"✗ {request_id} denied: timeout (nobody answered)")
    if data.get("reason") == "cancelled":
        return style.red(f"✗ {request_id} cancelled with the run")
    by = f" by {data.get('by')}" if data.get("by") else ""
    if data.get("decision") == "allow":
        verb = "answered" if kind == "question" else "allowed for this run" if data.get("scope") == "run" else "allowed"
        return style.green(f"✓ {request_id} {verb}{by}")
    told = f": {short(data['message'], 160)}" if data.get("message") else ""
    return style.red(f"✗ {request_id} denied{by}{told}")


@on_shown_data
def steering_line(event: dict[str, Any], style: Style, kinds: dict[str, str] | None = None) -> str | None:
    """A steering event (request, resolution, follow-up, interrupt) as text, None for any other."""
    data = event.get("data") or {}
    name = event.get("event")
    if name == "permission.request":
        return request_line(data, style)
    if name == "permission.resolved":
        return resolved_line(data, style, (kinds or {}).get(str(data.get("requestId"))))
    if name == "execution.input":
        return style.dim(f"› follow-up from {data.get('by')}: {short(data.get('text', ''), 160)}")
    if name == "execution.interrupt":
        return style.yellow(f"⏸ turn interrupted by {data.get('by')}")
    return None


def tokens(usage: dict[str, Any] | None) -> int:
    usage = usage or {}
    return sum(int(usage.get(k) or 0) for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"))


def summary(finished: dict[str, Any]) -> str:
    parts = [f"{(finished.get('durationMs') or 0) / 1000:.1f}s", f"{tokens(finished.get('usage')):,} tokens",
             f"${float(finished.get('costUsd') or 0):.4f}"]
    error, code = finished.get("error"), finished.get("errorCode")
    if error:  # "… (BRANCH_NOT_FOUND)", as the CLI prints any error
        parts.append(short(error, 160) + (f" ({code})" if code else ""))
    elif code:
        parts.append(str(code))
    return " · ".join(parts)


def git_summary(git: dict[str, Any], style: Style) -> str:
    """What a run delivered to its repository: ``⎇ branch · 1 file +1 -0 · <pull request URL>``."""
    head = f"⎇ {git.get('branch') or '?'}"
    if not git.get("headCommit"):
        return f"{head} · nothing changed"
    files = int(git.get("files") or 0)
    changed = (f"{files} file{'' if files == 1 else 's'} {style.green('+' + str(int(git.get('insertions') or 0)))} "
               f"{style.red('-' + str(int(git.get('deletions') or 0)))}")
    parts = [head, changed]
    if git.get("pullRequestUrl"):
        parts.append(str(git["pullRequestUrl"]))
    elif not git.get("pushed"):
        parts.append("not pushed")
    return " · ".join(parts)


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


class DiffLines:
    """Which part of a unified diff each line is: ``header``, ``hunk``, ``added``, ``removed`` or
    ``context``. A hunk is followed for as many lines as its ``@@`` says, so a removed line that
    reads ``--- x`` is not taken for a file header. Feed the lines in order, across pages."""

    def __init__(self) -> None:
        self._old = self._new = 0

    def kind(self, line: str) -> str:
        if self._old <= 0 and self._new <= 0:
            found = _HUNK.match(line)
            if not found:
                return "header"
            self._old, self._new = (int(n) if n is not None else 1 for n in found.groups())
            return "hunk"
        if line.startswith("\\"):  # "\ No newline at end of file"
            return "context"
        if line.startswith("+"):
            self._new -= 1
            return "added"
        if line.startswith("-"):
            self._old -= 1
            return "removed"
        self._old -= 1
        self._new -= 1
        return "context"


def diff_line(line: str, kind: str, style: Style) -> str:
    painted = {"added": style.green, "removed": style.red, "hunk": style.cyan, "header": style.bold}.get(kind)
    return painted(line) if painted else line
