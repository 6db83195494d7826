"""The live status line of ``cloutagent run`` on stderr: state, elapsed time, tokens, cost.

On a terminal it is redrawn in place and cleared while output is printed; otherwise it prints
one line per state change, so logs stay readable.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from cloutagent_client.cli.render import Style, tokens

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StatusLine:
    def __init__(self, stream: TextIO, *, live: bool, style: Style):
        self.stream = stream
        self.live = live
        self.style = style
        self.started = time.monotonic()
        self.state = "starting"
        self.tokens: int | None = None
        self.cost: float | None = None
        self.held = False  # a prompt is on the terminal: do not draw over it
        self._frame = 0
        self._shown = False
        self._announced: str | None = None

    def update(self, *, state: str | None = None, usage: dict[str, Any] | None = None, cost: float | None = None) -> None:
        if state:
            self.state = state
        if usage is not None:
            self.tokens = tokens(usage)
        if cost is not None:
            self.cost = float(cost)
        if not self.live and self.state != self._announced:
            self._announced = self.state
            print(self.style.dim(f"… {self.state}"), file=self.stream, flush=True)

    def text(self) -> str:
        elapsed = time.monotonic() - self.started
        used = "— tokens" if self.tokens is None else f"{self.tokens:,} tokens"
        cost = "$—" if self.cost is None else f"${self.cost:.4f}"
        return f"{self.state} · {elapsed:.1f}s · {used} · {cost}"

    def draw(self) -> None:
        if not self.live or self.held:
            return
        self._frame = (self._frame + 1) % len(_SPINNER)
        self.stream.write(f"\r\x1b[2K{self.style.cyan(_SPINNER[self._frame])} {self.style.dim(self.text())}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self.live and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False

    def finish(self, line: str) -> None:
        self.clear()
        print(line, file=self.stream, flush=True)
