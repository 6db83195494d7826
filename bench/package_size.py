"""Deployment sizes, unzipped: each function's asset and the shared layer.

A function's asset is functions/__init__.py + functions/<name>/ (infra/constructs/functions.py).
The layer is the whole cloutagent runtime package (infra/constructs/layers.py), plus
pyproject's [project].dependencies resolved from the installed site-packages with their extras
and transitive dependencies, minus what the Lambda runtime already has (boto3 and its own deps).
Bytecode is excluded everywhere, as the assets exclude it and the layer is built with --no-compile.
Installed wheels are this machine's (not Lambda's linux-aarch64/cp312), so the layer is approximate.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench.awscount import LAYER
from bench.cold_start import handler_modules
from bench.stack import REPO_ROOT
from bench.stats import Row

FUNCTION_BUDGET = 64 * 1024
LAYER_BUDGET = 25 * 1024 * 1024
IN_LAMBDA_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}


def _shipped(path: Path) -> bool:
    return path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if _shipped(p))


def function_sizes() -> dict[str, int | None]:
    init = (REPO_ROOT / "functions/__init__.py").stat().st_size
    sizes: dict[str, int | None] = {}
    for name in handler_modules():
        folder = REPO_ROOT / "functions" / name
        sizes[name] = init + _tree_bytes(folder) if folder.is_dir() else None
    return sizes


def runtime_distributions() -> dict[str, set[str]]:
    """Every distribution the layer ships → the extras asked of it, resolved transitively."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        wanted = [Requirement(r) for r in tomllib.load(fh)["project"]["dependencies"]]
    found: dict[str, set[str]] = {}
    while wanted:
        req = wanted.pop()
        name = canonicalize_name(req.name)
        if name in IN_LAMBDA_RUNTIME or (name in found and set(req.extras) <= found[name]):
            continue
        found.setdefault(name, set()).update(req.extras)
        for raw in metadata.distribution(name).requires or []:
            dep = Requirement(raw)
            extras = found[name] or {""}
            if dep.marker is None or any(dep.marker.evaluate({**default_environment(), "extra": e}) for e in extras):
                wanted.append(dep)
    return found


def distribution_bytes(name: str) -> int:
    files = metadata.distribution(name).files or []
    # Entries outside site-packages (console scripts in bin/) do not go into the layer.
    return sum(f.size or 0 for f in files
               if not str(f).startswith("..") and "__pycache__" not in f.parts and f.suffix != ".pyc")


def run() -> dict:
    functions = function_sizes()
    measured = {n: s for n, s in functions.items() if s is not None}
    domain = _tree_bytes(LAYER)
    deps = {name: distribution_bytes(name) for name in sorted(runtime_distributions())}
    layer = domain + sum(deps.values())
    largest = max(measured, key=measured.get)
    biggest_deps = sorted(deps.items(), key=lambda kv: -kv[1])[:4]
    missing = sorted(set(functions) - set(measured))
    rows = [
        Row(f"package: each function asset ({len(measured)} functions)",
            f"largest {measured[largest] / 1024:.1f} KB ({largest}), smallest {min(measured.values()) / 1024:.1f} KB"
            + (f"; no folder yet: {', '.join(missing)}" if missing else ""),
            "≤ 64 KB each", max(measured.values()) <= FUNCTION_BUDGET),
        Row("package: shared layer (domain + runtime deps)",
            f"{layer / 2**20:.1f} MB: domain {domain / 2**20:.2f} MB + {len(deps)} distributions "
            f"({', '.join(f'{n} {b / 2**20:.1f}' for n, b in biggest_deps)} MB, …)",
            "≤ 25 MB", layer <= LAYER_BUDGET),
    ]
    return {"rows": rows, "data": {"functions": functions, "domainBytes": domain, "dependencies": deps,
                                   "layerBytes": layer}}
