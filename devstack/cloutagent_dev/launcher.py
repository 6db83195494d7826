"""The local launcher: the very same executor entry point, as a child process.

Each run gets what a fresh Fargate task has: its own Claude config directory (removed when the
run ends, so a resumed session really comes back from the S3 session store), plus the
environment that points the CLI at this stack's Claude (``cloutagent_dev.claude``).

Kill is SIGTERM (as ECS StopTask sends); the executor traps it and finishes as cancelled. A
process that exits without finishing its execution is finished as failed here, as the
EventBridge task-state rule does in AWS.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

from cloutagent.adapters.ecs_launcher import execution_environment
from cloutagent.domain.executions import Execution
from cloutagent.observability import logger
from cloutagent.retry import Backoff, RetriesExhausted, retry
from cloutagent.wiring import Container, install_container

KILL_GRACE_SECONDS = 15
# Like EventBridge retrying the task_state function when finishing an exited executor fails.
FINISH_RETRIES = Backoff(attempts=8, base_seconds=0.2, cap_seconds=5.0)


class LocalLauncher:
    def __init__(self, state_root: Path, agent_env: dict[str, str] | None = None,
                 on_exit: Callable[[Execution, int], None] | None = None):
        self.state_root = state_root
        self.agent_env = agent_env or {}
        self.on_exit = on_exit
        self.processes: dict[str, subprocess.Popen] = {}  # by execution id
        self._lock = threading.Lock()

    def launch(self, execution: Execution) -> str:
        env = {**os.environ, **self.agent_env, "CLAUDE_CONFIG_DIR": str(self._config_dir(execution)),
               **{e["name"]: e["value"] for e in execution_environment(execution)}}
        process = subprocess.Popen([sys.executable, "-m", "cloutagent_executor"], env=env, start_new_session=True)
        with self._lock:
            self.processes[execution.execution_id] = process
        threading.Thread(target=self._watch, args=(execution, process), daemon=True, name=f"watch-{process.pid}").start()
        return f"local:{process.pid}"

    def stop(self, execution: Execution, reason: str) -> None:
        with self._lock:
            process = self.processes.get(execution.execution_id)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        timer = threading.Timer(KILL_GRACE_SECONDS, self._force_kill, args=(process,))
        timer.daemon = True  # must not hold up the stack's shutdown
        timer.start()

    @staticmethod
    def _force_kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.kill()

    def _config_dir(self, execution: Execution) -> Path:
        return self.state_root / "claude-config" / execution.execution_id

    def _watch(self, execution: Execution, process: subprocess.Popen) -> None:
        code = process.wait()
        with self._lock:
            self.processes.pop(execution.execution_id, None)
        shutil.rmtree(self._config_dir(execution), ignore_errors=True)
        if self.on_exit is not None:
            self.on_exit(execution, code)


def install_local_container(state_root: Path, agent_env: dict[str, str]) -> Container:
    """The process's container, with executors launched as child processes of this one."""
    launcher = LocalLauncher(state_root, agent_env)
    container = install_container(Container(launcher=launcher))

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
