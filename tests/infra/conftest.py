"""Synthesis fixtures for the infrastructure tests.

Synthesis takes seconds, so each module synthesizes once (module-scoped ``synth``) and modules
asking for the same context share that one result. The context is cdk.json's, so the tests check
what a deploy gets, minus what would make synthesis non-hermetic (see ``synthesis.HERMETIC``), and
with placeholder handlers for every function in routes.json under a temporary ``functionsRoot``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Callable

import pytest

# jsii warns on every start that Node 20 is past end of life; not something these tests can fix.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from infra.definitions import Definitions, load_definitions  # noqa: E402
from tests.infra.synthesis import Synth, hermetic_context, synthesize, write_placeholder_functions  # noqa: E402


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return load_definitions()


@pytest.fixture(scope="session")
def functions_root(tmp_path_factory: pytest.TempPathFactory, definitions: Definitions) -> Path:
    return write_placeholder_functions(tmp_path_factory.mktemp("functions-root"), definitions)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory, functions_root: Path) -> Callable[..., Synth]:
    """``synthesized(**context_overrides) -> Synth``; one synthesis per distinct context."""

    @cache
    def by_context(overrides: str) -> Synth:
        context = hermetic_context(functions_root, **json.loads(overrides))
        return synthesize(context, tmp_path_factory.mktemp("cdk.out"))

    def synthesized(**overrides: Any) -> Synth:
        return by_context(json.dumps(overrides, sort_keys=True))

    return synthesized


@pytest.fixture(scope="module")
def synth(synthesized: Callable[..., Synth]) -> Synth:
    return synthesized()
