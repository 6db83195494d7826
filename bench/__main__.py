"""`python -m bench [--only NAME] [--strict]`: run the measurements, print one table, write results.json.

Exits 1 when a measurement fails to run (its row says why); with --strict also when a budget
does not hold.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from bench.machine import machine_info, raise_nofile_limit
from bench.stats import Row, verdict

# In the order of the budget table; each is bench/<module>.py with run() -> {"rows": [...], "data": {...}}.
MEASUREMENTS = {
    "cold_start": "bench.cold_start",
    "gateway": "bench.gateway_rt",
    "abuse": "bench.abuse",
    "data": "bench.data_rt",
    "relay": "bench.relay_latency",
    "approval": "bench.approval_latency",
    "first_event": "bench.first_event",
    "fanout": "bench.fanout",
    "aws_calls": "bench.aws_calls",
    "package": "bench.package_size",
    "memory": "bench.idle_memory",
    "soak": "bench.soak",
}
RESULTS = Path(__file__).with_name("results.json")


def run_one(name: str) -> dict:
    started = time.perf_counter()
    try:
        outcome = importlib.import_module(MEASUREMENTS[name]).run()
    except Exception as exc:  # a failing measurement is a row, not the end of the run
        traceback.print_exc()
        outcome = {"rows": [Row(name, f"error: {type(exc).__name__}: {str(exc)[:200]}", "-", False)],
                   "error": traceback.format_exc()}
    outcome["seconds"] = round(time.perf_counter() - started, 1)
    return outcome


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def table(rows: list[Row]) -> str:
    lines = ["| what | result | budget | ok? |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.result} | {r.budget} | {verdict(r.ok)} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(MEASUREMENTS), metavar="NAME",
                        help=f"run only this measurement (repeatable): {', '.join(MEASUREMENTS)}")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget does not hold, not only on errors")
    args = parser.parse_args(argv)
    names = [n for n in MEASUREMENTS if not args.only or n in args.only]
    raise_nofile_limit()
    machine = machine_info()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    results: dict[str, dict] = {}
    with stdout_to_stderr():  # handlers run in-process log to stdout; only the table goes there
        for name in names:
            print(f"bench: {name} …", file=sys.stderr, flush=True)
            results[name] = run_one(name)
            print(f"bench: {name} done in {results[name]['seconds']} s", file=sys.stderr, flush=True)
    rows = [row for name in names for row in results[name]["rows"]]
    total = round(time.perf_counter() - started, 1)
    print(table(rows))
    print(f"\n{machine['cpuCount']} × {machine['cpuModel']}, Python {machine['python']}; {total} s in all")
    RESULTS.write_text(json.dumps({
        "machine": machine, "startedAt": started_at, "seconds": total,
        "measurements": {name: {**r, "rows": [row.as_dict() for row in r["rows"]]} for name, r in results.items()},
    }, indent=2, default=str))
    failed = any("error" in r for r in results.values()) or (args.strict and any(r.ok is False for r in rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
