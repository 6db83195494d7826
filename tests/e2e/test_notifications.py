"""Project webhooks through the local stack: a receiver on loopback gets run.waiting and
run.finished, signed; a failing receiver is tried again, and never holds up the run.

The notifications travel the AWS way: the event is stored, the table's stream (moto's) carries it,
and the stream poller invokes the notifier function with the records its filter lets through.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from aiohttp import web

pytestmark = pytest.mark.e2e

WRITE = '[fake:bash command="echo approved > approved.txt; echo approved"]'


class Receiver:
    """A webhook receiver on 127.0.0.1 that fails the first ``failures`` tries of each event."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.tries: list[dict[str, Any]] = []  # every request, as it arrived
        self.received: asyncio.Queue = asyncio.Queue()  # the ones answered 2xx
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
        return self

    async def hook(self, request: web.Request) -> web.Response:
        attempt = {"headers": dict(request.headers), "body": await request.read(), "at": time.monotonic()}
        self.tries.append(attempt)
        event_id = attempt["headers"].get("Cloutagent-Event-Id")
        if sum(t["headers"].get("Cloutagent-Event-Id") == event_id for t in self.tries) <= self.failures:
            return web.Response(status=500, text="try again")
        await self.received.put(attempt)
        return web.Response(status=204)

    async def next(self, type_: str, timeout: float = 45) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            attempt = await asyncio.wait_for(self.received.get(), max(deadline - time.monotonic(), 0.01))
            if json.loads(attempt["body"])["type"] == type_:
                return attempt

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture
async def receiver():
    made: list[Receiver] = []

    async def start(failures: int = 0) -> Receiver:
        made.append(await Receiver(failures).start())
        return made[-1]

    yield start
    for r in made:
        await r.stop()


def verified(secret: str, attempt: dict[str, Any], tolerance_seconds: int = 300) -> dict[str, Any]:
    """A receiver's check, with plain hmac: the signature matches the raw body and is recent."""
    fields = dict(part.split("=", 1) for part in attempt["headers"]["Cloutagent-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + attempt["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected), "signature does not verify"
    assert abs(time.time() - int(fields["t"])) < tolerance_seconds
    payload = json.loads(attempt["body"])
    assert attempt["headers"]["Cloutagent-Event-Id"] == payload["id"]
    return payload


async def watched_project(client, **agent: Any) -> str:
    project = (await client.ok("project.create", {"name": f"hooks-{uuid.uuid4().hex[:8]}",
                                                  "agent": {"approvalTimeoutSeconds": 5, **agent}}))["project"]
    await client.ok("project.join", {"projectId": project["projectId"]})
    return project["projectId"]


async def finished(client, execution_id: str, timeout: float = 60) -> dict[str, Any]:
    event = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                        and e["data"]["executionId"] == execution_id, timeout=timeout)
    return event["data"]


async def test_a_receiver_gets_run_waiting_and_run_finished_signed(connect, make_user, receiver):
    owner = make_user()
    client = await connect(owner)
    pid = await watched_project(client)
    hook = await receiver()
    # GIVEN an admin sets the project's webhook: the secret comes back this once
    reply = await client.ok("webhook.set", {"projectId": pid, "url": hook.url})
    secret = reply["signingSecret"]
    assert secret.startswith("whsec_")
    assert reply["webhook"]["url"] == hook.url and reply["webhook"]["events"] == ["run.waiting", "run.finished"]
    got = await client.ok("webhook.get", {"projectId": pid})
    assert got["webhook"]["url"] == hook.url and secret not in json.dumps(got)
    # WHEN a run asks for permission
    execution_id = (await client.ok("execute", {"projectId": pid, "prompt": WRITE}))["execution"]["executionId"]
    waiting = verified(secret, await hook.next("run.waiting"))
    # THEN the receiver knows who waits, for what, and can act on it (here: allow from the same client)
    request = (await client.wait_for_event(lambda e: e["event"] == "permission.request"))["data"]
    assert waiting["tenantId"] == owner["tenantId"] and waiting["id"].startswith("evt_")
    assert waiting["data"]["requestId"] == request["requestId"] and waiting["data"]["toolName"] == "Bash"
    assert waiting["data"]["kind"] == "permission" and waiting["data"]["executionId"] == execution_id
    assert waiting["data"]["projectId"] == pid and waiting["data"]["projectName"].startswith("hooks-")
    await client.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "allow"})
    done = verified(secret, await hook.next("run.finished"))
    end = await finished(client, execution_id)
    assert done["data"]["status"] == end["status"] == "completed"
    assert done["data"]["executionId"] == execution_id and done["data"]["costUsd"] == end["costUsd"]
    assert len(hook.tries) == 2  # one each, nothing else of the run's events
    # and the change was announced to the room by host only
    [changed] = [e for e in client.events if e["event"] == "webhook.changed"]
    assert changed["data"]["host"] == "127.0.0.1" and hook.url not in json.dumps(client.events)


async def test_a_failing_receiver_is_tried_again_and_the_run_is_unaffected(connect, make_user, receiver):
    client = await connect(make_user())
    pid = await watched_project(client)
    hook = await receiver(failures=2)  # 500, 500, then 204, for each event
    secret = (await client.ok("webhook.set", {"projectId": pid, "url": hook.url}))["signingSecret"]
    began = time.monotonic()
    execution_id = (await client.ok("execute", {"projectId": pid, "prompt": WRITE}))["execution"]["executionId"]
    # GIVEN nobody answers the request: it times out after 5 s, and the run goes on
    end = await finished(client, execution_id)
    assert end["status"] == "completed", end
    assert time.monotonic() - began < 30
    # THEN both notifications arrived, each on its third try, with the same id and a valid signature every time
    for type_ in ("run.waiting", "run.finished"):
        payload = verified(secret, await hook.next(type_))
        tries = [t for t in hook.tries if t["headers"]["Cloutagent-Event-Id"] == payload["id"]]
        assert len(tries) == 3, type_
        assert all(verified(secret, t)["id"] == payload["id"] for t in tries)
        assert tries[-1]["at"] - tries[0]["at"] < 15  # backed off, and bounded


async def test_a_receiver_that_is_down_is_given_up_on_and_logged(connect, make_user, receiver, stack):
    client = await connect(make_user())
    pid = await watched_project(client, permissionMode="bypassPermissions")
    hook = await receiver()
    url = hook.url
    await hook.stop()  # nothing listens there any more
    await client.ok("webhook.set", {"projectId": pid, "url": url, "events": ["run.finished"]})
    execution_id = (await client.ok("execute", {"projectId": pid, "prompt": "[fake:stream n=1]"}))["execution"]["executionId"]
    end = await finished(client, execution_id)
    assert end["status"] == "completed"
    page = await client.ok("messages.get", {"projectId": pid, "sinceSeq": 0, "limit": 500})
    [stored] = [e for e in page["events"] if e["event"] == "execution.finished"]
    event_id = f"evt_{pid}_{stored['seq']}"
    deadline = time.monotonic() + 20
    while not any("not delivered" in line and event_id in line for line in stack.log_text().splitlines()):
        assert time.monotonic() < deadline, "the failure was not logged with the event's id"
        await asyncio.sleep(0.2)


async def test_only_admins_set_or_read_a_webhook_and_only_to_a_safe_url(connect, make_user, receiver):
    owner = make_user()
    admin = make_user(tenant_id=owner["tenantId"], role="admin")
    member = make_user(tenant_id=owner["tenantId"], role="member")
    viewer = make_user(tenant_id=owner["tenantId"], role="viewer")
    owner_client, admin_client, member_client, viewer_client = [
        await connect(u) for u in (owner, admin, member, viewer)]
    pid = await watched_project(owner_client)
    hook = await receiver()
    for client in (member_client, viewer_client):
        for action, data in (("webhook.set", {"projectId": pid, "url": hook.url}), ("webhook.get", {"projectId": pid}),
                             ("webhook.delete", {"projectId": pid})):
            assert (await client.error(action, data))["code"] == "FORBIDDEN", action
    # an admin may; a URL into the network (or not https) is refused with the field named
    for bad in ("https://169.254.169.254/latest/meta-data", "https://10.0.0.1/hook", "http://example.com/hook",
                "https://user:pw@example.com/hook"):
        error = await admin_client.error("webhook.set", {"projectId": pid, "url": bad})
        assert error["code"] == "BAD_REQUEST" and error["details"] == {"field": "url"}, bad
    first = await admin_client.ok("webhook.set", {"projectId": pid, "url": hook.url, "format": "slack"})
    second = await admin_client.ok("webhook.set", {"projectId": pid, "url": hook.url, "format": "slack"})
    assert first["signingSecret"] != second["signingSecret"]  # setting again rotates the secret
    # the URL stays with admins: the project as members see it does not carry it
    seen = await member_client.ok("project.get", {"projectId": pid})
    assert "webhook" not in seen["project"] and hook.url not in json.dumps(seen)
    assert (await owner_client.ok("webhook.delete", {"projectId": pid}))["deleted"] is True
    assert (await owner_client.ok("webhook.get", {"projectId": pid}))["webhook"] is None
    assert (await owner_client.error("webhook.delete", {"projectId": pid}))["code"] == "NOT_FOUND"
    assert (await owner_client.error("webhook.get", {"projectId": "p_nope"}))["code"] == "PROJECT_NOT_FOUND"
