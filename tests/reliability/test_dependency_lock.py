"""What ships is what was locked: the hashed locks agree with pyproject.toml, and both the Lambda
layers and the executor image install from them with every hash checked.

A pyproject.toml edit without `make lock` fails here (the lock's recorded input hash no longer
matches), as does a lock whose pins no longer satisfy pyproject's ranges.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.definitions import REPO_ROOT
from infra.locks import BASE, LOCKS, Lock, layer_lock, pins, requirements, stale


def _target_environment(lock: Lock) -> dict[str, str]:
    """The marker environment of the lock's target (Linux arm64, its Python), not this machine's."""
    env = dict(default_environment())
    env.update(python_version=lock.python_version, python_full_version=f"{lock.python_version}.0",
               sys_platform="linux", platform_system="Linux", os_name="posix",
               platform_machine=lock.platform.split("-")[0], implementation_name="cpython",
               platform_python_implementation="CPython")
    return env


def test_every_lock_was_made_from_pyproject_toml_as_it_is():
    assert stale() == [], "pyproject.toml changed without `make lock`"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_each_requirement_of_pyproject_is_met_by_a_pin_of_its_lock(name):
    lock = LOCKS[name]
    pinned = pins(lock.path)
    environment = _target_environment(lock)
    for text in requirements(lock):
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        assert version, f"{lock.path.name}: {requirement.name} is not pinned"
        assert requirement.specifier.contains(version, prereleases=True), f"{lock.path.name}: {requirement} vs {version}"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_pin_is_exact_and_hashed(name):
    text = LOCKS[name].path.read_text()
    entries = re.split(r"\n(?=[^\s#])", text.split("\n", 1)[1])
    packages = [e for e in entries if "==" in e.split("\n")[0]]
    assert packages
    for entry in packages:
        assert "--hash=sha256:" in entry, entry.split("\n")[0]


def test_a_group_layer_pins_what_it_shares_with_the_shared_layer_at_the_same_version():
    shared = pins(layer_lock(BASE).path)
    for name, lock in LOCKS.items():
        if lock.constrained_by:
            both = set(pins(lock.path)) & set(shared)
            assert {p: pins(lock.path)[p] for p in both} == {p: shared[p] for p in both}, name


def test_editing_pyproject_toml_without_locking_again_is_caught(tmp_path):
    # GIVEN a copy of the repository's pyproject.toml and its locks, in agreement
    shutil.copytree(REPO_ROOT / "requirements", tmp_path / "requirements")
    pyproject = tmp_path / "pyproject.toml"
    text = (REPO_ROOT / "pyproject.toml").read_text()
    pyproject.write_text(text)
    assert stale(pyproject, tmp_path / "requirements") == []

    # WHEN a floor moves in a group that ships, and no one runs `make lock`
    assert '"stripe>=12.5,<17"' in text
    pyproject.write_text(text.replace('"stripe>=12.5,<17"', '"stripe>=13,<17"'))

    # THEN the billing layer's and the executor's locks are stale, and the others are not
    problems = stale(pyproject, tmp_path / "requirements")
    assert sorted(p.split(":")[0] for p in problems) == ["executor.lock", "lambda-billing.lock"]

    # AND a dev-only change ships nothing, so it stales nothing
    pyproject.write_text(text.replace('"mypy>=1.10"', '"mypy>=1.11"'))
    assert stale(pyproject, tmp_path / "requirements") == []


def test_the_lambda_layers_install_exactly_their_lock():
    from infra.bundling import PipInstall

    lock = layer_lock(BASE).path
    command = PipInstall(lock=lock, python_version="3.12", enabled=True).command(Path("/tmp/out"))
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(command)
    assert command[command.index("-r") + 1] == str(lock)


def test_the_locks_target_the_runtimes_the_stack_deploys():
    from infra.constructs.functions import LAMBDA_PYTHON_VERSION

    assert {LOCKS[n].python_version for n in LOCKS if n.startswith("lambda")} == {LAMBDA_PYTHON_VERSION}
    dockerfile = (REPO_ROOT / "executor_container/Dockerfile").read_text()
    image_python = re.search(r"ARG PYTHON_IMAGE=python:(\d+\.\d+)", dockerfile).group(1)
    assert LOCKS["executor"].python_version == image_python


def test_the_executor_image_installs_its_lock_with_hashes_and_nothing_resolved():
    dockerfile = (REPO_ROOT / "executor_container/Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements/executor.lock" in dockerfile
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    # every other install is the project itself, without dependencies
    assert all("--require-hashes" in i or "--no-deps ." in i for i in installs), installs
