"""The local launcher: the very same executor entry point, as a child process.

Kill is SIGTERM (as ECS StopTask sends); the executor traps it and finishes as cancelled. A
process that exits without finishing its execution is finished as failed here, as the
EventBridge task-state rule does in AWS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Callable

from cloutagent.adapters.ecs_launcher import execution_environment
from cloutagent.domain.executions import Execution

KILL_GRACE_SECONDS = 15


class LocalLauncher:
    def __init__(self, on_exit: Callable[[Execution, int], None]):
        self.on_exit = on_exit
        self.processes: dict[str, subprocess.Popen] = {}  # by execution id
        self._lock = threading.Lock()

    def launch(self, execution: Execution) -> str:
        env = {**os.environ, **{e["name"]: e["value"] for e in execution_environment(execution)}}
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

    def _watch(self, execution: Execution, process: subprocess.Popen) -> None:
        code = process.wait()
        with self._lock:
            self.processes.pop(execution.execution_id, None)
        self.on_exit(execution, code)
