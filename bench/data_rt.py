"""Data round trip: 100 clients sending `project.get` through the local stack; no Scan anywhere."""

from __future__ import annotations

import asyncio
import json

from bench.awscount import counting, scans_in_source
from bench.load import CLIENTS, echo_server, stack_and_echo
from bench.stack import local_stack, pointed_at, ws_url
from bench.stats import Row, ms
from bench.wsclient import Client

# Every get is a GetItem on moto, which serves one request at a time (~200/s here): fewer per run.
# The echo server takes turns with the stack (it echoes the same frames), for the ratio.
PER_CLIENT = 5


async def _create_project(url: str) -> str:
    client = await Client.connect(url)
    try:
        return (await client.ok("project.create", {"name": "bench data"}))["project"]["projectId"]
    finally:
        await client.close()


def _calls_per_get(ready: dict, project_id: str) -> dict[str, int]:
    """One project.get through the real handler in this process, every AWS call counted."""
    from cloutagent_dev.events import load_event

    with pointed_at(ready) as container:
        from functions.projects.handler import handler

        event = load_event("project.get", tenant_id=ready["tenantId"], user_id=ready["userId"], role="owner",
                           connection_id="bench", project_id=project_id)
        handler(event)  # warm: clients created, nothing lazy left to count
        with counting(container) as counter:
            reply = json.loads(handler(event)["body"])
        assert reply["type"] == "response", reply
        return dict(counter.calls)


def run() -> dict:
    with echo_server() as baseline, local_stack() as stack:
        project_id = asyncio.run(_create_project(ws_url(stack)))
        result = asyncio.run(stack_and_echo(stack, baseline, "project.get", {"projectId": project_id}, PER_CLIENT))
        calls = _calls_per_get(stack.info, project_id)
    data, echo = result["stack"], result["echo"]
    scans_in_code = scans_in_source()
    scans = sum(n for name, n in calls.items() if name.endswith(".Scan"))
    ratio = data["rate"]["median"] / echo["rate"]["median"]
    calls_text = ", ".join(f"{name.split('.', 1)[1]}×{n}" for name, n in sorted(calls.items()))
    rows = [Row(f"data round trip: project.get through the local stack, {CLIENTS} clients",
                f"{data['rate']['median']:.0f} msg/s = {ratio:.2f}× echo; latency {ms(data['latency']['median'])} "
                f"median, {ms(data['latency']['p99'])} p99; calls per get: {calls_text}; Scan: {scans} counted, "
                f"{len(scans_in_code)} in shipped code",
                "msg/s and p99 reported; no scan", scans == 0 and not scans_in_code)]
    return {"rows": rows, "data": {"load": data, "echo": echo, "ratio": ratio,
                                   "callsPerGet": calls, "scansInCode": scans_in_code}}
