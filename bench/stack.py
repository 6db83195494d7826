"""The real local stack (`cloutagent dev --port 0`) for one measurement, and ways to reach it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from bench.machine import children, cmdline, descendants, raise_nofile_limit, rss_mb, started_at
from tests.support.stack import RunningStack

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def local_stack(idle_seconds: int = 600) -> Iterator[RunningStack]:
    """A fresh stack per measurement: no measurement inherits another's table or connections.

    Its log is kept (path on stderr) when the measurement fails, or always with BENCH_KEEP_LOGS=1.
    """
    raise_nofile_limit()  # before the start: the stack process inherits it
    workdir = Path(tempfile.mkdtemp(prefix="cloutagent-bench-"))
    stack = RunningStack(workdir, extra_args=["--idle-timeout", str(idle_seconds)],
                         env={"PYTHONPATH": _pythonpath()})
    try:
        stack.start(timeout=90)
        yield stack
    except BaseException:
        print(f"bench: the stack's log, kept for the failure above: {stack.log_file}", file=sys.stderr)
        workdir = None
        raise
    finally:
        _stop(stack)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"bench: the stack's log: {stack.log_file}", file=sys.stderr)
        elif workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _stop(stack: RunningStack, grace_seconds: float = 5.0) -> None:
    """SIGTERM, then SIGKILL for the stack and every child (moto, executors) still there.

    The measurement is over: a stack whose clients have just left can spend a minute on their
    $disconnects (member.left for each, contending for the same seq) before SIGTERM gets through,
    and a killed `cloutagent dev` would leave its moto running.
    """
    if stack.process is None:
        return
    family = {pid: started_at(pid) for pid in descendants(stack.process.pid)}
    if stack.process.poll() is None:
        stack.process.terminate()
        try:
            stack.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    stack.stop()  # closes the log
    for pid, start in family.items():
        if started_at(pid) == start:  # still the same process, not a reused pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _pythonpath() -> str:
    # The stack runs with cwd = its workdir; keep the repo importable whatever the install mode.
    return os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)


def ws_url(stack: RunningStack) -> str:
    return f"{stack.info['wsUrl']}/?apiKey={stack.info['apiKey']}"


def stack_rss(stack: RunningStack) -> dict[str, float]:
    """VmRSS in MB of `cloutagent dev` and its moto child (executor children are not counted)."""
    assert stack.process is not None
    dev = stack.process.pid
    moto = [pid for pid in children(dev) if "moto_serve" in cmdline(pid)]
    result = {"dev": rss_mb(dev), "moto": sum(rss_mb(pid) for pid in moto)}
    result["total"] = result["dev"] + result["moto"]
    return result


@contextlib.contextmanager
def pointed_at(ready: dict[str, Any]) -> Iterator[Any]:
    """This process's handlers and clients aimed at the stack's moto (as `cloutagent invoke` does).

    The environment is restored afterwards, so a later stack never inherits these values.
    """
    from cloutagent_dev.stack import apply_environment
    from cloutagent.wiring import get_container

    saved = dict(os.environ)
    apply_environment({
        "AWS_ENDPOINT_URL": ready["awsEndpointUrl"], "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": ready["region"], "AWS_DEFAULT_REGION": ready["region"],
        "CLOUTAGENT_TABLE_NAME": ready["tableName"], "CLOUTAGENT_CONNECTIONS_URL": ready["httpUrl"],
        "CLOUTAGENT_USER_POOL_ID": ready["userPoolId"], "CLOUTAGENT_USER_POOL_CLIENT_ID": ready["userPoolClientId"],
        "CLOUTAGENT_JWKS_URL": f"{ready['awsEndpointUrl']}/{ready['userPoolId']}/.well-known/jwks.json",
    })
    try:
        yield get_container()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        apply_environment({})
