"""Cold start: import each function's handler module in a fresh interpreter, vs `import boto3`.

Models build their validators on first use (``defer_build``), so a handler's import alone would
flatter: each function is timed until the request models of every action it serves are built too,
which is what its first request pays on top of the import (minus the AWS calls).

Runs are interleaved (boto3, f1, f2, …, boto3, f1, …) so machine noise hits every target alike.
The interpreter sees the Lambda layout: the repo root (functions/) and the layer's python/ first
on the path, as /var/task and /opt/python are in Lambda.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from bench.stack import REPO_ROOT
from bench.stats import Row, summary
from cloutagent import definitions

REPEATS = 10
BUDGET_RATIO = 1.5
BASELINE = "boto3"


def handler_modules() -> dict[str, str]:
    """Every function in routes.json → its handler module."""
    return {name: spec["handler"].rpartition(".")[0] for name, spec in definitions.routes()["functions"].items()}


def _exists(module: str) -> bool:
    return (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file()


# Import the module; then build every action's request model its WebSocketApp registered.
READY = """import importlib
app = getattr(importlib.import_module({module!r}), "app", None)
for route in getattr(app, "routes", {{}}).values():
    route.model.model_rebuild()
"""


def _time_import(module: str, env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", READY.format(module=module)], env=env, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def run() -> dict:
    modules = handler_modules()
    present = {name: m for name, m in modules.items() if _exists(m)}
    missing = sorted(set(modules) - set(present))
    targets = {BASELINE: "boto3", **present}
    env = {**os.environ, **definitions.function_environment(), "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "layers/cloutagent/python")])}
    env.pop("AWS_ENDPOINT_URL", None)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    with tempfile.TemporaryDirectory() as cwd:
        for module in targets.values():  # warm-up: bytecode caches written, disk cache hot
            _time_import(module, env, cwd)
        for _ in range(REPEATS):
            for name, module in targets.items():
                samples[name].append(_time_import(module, env, cwd))

    stats = {name: summary(values) for name, values in samples.items()}
    base = stats[BASELINE]["median"]
    rows = [Row("cold start: python -c 'import boto3' (baseline)",
                f"{base * 1000:.0f} ms median, {stats[BASELINE]['p99'] * 1000:.0f} ms p99", "-", None)]
    for name in present:
        s = stats[name]
        ratio = s["median"] / base
        rows.append(Row(f"cold start: {name}",
                        f"{s['median'] * 1000:.0f} ms median, {s['p99'] * 1000:.0f} ms p99 = {ratio:.2f}× boto3",
                        f"≤ {BUDGET_RATIO}× boto3", ratio <= BUDGET_RATIO))
    for name in missing:
        rows.append(Row(f"cold start: {name}", f"not measured: {modules[name]} does not exist yet",
                        f"≤ {BUDGET_RATIO}× boto3", None))
    data = {name: {**s, "ratio": s["median"] / base, "module": targets[name]} for name, s in stats.items()}
    return {"rows": rows, "data": {"repeats": REPEATS, "targets": data, "missing": missing}}
