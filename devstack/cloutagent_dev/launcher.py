"""The local launcher: the very same executor entry point, as a child process.

Each run gets what a fresh Fargate task has: its own Claude config directory (removed when the
run ends, so a resumed session really comes back from the S3 session store), plus the
environment that points the CLI at this stack's Claude (``cloutagent_dev.claude``).

With a pool (``cloutagent dev --executor-pool N``) the launcher keeps N idle pool executors:
child processes started without ids that wait on the claim queue (``cloutagent_executor.pool``).
A launch sends the execution's claim and starts one more pool executor in place of the one that
will take it; a pool executor that dies without having claimed is replaced too. Each gets
``CLOUTAGENT_CLAUDE_CONFIG_ROOT`` instead of a config directory, and makes its claim's own there.

Kill is SIGTERM (as ECS StopTask sends) to the run's process: the launched one, or the pool
executor the claim record names (``local:<pid>``). The executor traps it and finishes as
cancelled. A process that exits without finishing its execution is finished as failed here, as
the EventBridge task-state rule does in AWS.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from cloutagent.adapters.claims import ClaimRecords, SqsClaimQueue
from cloutagent.adapters.ecs_launcher import execution_environment
from cloutagent.domain.executions import Execution
from cloutagent.observability import logger
from cloutagent.retry import Backoff, RetriesExhausted, retry
from cloutagent.wiring import Container, install_container

KILL_GRACE_SECONDS = 15
# Like EventBridge retrying the task_state function when finishing an exited executor fails.
FINISH_RETRIES = Backoff(attempts=8, base_seconds=0.2, cap_seconds=5.0)
# A pool executor that dies unclaimed this soon after starting (moto gone, a broken environment)
# is replaced only after a pause, so a broken pool does not spin.
QUICK_DEATH_SECONDS, RESPAWN_PAUSE_SECONDS = 5.0, 2.0
# A claimed run takes about this long to reach its CLI; its replacement's imports (seconds of CPU)
# start after it, so that on a laptop they do not slow the run, as a new Fargate task would not.
REPLACEMENT_DELAY_SECONDS = 2.0
EXECUTOR = [sys.executable, "-m", "cloutagent_executor"]


class LocalLauncher:
    def __init__(self, state_root: Path, agent_env: dict[str, str] | None = None,
                 on_exit: Callable[[Execution, int], None] | None = None, *, pool_size: int = 0,
                 claims: SqsClaimQueue | None = None, claimers: ClaimRecords | None = None):
        self.state_root = state_root
        self.agent_env = agent_env or {}
        self.on_exit = on_exit
        self.processes: dict[str, subprocess.Popen] = {}  # launched ones, by execution id
        self.pool_size = pool_size if claims is not None else 0
        self.claims, self.claimers = claims, claimers
        self.pool: dict[int, subprocess.Popen] = {}  # pool executors, idle or running a claim, by pid
        self.claimed: dict[str, Execution] = {}  # claims sent whose claimer has not exited yet
        self.closed = False
        self._lock = threading.Lock()

    # -- launching -----------------------------------------------------------------------------
    def start_pool(self) -> None:
        for _ in range(self.pool_size):
            self._start_pool_executor()

    def launch(self, execution: Execution) -> str:
        if not self.pool_size:
            return self._launch_cold(execution)
        with self._lock:
            self.claimed[execution.execution_id] = execution
        try:
            self.claims.send(execution)
        except Exception:  # fails the launch, as RunTask's refusal would
            with self._lock:
                self.claimed.pop(execution.execution_id, None)
            raise
        # In place of the one that takes the claim (a moment later: REPLACEMENT_DELAY_SECONDS).
        timer = threading.Timer(REPLACEMENT_DELAY_SECONDS, self._start_pool_executor)
        timer.daemon = True
        timer.start()
        return f"claim:{execution.execution_id}"

    def _launch_cold(self, execution: Execution) -> str:
        env = {**os.environ, **self.agent_env, "CLAUDE_CONFIG_DIR": str(self._config_dir(execution)),
               **{e["name"]: e["value"] for e in execution_environment(execution)}}
        process = subprocess.Popen(EXECUTOR, env=env, start_new_session=True)
        with self._lock:
            self.processes[execution.execution_id] = process
        threading.Thread(target=self._watch, args=(execution, process), daemon=True, name=f"watch-{process.pid}").start()
        return f"local:{process.pid}"

    def _start_pool_executor(self) -> None:
        env = {**os.environ, **self.agent_env, "CLOUTAGENT_CLAUDE_CONFIG_ROOT": str(self._config_root())}
        env.pop("CLAUDE_CONFIG_DIR", None)  # each claim gets its own, made at claim time
        with self._lock:
            if self.closed:
                return
            process = subprocess.Popen(EXECUTOR, env=env, start_new_session=True)
            self.pool[process.pid] = process
        threading.Thread(target=self._watch_pool, args=(process, time.monotonic()), daemon=True,
                         name=f"watch-pool-{process.pid}").start()

    # -- stopping ------------------------------------------------------------------------------
    def stop(self, execution: Execution, reason: str) -> None:
        with self._lock:
            process = self.processes.get(execution.execution_id)
        if process is None and execution.execution_id in self.claimed:
            process = self._claimer(execution)
        if process is None or process.poll() is not None:
            return  # not claimed yet: its executor will find it cancelled when it begins
        process.send_signal(signal.SIGTERM)
        timer = threading.Timer(KILL_GRACE_SECONDS, self._force_kill, args=(process,))
        timer.daemon = True  # must not hold up the stack's shutdown
        timer.start()

    def _claimer(self, execution: Execution) -> subprocess.Popen | None:
        ref = self.claimers.claimer(execution) if self.claimers is not None else None
        if not ref or not ref.startswith("local:"):
            return None
        with self._lock:
            return self.pool.get(int(ref.removeprefix("local:")))

    @staticmethod
    def _force_kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.kill()

    def close(self) -> None:
        """Stop every pool executor (the stack is going away); idle ones hold nothing to finish."""
        with self._lock:
            self.closed = True
            pool = list(self.pool.values())
        for process in pool:
            if process.poll() is None:
                process.terminate()
        for process in pool:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()

    # -- watching ------------------------------------------------------------------------------
    def _config_root(self) -> Path:
        return self.state_root / "claude-config"

    def _config_dir(self, execution: Execution) -> Path:
        return self._config_root() / execution.execution_id

    def _watch(self, execution: Execution, process: subprocess.Popen) -> None:
        code = process.wait()
        with self._lock:
            self.processes.pop(execution.execution_id, None)
        shutil.rmtree(self._config_dir(execution), ignore_errors=True)
        if self.on_exit is not None:
            self.on_exit(execution, code)

    def _watch_pool(self, process: subprocess.Popen, started: float) -> None:
        code = process.wait()
        execution = self._claimed_by(process.pid)
        with self._lock:
            self.pool.pop(process.pid, None)
            closed = self.closed
        if execution is not None:
            shutil.rmtree(self._config_dir(execution), ignore_errors=True)  # if it died before removing it
            if self.on_exit is not None:
                self.on_exit(execution, code)
            return
        if closed:
            return
        # Died unclaimed (or lost a claim to another): the pool is one short.
        if time.monotonic() - started < QUICK_DEATH_SECONDS:
            time.sleep(RESPAWN_PAUSE_SECONDS)
        logger.warning("a pool executor exited before claiming; starting another", extra={"exit_code": code})
        self._start_pool_executor()

    def _claimed_by(self, pid: int) -> Execution | None:
        """The execution whose claim this pool executor recorded, if any (it is then forgotten)."""
        with self._lock:
            waiting = list(self.claimed.values())
        for execution in waiting:
            try:
                ref = self.claimers.claimer(execution) if self.claimers is not None else None
            except Exception:  # moto going away with the stack
                logger.exception("could not read a claim record", extra={"execution_id": execution.execution_id})
                continue
            if ref == f"local:{pid}":
                with self._lock:
                    self.claimed.pop(execution.execution_id, None)
                return execution
        return None


def install_local_container(state_root: Path, agent_env: dict[str, str], *, pool_size: int = 0,
                            claims: SqsClaimQueue | None = None) -> Container:
    """The process's container, with executors launched as child processes of this one (and, with
    ``pool_size`` and a claim queue, that many pool executors waiting; ``start_pool`` starts them)."""
    launcher = LocalLauncher(state_root, agent_env, pool_size=pool_size, claims=claims)
    container = install_container(Container(launcher=launcher))
    launcher.claimers = container.claim_records

    def finish_exited(execution: Execution, code: int) -> None:
        def finish() -> None:
            container.executions.finish_if_unfinished(
                execution.tenant_id, execution.project_id, execution.execution_id,
                f"The executor exited with code {code} before finishing",
            )

        def note(attempt: int, exc: Exception) -> None:
            logger.warning("finishing an exited executor failed; retrying", extra={"attempt": attempt})

        try:
            retry(finish, FINISH_RETRIES, retry_on=lambda exc: True, on_retry=note)
        except RetriesExhausted:
            logger.error("could not finish an exited executor", extra={"execution_id": execution.execution_id})

    launcher.on_exit = finish_exited
    return container
