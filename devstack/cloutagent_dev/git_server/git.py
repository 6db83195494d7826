"""Running git for the local Git server: an argument list, never a shell, and none of the
developer's own git configuration (no ``HOME``, no system config), so every machine behaves alike."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

GIT = shutil.which("git") or "git"


def git_env(**extra: str) -> dict[str, str]:
    """The whole environment of a git child process: git's own directory on PATH, nothing inherited."""
    return {"PATH": os.pathsep.join([os.path.dirname(GIT), os.defpath]), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0", **extra}


async def run_git(*args: str, git_dir: Path | None = None, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run one git command to completion; returns (exit code, stdout, stderr)."""
    cmd = [GIT, *(["--git-dir", str(git_dir)] if git_dir else []), *args]
    process = await asyncio.create_subprocess_exec(
        *cmd, env=git_env(), stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate(stdin)
    return await process.wait(), out, err
