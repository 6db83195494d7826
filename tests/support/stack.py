"""Start the real local stack (`cloutagent dev`) as a child process and wait for its ready file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


CLAUDE_CREDENTIALS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")


class RunningStack:
    def __init__(self, workdir: Path, extra_args: list[str] | None = None, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.ready_file = workdir / "ready.json"
        self.log_file = workdir / "stack.log"
        self.extra_args = extra_args or []
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 60.0) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "cloutagent_client", "dev", "--port", "0", "--ready-file", str(self.ready_file),
               "--workspace-root", str(self.workdir / "workspaces"), *self.extra_args]
        env = {**os.environ, **self.env}
        env.pop("AWS_ENDPOINT_URL", None)
        # Tests never reach the real Claude API: without credentials the stack uses the scripted model.
        for name in CLAUDE_CREDENTIALS:
            env.pop(name, None)
        self._log = open(self.log_file, "w")
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                self.info = json.loads(self.ready_file.read_text())
                return self.info
            if self.process.poll() is not None:
                raise RuntimeError(f"local stack exited early:\n{self.log_file.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"local stack not ready in {timeout}s:\n{self.log_file.read_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()
