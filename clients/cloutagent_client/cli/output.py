"""What commands print: tables for people, JSON lines (``--json``) for scripts; errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, TextIO

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
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        for r in cells:
            self.line("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())

    def error(self, exc: CloutagentError) -> None:
        if self.json:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}),
                  file=self.stderr, flush=True)
        else:
            print(f"cloutagent: {exc.message} ({exc.code})", file=self.stderr, flush=True)
            for problem in exc.details.get("errors") or []:  # which fields a BAD_REQUEST is about
                print(f"  {problem.get('field')}: {problem.get('problem')}", file=self.stderr, flush=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
