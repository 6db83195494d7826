"""Servers the local stack runs as child processes on 127.0.0.1 (moto, the scripted model).

A child of its own keeps its CPU off the gateway's interpreter lock, and dies with the stack.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ChildServer:
    """Start ``command()`` and wait until ``probe_path`` answers over HTTP."""

    name = "server"
    probe_path = "/"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)  # a child serves AWS; it does not call it
        return env

    def start(self, timeout: float = 20.0) -> "ChildServer":
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env=self.environment())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} exited during start-up")
            try:
                urllib.request.urlopen(f"{self.url}{self.probe_path}", timeout=1).close()  # noqa: S310 - loopback
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the {self.name} did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
