"""Medians, p99s and table rows."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Iterable[float]) -> dict[str, float]:
    """The two figures every timing is reported with, plus how many samples they came from."""
    values = list(values)
    return {"median": percentile(values, 50), "p99": percentile(values, 99), "n": len(values)}


@dataclass
class Row:
    what: str
    result: str
    budget: str
    ok: bool | None  # None: reported, no budget to hold

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[ok]
