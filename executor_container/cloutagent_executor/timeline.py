"""How a run's start was spent: one log line at the model's first output, with the moment each
step ended, in ms from the run's start (a launched executor's process start, a pool executor's
claim). Time to first event is a budget (`make bench`); this line says where it went.

One run per process (a pool executor exits after its claim), so the marks are the process's.
"""

from __future__ import annotations

import time

from cloutagent.observability import logger

_marks: dict[str, float] = {}
_started = [time.monotonic()]


def restart() -> None:
    """The run starts now (a pool executor's claim): what came before was waiting, not starting."""
    _marks.clear()
    _started[0] = time.monotonic()


def mark(step: str) -> None:
    """``step`` just ended; only its first end counts."""
    _marks.setdefault(step, time.monotonic())


def report_once(step: str) -> None:
    if step in _marks:
        return
    mark(step)
    logger.info("run start timeline",
                extra={"ms": {name: round((at - _started[0]) * 1000) for name, at in _marks.items()}})
