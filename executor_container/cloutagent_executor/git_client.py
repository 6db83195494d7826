"""git, run by the executor (never by the agent), with the token only in the process's environment.

- The token travels as an ``http.extraHeader`` set through ``GIT_CONFIG_*`` variables: never on a
  command line (``/proc/*/cmdline`` is readable by every uid), never in a ``.git/config``.
- Transports are locked to HTTPS (plus HTTP for the dev stack's loopback server): no ``ext::``,
  ``file://`` or ``ssh`` command can run, and redirects are not followed, so the header never goes
  to another host.
- The repository the executor commits from is a private git directory the agent never sees; the
  agent gets a copy. Nothing the agent wrote (hooks, ``core.fsmonitor``, filter drivers in its
  ``.git/config``) runs as the executor; only the work tree's files are read.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

GIT = "git"
CLONE_TIMEOUT_SECONDS = 300
PUSH_TIMEOUT_SECONDS = 300
LOCAL_TIMEOUT_SECONDS = 120
# Settings the executor's git always runs with, whatever a repository carries.
SAFE_CONFIG = {
    "core.hooksPath": "/dev/null",
    "core.fsmonitor": "false",
    "safe.directory": "*",
    "http.followRedirects": "false",
    "protocol.allow": "never",
    "protocol.https.allow": "always",
    "submodule.recurse": "false",
    "advice.detachedHead": "false",
    "init.defaultBranch": "main",
}


class GitFailure(Exception):
    """A repository step failed in a way the user can act on; ``code`` is in docs/protocol.md."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# What git prints, mapped to what the user should hear. First match wins.
FAILURES = (
    (re.compile(r"Authentication failed|could not read Username|terminal prompts disabled|HTTP 40[13]|"
                r"returned error: 40[13]|Invalid username or password", re.I),
     "REPOSITORY_AUTH_FAILED", "The repository refused the token: check the project secret named in tokenSecret"),
    (re.compile(r"Remote branch .* not found|couldn't find remote ref|not found in upstream", re.I),
     "BRANCH_NOT_FOUND", "The branch does not exist in the repository"),
    (re.compile(r"\[rejected\]|non-fast-forward|fetch first|\[remote rejected\]|failed to push", re.I),
     "PUSH_REJECTED", "The push was rejected: the branch moved since the run started, or the host protects it"),
    (re.compile(r"Could not resolve host|Failed to connect|Connection refused|timed out|"
                r"unable to access|not found|repository .* does not exist|returned error: 404", re.I),
     "REPOSITORY_UNREACHABLE", "The repository could not be reached: check its URL and that the host is up"),
)


def failure_of(stderr: str, step: str) -> GitFailure:
    for pattern, code, message in FAILURES:
        if pattern.search(stderr):
            return GitFailure(code, f"{message} ({step})")
    return GitFailure("REPOSITORY_FAILED", f"git could not {step}")


@dataclass(frozen=True)
class GitAccess:
    """How the executor's git reaches the host."""

    token: str = ""
    allow_http: bool = False  # the dev stack's loopback server only

    def environment(self, home: Path) -> dict[str, str]:
        config = dict(SAFE_CONFIG)
        if self.allow_http:
            config["protocol.http.allow"] = "always"
        if self.token:
            basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
            config["http.extraHeader"] = f"Authorization: Basic {basic}"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C",
               "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
               "GIT_ALLOW_PROTOCOL": "https:http" if self.allow_http else "https",
               "GIT_CONFIG_COUNT": str(len(config))}
        for index, (key, value) in enumerate(config.items()):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env


class Git:
    """One private git directory (``git_dir``) over one work tree."""

    def __init__(self, git_dir: Path, work_tree: Path, access: GitAccess):
        self.git_dir, self.work_tree, self.access = git_dir, work_tree, access
        self.home = git_dir.parent

    async def run(self, *args: str, step: str, timeout: float = LOCAL_TIMEOUT_SECONDS,
                  with_dirs: bool = True) -> str:
        dirs = [f"--git-dir={self.git_dir}", f"--work-tree={self.work_tree}"] if with_dirs else []
        process = await asyncio.create_subprocess_exec(
            GIT, *dirs, *args, env=self.access.environment(self.home), cwd=str(self.home),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise GitFailure("REPOSITORY_UNREACHABLE", f"git took over {int(timeout)} s to {step}") from None
        if process.returncode != 0:
            raise failure_of(err.decode(errors="replace"), step)
        return out.decode(errors="replace")
