"""Run moto's server as a child process on 127.0.0.1."""

from __future__ import annotations

import sys

from cloutagent_dev.children import ChildServer


class MotoServer(ChildServer):
    name = "moto server"
    probe_path = "/moto-api/"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "cloutagent_dev.moto_serve", "--host", self.host, "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
