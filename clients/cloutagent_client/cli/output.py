"""What commands print: tables for people, JSON lines (``--json``) for scripts; errors on stderr."""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from typing import Any, Callable, Iterable, TextIO, TypeVar

from cloutagent_client.errors import CloutagentError


class Output:
    def __init__(self, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.json = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def line(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """For people only: stderr, and nothing in --json mode's stdout."""
        print(text, file=self.stderr, flush=True)

    def item(self, value: Any) -> None:
        print(json.dumps(value, ensure_ascii=False, separators=(",", ":")), file=self.stdout, flush=True)

    def result(self, value: Any, text: str) -> None:
        """One result: as a JSON line, or as the given text."""
        self.item(value) if self.json else self.line(text)

    def table(self, rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
        """``columns`` are (header, key); in --json mode each row is a JSON line instead."""
        rows = list(rows)
        if self.json:
            for row in rows:
                self.item(row)
            return
        cells = [[h for h, _ in columns]] + [[_cell(row.get(k)) for _, k in columns] for row in rows]
        widths = [max(display_width(r[i]) for r in cells) for i in range(len(columns))]
        for r in cells:
            self.line("  ".join(c + " " * (w - display_width(c)) for c, w in zip(r, widths)).rstrip())

    def error(self, exc: CloutagentError) -> None:
        if self.json:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}),
                  file=self.stderr, flush=True)
        else:
            print(f"cloutagent: {exc.message} ({exc.code})", file=self.stderr, flush=True)
            for problem in exc.details.get("errors") or []:  # which fields a BAD_REQUEST is about
                print(f"  {problem.get('field')}: {problem.get('problem')}", file=self.stderr, flush=True)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK, most emoji) count 2, combining marks and
    zero-width joiners 0."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char) or char in "\u200c\u200d\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return shown(str(value))


# Characters a terminal acts on or a reader cannot see: controls (ESC starts escape sequences,
# BEL rings, CR overwrites), format characters (U+202E reverses text, zero-width ones hide),
# line and paragraph separators. Text from the service (names, the agent's words, tool output)
# gets them as visible escapes, whatever the service let through. The service refuses them in
# names; the agent's output it cannot refuse.
_UNSHOWABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_LINE_BREAKS = frozenset("\n\t")


def shown(text: str, *, lines: bool = False) -> str:
    """``text`` safe to print on a terminal; ``lines`` keeps newlines and tabs."""
    if text.isascii() and text.isprintable():
        return text  # the usual case, at no cost
    keep = _LINE_BREAKS if lines else frozenset()
    return "".join(c if c in keep or unicodedata.category(c) not in _UNSHOWABLE or _joins(text, i)
                   else _escaped(c) for i, c in enumerate(text))


def _joins(text: str, i: int) -> bool:
    """A zero-width (non-)joiner between two non-ASCII characters joins them (emoji, scripts)."""
    return text[i] in "\u200c\u200d" and 0 < i < len(text) - 1 and not text[i - 1].isascii() \
        and not text[i + 1].isascii()


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown_data(value: Any) -> Any:
    """Every string in ``value`` (a frame's data) made safe to print, lines kept."""
    if isinstance(value, str):
        return shown(value, lines=True)
    if isinstance(value, dict):
        return {k: shown_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown_data(v) for v in value]
    return value


F = TypeVar("F", bound=Callable[..., Any])


def on_shown_data(render: F) -> F:
    """For a renderer whose first argument is service data: it only ever sees that data made safe."""
    @functools.wraps(render)
    def safe(data: Any, *args: Any, **kwargs: Any) -> Any:
        return render(shown_data(data), *args, **kwargs)

    return safe  # type: ignore[return-value]
