"""Claude Code apart from the executor: in a bubblewrap sandbox, or as the agent's own uid.

The SDK spawns ``cli_path``; in a sandboxed run that is a small shim (``write_shim``) that runs
``python -m cloutagent_executor.sandbox CONFIG ARGS…``, which replaces itself with the CLI, either

**as the agent's uid** (``kind="user"``: Fargate, where no namespace can be made) through
``setpriv``: another uid than the executor's (root), no groups, no capabilities, no new privileges,
an environment rebuilt from nothing. It cannot read the executor's ``/proc/*/environ`` or files, so
neither the task's credentials URI nor the Anthropic key; the gateway is on a loopback port and
the token it holds is good for this run only. The task holds one run, so there is nothing of
another project or tenant on its disk; or

**in bubblewrap** (``kind="bubblewrap"``: the local stack, CI):
- its own mount, PID, IPC, UTS and network namespaces: no other process is visible (no
  ``/proc/<executor>/environ``), and no address of the host answers (no moto, no
  ``@connections``, no metadata endpoint);
- a root file system of the OS's read-only ``/usr`` and what programs need of ``/etc``, the CLI binary, a private
  ``/tmp``, and read-write only the project's workspace and the run's Claude config directory,
  both at their own paths, so transcripts and sessions keep their keys;
- an environment rebuilt from nothing: the CLI's own switches, the project's secrets by name,
  and the run's model gateway (``model_gateway``) as its only way out, reached through a Unix
  socket that ``socat`` turns into ``127.0.0.1:PORT`` inside the sandbox. The real Anthropic
  credential never enters it: the CLI holds a token that is good for this run's gateway only.

Either way the CLI and everything it starts run at ``AGENT_NICENESS``, in a session of their own
(``lower_priority``): when the agent (its CLI writing a burst of messages, a build) and the
executor want the same CPU, the executor relaying what is already written to the team goes first.
The agent cannot lower its niceness again. The session also leaves it no controlling terminal to
type into.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

BWRAP = "/usr/bin/bwrap"
SETPRIV = "/usr/bin/setpriv"
SOCAT = "/usr/bin/socat"
CLI_INSIDE = "/opt/claude/claude"
SOCKET_INSIDE = "/run/cloutagent/model.sock"
GATEWAY_PORT_INSIDE = 8080
AGENT_NICENESS = 10  # CPU weight about a tenth of the executor's while both are busy, all of it otherwise
AUTOGROUP = Path("/proc/self/autogroup")
AUTOGROUP_WAIT_SECONDS = 0.5  # the kernel takes one autogroup change a tenth of a second from non-admins
# The CLI's own switches that may cross into the sandbox; anything else must be named (secrets).
CLI_SWITCH_PREFIXES = ("CLAUDE_CODE_", "CLAUDE_AGENT_SDK_", "DISABLE_")
# CLAUDE_ENV_FILE: the file a spare CLI's Bash tool sources, which holds its run's secrets (spare.py).
CLI_SWITCHES = ("CLAUDE_CONFIG_DIR", "CLAUDE_ENV_FILE", "IS_SANDBOX", "MAX_THINKING_TOKENS", "TERM", "LANG", "LC_ALL",
                "TZ")
NEVER_INSIDE = ("CLAUDE_CODE_OAUTH_TOKEN",)
# What programs need from /etc, and nothing else of it (not shadow, not the host's own config).
ETC_NEEDED = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
              "hosts", "resolv.conf", "localtime", "ssl", "ca-certificates", "bash.bashrc", "profile", "inputrc",
              "gitconfig", "mime.types")


@dataclass(frozen=True)
class SandboxConfig:
    cli: str  # the Claude Code binary on the host
    workspace: str
    socket: str  # the run's model gateway, on the host
    token: str  # the run's gateway token: the CLI's ANTHROPIC_API_KEY inside
    secret_names: tuple[str, ...] = ()
    kind: str = "bubblewrap"  # or "user"
    gateway_url: str = ""  # kind "user": the gateway's loopback address
    agent_uid: int = 0  # kind "user": the uid the CLI runs as
    # A spare CLI (spare.py) starts before its run's folder exists: bubblewrap binds ``workspace``
    # (a folder of its own) at ``workspace_inside`` (the workspace root), and the CLI starts in
    # ``chdir``. Empty: the workspace at its own path, and the CLI starts there.
    workspace_inside: str = ""
    chdir: str = ""

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))
        path.chmod(0o600)

    @classmethod
    def load(cls, path: str) -> "SandboxConfig":
        data = json.loads(Path(path).read_text())
        return cls(**{**data, "secret_names": tuple(data.get("secret_names", ()))})


def available() -> bool:
    """bubblewrap and socat are installed (whether namespaces work is up to the kernel)."""
    return os.access(BWRAP, os.X_OK) and os.access(SOCAT, os.X_OK)


def write_shim(run_dir: Path, config: SandboxConfig, name: str = "claude") -> Path:
    """The executable the SDK runs as Claude Code: it enters the sandbox, then runs the CLI."""
    config_path = run_dir / f"{name}.json"
    config.save(config_path)
    shim = run_dir / name
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cloutagent_executor.sandbox "{config_path}" "$@"\n')
    shim.chmod(0o700)
    return shim


def inside_env(config: SandboxConfig, outside: Mapping[str, str]) -> dict[str, str]:
    """The CLI's environment in the sandbox: switches and secrets by name, the gateway, no more."""
    names = [n for n in outside if (n.startswith(CLI_SWITCH_PREFIXES) or n in CLI_SWITCHES)
             and n not in NEVER_INSIDE] + [n for n in config.secret_names if n in outside]
    env = {name: outside[name] for name in names}
    if not outside.get("CLAUDE_CONFIG_DIR"):
        raise ValueError("a sandboxed CLI needs CLAUDE_CONFIG_DIR: its only writable place besides the workspace")
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": outside["CLAUDE_CONFIG_DIR"],
        "ANTHROPIC_BASE_URL": config.gateway_url or f"http://127.0.0.1:{GATEWAY_PORT_INSIDE}",
        "ANTHROPIC_API_KEY": config.token,
    })
    return env


def bwrap_argv(config: SandboxConfig, env: Mapping[str, str], cli_args: list[str]) -> list[str]:
    """The bwrap command line that runs the CLI with ``cli_args`` in the sandbox."""
    config_dir = env["HOME"]
    inside = config.workspace_inside or config.workspace
    # No --new-session: lower_priority already gave the agent a session of its own (a new one here
    # would be a new CPU group at full weight).
    argv = [BWRAP, "--unshare-all", "--die-with-parent",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
            *[arg for name in ETC_NEEDED for arg in ("--ro-bind-try", f"/etc/{name}", f"/etc/{name}")],
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--ro-bind", config.cli, CLI_INSIDE,
            "--bind", config.workspace, inside,
            "--bind", config_dir, config_dir,
            "--bind", config.socket, SOCKET_INSIDE,
            "--chdir", config.chdir or inside, "--clearenv"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    forward = (f"{SOCAT} TCP-LISTEN:{GATEWAY_PORT_INSIDE},bind=127.0.0.1,fork,reuseaddr "
               f"UNIX-CONNECT:{SOCKET_INSIDE} & exec {CLI_INSIDE} \"$@\"")
    return argv + ["--", "/bin/sh", "-c", forward, "claude", *cli_args]


def setpriv_argv(config: SandboxConfig, cli_args: list[str]) -> list[str]:
    """The setpriv command line that runs the CLI as the agent's uid, with nothing of root's."""
    if config.agent_uid <= 0:
        raise ValueError("the agent's uid must not be root's")
    uid = str(config.agent_uid)
    return [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--", config.cli, *cli_args]


def lower_priority() -> None:
    """Niceness ``AGENT_NICENESS`` for the CLI and all it starts, in a session of their own.

    Where the kernel groups CPU time by session (autogroup: processes in a host's root cgroup, as
    in ``make dev`` and CI; not in a container), sessions share the CPU as equals whatever their
    members' niceness. The agent's session is its group, and the group gets the same niceness;
    measured in ``make bench`` (relay burst), this is what lets the relay go first on such a host.
    The agent could put its group back to 0 (the kernel lets any process), which gives it an
    equal share, never more: its own niceness still cannot be lowered.
    """
    os.nice(AGENT_NICENESS)
    os.setsid()  # the shim is the SDK's child, never a group leader: this cannot fail
    deadline = time.monotonic() + AUTOGROUP_WAIT_SECONDS
    while True:
        try:
            AUTOGROUP.write_text(f"{AGENT_NICENESS}\n")
            return
        except BlockingIOError:  # another process changed its group within the last tenth of a second
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)
        except OSError:  # no autogroup here (a container, or a kernel without it): the niceness decides
            return


def main(argv: list[str]) -> None:
    config = SandboxConfig.load(argv[0])
    env = inside_env(config, os.environ)
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    lower_priority()
    if config.kind == "user":
        os.execve(SETPRIV, setpriv_argv(config, argv[1:]), env)  # nosec B606 - a fixed binary and argv
    # bwrap itself starts with an empty environment: as PID 1 of the sandbox its own environ
    # is readable from inside, so it must hold nothing of the executor's.
    os.execve(BWRAP, bwrap_argv(config, env, argv[1:]), {})  # nosec B606 - a fixed binary and argv, no host shell


if __name__ == "__main__":
    main(sys.argv[1:])
