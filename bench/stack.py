"""The real local stack (`cloutagent dev --port 0`) for one measurement, and ways to reach it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from bench.machine import children, cmdline, descendants, raise_nofile_limit, rss_mb, started_at, tree_cpu
from tests.support.stack import RunningStack

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def local_stack(idle_seconds: int = 600, *, extra_args: list[str] | None = None,
                env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """A fresh stack per measurement: no measurement inherits another's table or connections.

    ``extra_args``/``env`` go to `cloutagent dev` (e.g. CLOUTAGENT_DEV_POST_DELAY_MS, the
    emulated @connections round trip). Its log is kept (path on stderr) when the measurement
    fails, or always with BENCH_KEEP_LOGS=1.
    """
    raise_nofile_limit()  # before the start: the stack process inherits it
    workdir = Path(tempfile.mkdtemp(prefix="cloutagent-bench-"))
    # Without bubblewrap a run's agent is another uid (isolation "user"), and the CLI refuses a
    # working directory it cannot resolve: it must be able to pass through to the workspaces here.
    workdir.chmod(0o755)
    stack = RunningStack(workdir, extra_args=["--idle-timeout", str(idle_seconds), *(extra_args or [])],
                         env={**(env or {}), "PYTHONPATH": _pythonpath()})
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


def process_kind(pid: int) -> str:
    """Which part of the stack a process of its tree is (for CPU split by part)."""
    command = cmdline(pid)
    if "moto_serve" in command:
        return "moto"
    if "cloutagent_dev.model" in command:
        return "model"
    if "cloutagent_client dev" in command:
        return "dev"
    if "bench.holder" in command:
        return "watchers"
    if command.split(" ", 1)[0].rsplit("/", 1)[-1] == "claude":
        return "CLI"  # Claude Code, parsing the model's stream and writing the agent's messages
    return "executors"  # the executor and the sandbox's helpers


def stack_cpu(stack: RunningStack) -> dict[str, float]:
    """CPU seconds used so far by every process of the stack, by part, exited executors included
    (as "exited": `cloutagent dev` reaps them). Read it when no executor is starting or exiting."""
    assert stack.process is not None
    return tree_cpu(stack.process.pid, process_kind)


def settle(stack: RunningStack, quiet_seconds: float = 1.0, timeout: float = 30.0) -> bool:
    """Until the stack's set of processes has not changed for ``quiet_seconds`` (a finished
    executor exited and was reaped), so `stack_cpu` neither misses nor double-counts it."""
    assert stack.process is not None
    deadline = time.monotonic() + timeout
    seen, since = set(descendants(stack.process.pid)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = set(descendants(stack.process.pid))
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return True
    return False


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
