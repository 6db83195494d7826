"""Reconnect delays: exponential, capped, with jitter so a fleet of clients does not stampede."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float, maximum: float, *, rng: random.Random | None = None):
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()  # nosec B311: jitter spreads reconnects, it guards no secret

    def next_delay(self) -> float:
        """Half of the exponential step is fixed, the other half random ("equal jitter")."""
        step = min(self.maximum, self.initial * 2 ** self.attempt)
        self.attempt += 1
        return step / 2 + self._rng.uniform(0, step / 2)

    def reset(self) -> None:
        self.attempt = 0
