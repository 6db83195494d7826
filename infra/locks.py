"""The hashed locks of what ships: the Lambda layers and the executor image.

pyproject.toml says which versions the code accepts (ranges); ``requirements/*.lock`` say which
exact files ship, each pinned with its sha256, so two deploys of one commit ship the same bytes and
pip refuses a file that is not the one locked (``--require-hashes``). Each lock records the hash of
the inputs it was made from (the requirements, the Python and platform it is for), so a change to
pyproject.toml without a new lock is caught (tests/reliability/test_dependency_lock.py), not shipped.

    python -m infra.locks           # (make lock) lock again after a change to pyproject.toml
    python -m infra.locks --check   # exit 1 if a lock is missing or stale

Locking uses uv (a dev dependency): it resolves for the target's Python and platform, not the
machine's, and keeps the versions an existing lock already pins unless the inputs force a change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra.definitions import REPO_ROOT

LOCK_DIR = REPO_ROOT / "requirements"
BASE = "base"  # pyproject's [project].dependencies, as a group name
INPUT_HASH_PREFIX = "# input-sha256: "


@dataclass(frozen=True)
class Lock:
    name: str
    groups: tuple[str, ...]  # BASE and/or pyproject optional-dependency groups
    python_version: str
    platform: str  # uv's --python-platform
    # A group layer sits beside the shared layer in /opt/python: it takes the shared lock's pins as
    # constraints, so a package both carry is the same version in both.
    constrained_by: str | None = None

    @property
    def path(self) -> Path:
        return LOCK_DIR / f"{self.name}.lock"


# Lambda: Python 3.12 on arm64, Amazon Linux 2023 (glibc 2.34); infra/constructs/functions.py and
# infra/bundling.py name the same. The executor image: python:3.11-slim-bookworm on arm64 (glibc 2.36).
LAMBDA_PYTHON, LAMBDA_PLATFORM = "3.12", "aarch64-manylinux_2_34"
EXECUTOR_PYTHON, EXECUTOR_PLATFORM = "3.11", "aarch64-manylinux_2_36"

LOCKS: dict[str, Lock] = {
    "lambda": Lock("lambda", (BASE,), LAMBDA_PYTHON, LAMBDA_PLATFORM),
    "lambda-auth": Lock("lambda-auth", ("auth",), LAMBDA_PYTHON, LAMBDA_PLATFORM, constrained_by="lambda"),
    "lambda-billing": Lock("lambda-billing", ("billing",), LAMBDA_PYTHON, LAMBDA_PLATFORM, constrained_by="lambda"),
    # What executor_container/Dockerfile installs: the runtime, the executor and billing groups.
    "executor": Lock("executor", (BASE, "executor", "billing"), EXECUTOR_PYTHON, EXECUTOR_PLATFORM),
}


def layer_lock(group: str) -> Lock:
    """The lock a Lambda layer installs: the shared layer (``BASE``) or a dependency group's."""
    name = "lambda" if group == BASE else f"lambda-{group}"
    if name not in LOCKS:
        raise KeyError(f"no lock for dependency group {group!r}: add it to infra/locks.py LOCKS, then `make lock`")
    return LOCKS[name]


def requirements(lock: Lock, pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """The requirement strings a lock is made from, verbatim from pyproject.toml."""
    with pyproject.open("rb") as fh:
        project = tomllib.load(fh)["project"]
    found: list[str] = []
    for group in lock.groups:
        found += project["dependencies"] if group == BASE else project["optional-dependencies"][group]
    return tuple(found)


def input_hash(lock: Lock, pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    """What the lock was made from: its requirements, target, and the hash of its constraining lock."""
    material = {
        "requirements": sorted(requirements(lock, pyproject)),
        "python": lock.python_version,
        "platform": lock.platform,
        "constrained_by": input_hash(LOCKS[lock.constrained_by], pyproject) if lock.constrained_by else None,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def recorded_hash(path: Path) -> str | None:
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith(INPUT_HASH_PREFIX):
            return line.removeprefix(INPUT_HASH_PREFIX).strip()
    return None


def stale(pyproject: Path = REPO_ROOT / "pyproject.toml", lock_dir: Path = LOCK_DIR) -> list[str]:
    """Each lock that is missing or was made from other inputs than pyproject.toml's today."""
    problems = []
    for lock in LOCKS.values():
        path = lock_dir / lock.path.name
        recorded = recorded_hash(path)
        if recorded is None:
            problems.append(f"{path.name}: missing, or without its '{INPUT_HASH_PREFIX.strip()}' line")
        elif recorded != input_hash(lock, pyproject):
            problems.append(f"{path.name}: made from other requirements than pyproject.toml's")
    return problems


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of a lock (names normalized)."""
    found = {}
    for line in path.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, _, rest = line.partition("==")
            found[_normalize(name.split("[")[0])] = rest.split()[0].rstrip("\\").strip().split(";")[0]
    return found


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("uv is needed to lock (pip install uv, or make install)")
    return found


def write_lock(lock: Lock) -> None:
    """Resolve ``lock`` with uv for its target and write it with hashes and its input hash."""
    LOCK_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            _uv(), "pip", "compile", "-", "--quiet", "--generate-hashes", "--only-binary", ":all:",
            "--python-version", lock.python_version, "--python-platform", lock.platform,
            "--custom-compile-command", "make lock", "--output-file", str(lock.path),
        ]
        if lock.constrained_by:
            # uv takes constraints without hashes: the constraining lock's pins, one per line.
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text("".join(f"{n}=={v}\n" for n, v in pins(LOCKS[lock.constrained_by].path).items()))
            command += ["--constraint", str(constraints)]
        subprocess.run(command, input="\n".join(requirements(lock)) + "\n", text=True, check=True, cwd=REPO_ROOT)
    body = lock.path.read_text()
    header = (f"# What ships for '{lock.name}' ({', '.join(lock.groups)} of pyproject.toml; Python "
              f"{lock.python_version}, {lock.platform}). Made by `make lock`; edit pyproject.toml, never this.\n"
              f"{INPUT_HASH_PREFIX}{input_hash(lock)}\n")
    lock.path.write_text(header + body)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = stale()
        for problem in problems:
            print(f"{problem}: run `make lock`", file=sys.stderr)
        return 1 if problems else 0
    # The constrained locks after the locks they take their pins from.
    for lock in sorted(LOCKS.values(), key=lambda lock: lock.constrained_by is not None):
        write_lock(lock)
        print(f"locked {lock.path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
