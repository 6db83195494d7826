"""The shared definitions (routes, table, plans) as data, read by infra/ and the local stack."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    return json.loads((DEFINITIONS_DIR / f"{name}.json").read_text())


def routes() -> dict[str, Any]:
    return load("routes")


def function_environment() -> dict[str, str]:
    """The variables every function runs with (beyond its own settings)."""
    return {name: value for name, value in routes()["functionEnvironment"].items() if not name.startswith("_")}


def table() -> dict[str, Any]:
    return load("table")


def plans() -> dict[str, Any]:
    return load("plans")
