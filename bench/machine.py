"""The machine a run measured, the file-descriptor limit, and process memory from /proc."""

from __future__ import annotations

import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Callable


def machine_info() -> dict[str, object]:
    return {
        "cpuCount": os.cpu_count(),
        "cpuModel": _cpu_model(),
        "memTotalMb": _meminfo_mb("MemTotal"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_mb(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def raise_nofile_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; children started later (the stack) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    """VmRSS of one process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """Direct children of a process (scans /proc: works without CONFIG_PROC_CHILDREN)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid is the 2nd field after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def started_at(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the pid, a unique identity."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_with_reaped(pid: int) -> float:
    """`cpu_seconds` plus the CPU of the children it has already waited for (cutime + cstime).

    A process that has exited and been reaped has no /proc entry left; its CPU lives on in its
    parent's cutime/cstime, so a tree's CPU is this for its root plus `cpu_seconds`-and-reaped of
    every live descendant (see `tree_cpu`).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu(pid: int, classify: Callable[[int], str] | None = None) -> dict[str, float]:
    """CPU seconds used so far by a process and all its descendants, exited ones included.

    With ``classify`` (pid → name) the total is also split by name: each live descendant (with the
    children it reaped) goes to its own name, the root's own CPU to the root's, and the children the
    root reaped to "exited"; "total" is their sum. Exited children not yet reaped are zombies,
    still in /proc with their times: counted once, where they are. A child reaped while this runs
    may be missed or counted twice: read it when the tree is settled.
    """
    name = classify or (lambda _: "root")
    split: dict[str, float] = {name(pid): cpu_seconds(pid)}
    split["exited"] = cpu_with_reaped(pid) - split[name(pid)]
    for child in descendants(pid):
        key = name(child)
        split[key] = split.get(key, 0.0) + cpu_with_reaped(child)
    split["total"] = sum(v for k, v in split.items() if k != "total")
    return split


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        kids = children(queue.pop())
        found += kids
        queue += kids
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuSampler:
    """CPU seconds of groups of process trees, sampled in a thread, to be read over any window.

    ``groups``: name → root pids; each sample holds every group's total CPU (its trees, exited
    children included: `tree_cpu`) and, with ``classify``, "<group>.<kind>" for each kind of
    process in it. Trees are rescanned every ``rescan`` s; in between only known pids are read,
    so sampling stays cheap. A process that exits between samples moves into its parent's
    reaped CPU: the totals stay whole.
    """

    def __init__(self, groups: dict[str, list[int]], classify: Callable[[int], str] | None = None,
                 every: float = 0.1, rescan: float = 1.0):
        self.groups, self.classify = groups, classify or (lambda _: "all")
        self.every, self.rescan = every, rescan
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._members: dict[str, list[tuple[int, str]]] = {}
        self._kinds: dict[int, str] = {}
        self._scanned = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def __enter__(self) -> "CpuSampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def _kind(self, pid: int) -> str:
        if pid not in self._kinds:
            self._kinds[pid] = self.classify(pid)
        return self._kinds[pid]

    def sample(self) -> dict[str, float]:
        now = time.time()
        if now - self._scanned >= self.rescan:
            self._members = {name: [(pid, "root") for pid in roots] + [(d, "") for pid in roots for d in descendants(pid)]
                             for name, roots in self.groups.items()}
            self._scanned = now
        values: dict[str, float] = {}
        for name, members in self._members.items():
            for pid, role in members:
                kind = self._kind(pid)
                own = cpu_seconds(pid)
                # A root's reaped children count as "exited"; a descendant's go with it.
                parts = {kind: own, "exited": cpu_with_reaped(pid) - own} if role else {kind: cpu_with_reaped(pid)}
                for part, seconds in parts.items():
                    values[f"{name}.{part}"] = values.get(f"{name}.{part}", 0.0) + seconds
                    values[name] = values.get(name, 0.0) + seconds
        self.samples.append((now, values))
        return values

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds used from the last sample at or before ``start`` to the first at or after
        ``end`` (time.time()); "seconds" is that span, the window actually read."""
        before = next((s for s in reversed(self.samples) if s[0] <= start), self.samples[0])
        after = next((s for s in self.samples if s[0] >= end), self.samples[-1])
        keys = set(before[1]) | set(after[1])
        used = {key: after[1].get(key, 0.0) - before[1].get(key, 0.0) for key in keys}
        used["seconds"] = after[0] - before[0]
        return used
