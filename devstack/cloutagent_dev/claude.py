"""Which Claude the local stack's runs talk to (the scripted model, or the real API), and
whether they run sandboxed.

Either way the executor drives the real Claude Code CLI bundled with claude-agent-sdk; only the
model behind it changes. With Claude credentials in the developer's environment the CLI goes to
the real API; without them it goes to the scripted model (docs/model-double.md), which this
module runs as a child process. Where bubblewrap works, every run is sandboxed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field

from cloutagent_dev.children import ChildServer
from cloutagent_dev.model import cli_env
from cloutagent_dev.settings import get_dev_settings
from cloutagent_executor import sandbox


class ModelServer(ChildServer):
    name = "scripted model"
    probe_path = "/local/model/requests"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "cloutagent_dev.model", "--port", str(self.port)]


@dataclass
class ClaudeBackend:
    """What the stack tells its users (banner, ready file) and what each executor process gets."""

    description: str
    executor_env: dict[str, str] = field(default_factory=dict)
    model: ModelServer | None = None
    isolation: str = "none"  # how every run's CLI is kept apart: cloutagent_executor.sandbox

    @property
    def model_url(self) -> str | None:
        return self.model.url if self.model else None

    def stop(self) -> None:
        if self.model:
            self.model.stop()


def start_claude_backend() -> ClaudeBackend:
    settings = get_dev_settings()
    isolation = choose_isolation()
    env = {**_root_env(), "CLOUTAGENT_SANDBOX": isolation}
    if settings.has_claude_credentials:
        # The executor inherits the developer's credentials from this process, as in AWS it gets
        # them from an ECS secret.
        return ClaudeBackend("real Claude API (credentials found)", executor_env=env, isolation=isolation)
    model = ModelServer().start()
    return ClaudeBackend(f"scripted model at {model.url} (set ANTHROPIC_API_KEY for the real API)",
                         executor_env={**cli_env(model.url), **env}, model=model, isolation=isolation)


def choose_isolation() -> str:
    """The strongest this machine allows: bubblewrap, else (as root) the agent's own uid as on Fargate."""
    if sandbox_works():
        return "bubblewrap"
    if hasattr(os, "geteuid") and os.geteuid() == 0 and os.access(sandbox.SETPRIV, os.X_OK):
        return "user"
    return "none"


def sandbox_works() -> bool:
    """This machine can sandbox runs: bubblewrap and socat are there, and namespaces work."""
    if not sandbox.available():
        return False
    probe = [sandbox.BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0  # noqa: S603 - fixed argv
    except (OSError, subprocess.TimeoutExpired):
        return False


def _root_env() -> dict[str, str]:
    # The CLI refuses bypassPermissions as root unless told it runs in a sandbox. On Fargate it
    # runs as the agent's uid and never needs this; a laptop or CI run as root does.
    return {"IS_SANDBOX": "1"} if hasattr(os, "geteuid") and os.geteuid() == 0 else {}
