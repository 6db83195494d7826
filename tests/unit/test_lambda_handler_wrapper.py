"""observability.lambda_handler: what it costs a cold start, and what it does outside Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloutagent.observability import lambda_handler, tracer
from cloutagent.settings import reset_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("function", ["projects", "stripe_webhook", "task_state"])
def test_importing_a_handler_in_lambda_loads_neither_x_ray_nor_botocore(function, tmp_path):
    # GIVEN Lambda's environment (tracing on)
    env = {**os.environ, "LAMBDA_TASK_ROOT": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/cloutagent/python")])}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    # WHEN the handler module is imported (Lambda's init, what bench/cold_start.py times)
    code = (f"import sys, functions.{function}.handler; "
            "print(json.dumps([m for m in ('aws_xray_sdk', 'botocore.client') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", "import json; " + code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    # THEN the tracer waits for the first invocation: the import costs what it did without tracing
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_outside_lambda_no_tracer_is_built_and_the_handler_runs_as_written(monkeypatch):
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    reset_settings()
    tracer.cache_clear()
    calls = []

    @lambda_handler(correlation_id_path="requestContext.requestId")
    def handler(event, context=None):
        calls.append((event, context))
        return {"ok": True}

    assert handler({"a": 1}, "ctx") == {"ok": True} and calls == [({"a": 1}, "ctx")]
    assert handler.__name__ == "handler"
    assert tracer() is None
