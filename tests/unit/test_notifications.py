"""Project webhooks without a stack: URL and address rules, the signature (checked with hmac, not
with our own code), what each event becomes, the stream record, and delivery with its tries."""

from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from cloutagent.adapters.dynamo.events import DynamoEventLog
from cloutagent.domain.changes import WebhookSecretRemoved, WebhookSecretSealed
from cloutagent.domain.identity import MIN_ROLE, Identity, Role
from cloutagent.domain.models import Event, Project
from cloutagent.domain.notifications import (
    Delivery, WebhookConfig, address_allowed, check_webhook_url, notification_for, webhook_secret_context,
)
from cloutagent.errors import BadRequest, NotFound
from cloutagent.protocol import replies
from cloutagent.protocol import webhooks as wire
from cloutagent.protocol.actions import WebhookSet
from cloutagent.retry import Backoff
from cloutagent.services.fanout import Fanout
from cloutagent.services.publisher import Publisher
from cloutagent.services.webhooks import WebhookNotifier, WebhookService
from cloutagent_dev.events import load_event
from tests.fakes import FakeDatabase, FakeEventLog, FakeProjectStore, FakeRoomStore, FakeSockets

ADMIN = Identity(tenant_id="t_a", user_id="u_admin", role=Role.admin)


# -- the URL an admin may set -------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://example.com/hooks/cloutagent?team=7",
    "https://example.com:8443/x",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
])
def test_public_https_urls_are_accepted(url):
    assert check_webhook_url(url) == url


@pytest.mark.parametrize("url, why", [
    ("http://example.com/hook", "https://"),
    ("ftp://example.com/hook", "https://"),
    ("https://user:pass@example.com/hook", "credentials"),
    ("https://example.com/hook#part", "fragment"),
    ("https://169.254.169.254/latest/meta-data", "private"),  # the instance metadata service
    ("https://10.0.0.5/", "private"),
    ("https://172.16.3.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://127.0.0.1/", "private"),
    ("https://100.64.0.1/", "private"),  # carrier-grade NAT: not globally routable either
    ("https://0.0.0.0/", "private"),
    ("https://[::1]/", "private"),
    ("https://[fd00:ec2::254]/", "private"),  # fc00::/7, where AWS puts IMDS on IPv6
    ("https://[fe80::1]/", "private"),
    ("https://[::ffff:169.254.169.254]/", "private"),  # IPv4-mapped
    ("https://2130706433/", "private"),  # 127.0.0.1 as one number
    ("https://0x7f.1/", "private"),  # and in inet_aton's shorthand
    ("https://localhost/hook", "this machine"),
    ("https://api.localhost/hook", "this machine"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com:0/", "port"),
    ("https://example.com:70000/", "port"),
    ("https://under_score.example.com/", "DNS name"),
])
def test_urls_that_leave_https_or_point_inside_the_network_are_refused(url, why):
    with pytest.raises(ValueError, match=why):
        check_webhook_url(url)


def test_loopback_http_is_only_for_the_dev_stack():
    assert check_webhook_url("http://127.0.0.1:8123/hook", allow_loopback=True)
    assert check_webhook_url("http://localhost:8123/hook", allow_loopback=True)
    with pytest.raises(ValueError):
        check_webhook_url("http://127.0.0.1:8123/hook")
    # the flag opens loopback only: the rest of the private ranges stay shut, and http stays loopback-only
    for url in ("https://10.0.0.5/", "https://169.254.169.254/", "http://example.com/"):
        with pytest.raises(ValueError):
            check_webhook_url(url, allow_loopback=True)


@pytest.mark.parametrize("address, allowed", [
    ("93.184.216.34", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.31.255.255", False), ("192.168.0.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1", False),
    ("fd12::1", False), ("::ffff:10.0.0.1", False), ("192.0.2.1", False),
])
def test_only_globally_routable_addresses_may_be_sent_to(address, allowed):
    assert address_allowed(address) is allowed


def test_the_loopback_flag_allows_loopback_addresses_only():
    assert address_allowed("127.0.0.1", allow_loopback=True) and address_allowed("::1", allow_loopback=True)
    assert not address_allowed("10.0.0.1", allow_loopback=True)


def test_the_action_needs_a_known_format_and_event_and_admins_only():
    for bad in ({"format": "xml"}, {"events": ["run.started"]}, {"events": []}, {"url": "x"}):
        with pytest.raises(ValidationError):
            WebhookSet.model_validate({"projectId": "p_1", "url": "https://example.com/h", **bad})
    data = WebhookSet.model_validate({"projectId": "p_1", "url": "https://example.com/h"})
    assert (data.format, data.events) == ("json", ["run.waiting", "run.finished"])
    assert {MIN_ROLE[a] for a in ("webhook.set", "webhook.get", "webhook.delete")} == {Role.admin}


def test_the_signing_secret_is_sealed_under_a_context_no_project_secret_can_have():
    context = webhook_secret_context("t_a", "p_1")
    assert context == {"tenantId": "t_a", "projectId": "p_1", "name": "@webhook"}
    with pytest.raises(ValidationError):  # secret names are environment variable names: never '@...'
        from cloutagent.protocol.actions import SecretSet
        SecretSet.model_validate({"projectId": "p_1", "name": "@webhook", "value": "x"})


# -- what an event becomes, and how it is signed ----------------------------------------------------

REQUEST = {"requestId": "pr_1", "executionId": "e_1", "toolName": "Bash", "kind": "permission",
           "input": {"command": "rm -rf /tmp/x"}, "toolUseId": "tu_1", "timeoutSeconds": 300}
FINISHED = {"executionId": "e_1", "status": "failed", "usage": {"inputTokens": 1}, "costUsd": 0.0123,
            "durationMs": 10, "numTurns": 1, "sessionId": "s", "error": "Budget <exceeded> & stopped",
            "errorCode": "BUDGET_EXCEEDED"}


def test_a_permission_request_becomes_run_waiting_without_the_tools_input():
    n = notification_for("t_a", "p_1", "Website", "permission.request", 7, "2026-01-01T00:00:00.000Z", REQUEST)
    assert n.to_wire() == {
        "type": "run.waiting", "id": "evt_p_1_7", "createdAt": "2026-01-01T00:00:00.000Z", "tenantId": "t_a",
        "data": {"projectId": "p_1", "projectName": "Website", "executionId": "e_1", "requestId": "pr_1",
                 "toolName": "Bash", "kind": "permission"},
    }


def test_a_finished_execution_becomes_run_finished_and_other_events_nothing():
    n = notification_for("t_a", "p_1", "Website", "execution.finished", 12, "ts", FINISHED)
    assert n.type == "run.finished" and n.id == "evt_p_1_12"
    assert n.data == {"projectId": "p_1", "projectName": "Website", "executionId": "e_1", "status": "failed",
                      "costUsd": 0.0123, "error": "Budget <exceeded> & stopped", "errorCode": "BUDGET_EXCEEDED"}
    for name in ("execution.message", "permission.resolved", "project.state", "secret.changed"):
        assert notification_for("t_a", "p_1", "Website", name, 3, "ts", {}) is None


def test_the_signature_is_stripes_scheme_and_verifies_with_plain_hmac():
    # GIVEN a notification signed at a known time
    n = notification_for("t_a", "p_1", "Website", "permission.request", 7, "ts", REQUEST)
    secret, t = "whsec_test_secret", 1_763_712_000
    raw = wire.body(n, "json")
    headers = wire.headers(n, secret, t, raw)
    # THEN a receiver recomputes it from the header's t and the raw body, with nothing of ours
    fields = dict(part.split("=", 1) for part in headers["Cloutagent-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + raw, hashlib.sha256).hexdigest()
    assert fields == {"t": str(t), "v1": expected}
    assert headers["Cloutagent-Event-Id"] == "evt_p_1_7" and headers["Cloutagent-Event-Type"] == "run.waiting"
    assert json.loads(raw) == n.to_wire()
    # and another secret or a changed byte does not verify
    assert hmac.new(b"whsec_other", f"{t}.".encode() + raw, hashlib.sha256).hexdigest() != expected
    assert hmac.new(secret.encode(), f"{t}.".encode() + raw + b" ", hashlib.sha256).hexdigest() != expected


def test_the_slack_format_is_one_escaped_line_of_text():
    waiting = notification_for("t_a", "p_1", "Web <site>", "permission.request", 7, "ts", REQUEST)
    finished = notification_for("t_a", "p_1", "Web <site>", "execution.finished", 8, "ts", FINISHED)
    text = json.loads(wire.body(waiting, "slack"))
    assert set(text) == {"text"}
    assert text["text"] == "*Web &lt;site&gt;*: the agent asks to use Bash and is waiting for the team (run e_1)"
    assert json.loads(wire.body(finished, "slack"))["text"] == (
        "*Web &lt;site&gt;*: run e_1 failed ($0.0123): Budget &lt;exceeded&gt; &amp; stopped")


def test_the_stream_record_of_an_event_item_gives_its_tenant_and_event():
    records = load_event("notifier", tenant_id="t_a", project_id="p_1", execution_id="e_1")["Records"]
    tenant_id, event = DynamoEventLog.from_stream_image(records[0]["dynamodb"]["NewImage"])
    assert tenant_id == "t_a"
    assert (event.project_id, event.seq, event.event, event.data["executionId"]) == ("p_1", 7, "permission.request", "e_1")
    _, finished = DynamoEventLog.from_stream_image(records[1]["dynamodb"]["NewImage"])
    assert finished.event == "execution.finished" and finished.data["status"] == "completed"
    # any other item is not an event
    project_item = {"PK": {"S": "T#t_a"}, "SK": {"S": "PROJECT#p_1"}, "event": {"S": "permission.request"}}
    assert DynamoEventLog.from_stream_image(project_item) is None


# -- setting a webhook ------------------------------------------------------------------------------

class SealingCipher:
    """KMS's contract: what was sealed under a context opens only under that context."""

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        return json.dumps([context, plaintext])

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str:
        sealed_context, plaintext = json.loads(ciphertext)
        assert sealed_context == context, "opened under another context"
        return plaintext


class WebhookLog(FakeEventLog):
    """The fake event log, also keeping the webhook secret records its changes carry."""

    def __init__(self, db: FakeDatabase):
        super().__init__(db)
        self.sealed: dict[tuple[str, str], str] = {}

    def _apply(self, record: Any) -> None:
        if isinstance(record, WebhookSecretSealed):
            self.sealed[(record.tenant_id, record.project_id)] = record.ciphertext
        elif isinstance(record, WebhookSecretRemoved):
            self.sealed.pop((record.tenant_id, record.project_id), None)
        else:
            super()._apply(record)

    def sealed_secret(self, tenant_id: str, project_id: str) -> str | None:  # the WebhookStore port
        return self.sealed.get((tenant_id, project_id))


class FakePoster:
    """A receiver: answers each try with the next status (the last one from then on)."""

    def __init__(self, statuses: list[int | None], addresses: list[str] | None = None):
        self.statuses = statuses
        self.addresses = addresses or ["93.184.216.34"]
        self.tries: list[dict[str, Any]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        return self.addresses

    def post(self, url: str, address: str, body: bytes, headers: dict[str, str], timeout: float) -> Delivery:
        status = self.statuses[min(len(self.tries), len(self.statuses) - 1)]
        self.tries.append({"url": url, "address": address, "body": body, "headers": headers})
        return Delivery(status=status, error=None if status else "ConnectionRefusedError")


class World:
    def __init__(self, statuses: list[int | None] | None = None, addresses: list[str] | None = None,
                 allow_loopback: bool = False):
        self.db = FakeDatabase()
        self.projects = FakeProjectStore(self.db)
        self.log = WebhookLog(self.db)
        publisher = Publisher(self.log, Fanout(FakeRoomStore(), FakeSockets(), ThreadPoolExecutor(2)))
        self.service = WebhookService(self.projects, SealingCipher(), publisher)
        self.poster = FakePoster(statuses or [200], addresses)
        self.slept: list[float] = []
        self.notifier = WebhookNotifier(self.projects, self.log, SealingCipher(), self.poster,
                                        allow_loopback=allow_loopback,
                                        tries=Backoff(attempts=3, base_seconds=1.0, cap_seconds=4.0),
                                        clock=lambda: 1_763_712_000.0, sleep=self.slept.append)
        project = Project(tenant_id="t_a", project_id="p_1", name="Website", path="website", created_at="t",
                          updated_at="t")
        self.projects.create(project, Event(project_id="p_1", seq=1, event="project.created", ts="t", data={}))

    def set(self, **data: Any):
        return self.service.set(ADMIN, WebhookSet.model_validate({"projectId": "p_1", "url": "https://example.com/h",
                                                                   **data}))

    def deliver(self, name: str = "permission.request", data: dict | None = None, seq: int = 7) -> dict[str, int]:
        event = Event(project_id="p_1", seq=seq, event=name, ts="2026-01-01T00:00:00.000Z",
                      data=data or (REQUEST if name == "permission.request" else FINISHED))
        return self.notifier.deliver([("t_a", event)])


def test_setting_a_webhook_shows_its_secret_once_and_announces_only_the_host():
    world = World()
    created = world.set(url="https://hooks.slack.com/services/T/B/SECRETPART", format="slack")
    assert created.signing_secret.startswith("whsec_") and len(created.signing_secret) > 30
    assert "SECRETPART" not in repr(created) and created.signing_secret not in repr(created)
    project = world.projects.get("t_a", "p_1")
    assert project.webhook == created.config and "webhook" not in project.to_wire()  # admins only: webhook.get
    assert json.loads(world.log.sealed[("t_a", "p_1")])[0] == webhook_secret_context("t_a", "p_1")  # sealed
    [announced] = [e for e in world.db.events[("t_a", "p_1")] if e.event == "webhook.changed"]
    assert announced.data == {"action": "set", "host": "hooks.slack.com", "format": "slack",
                              "events": ["run.waiting", "run.finished"], "by": "u_admin"}
    # the reply carries the secret; webhook.get's never does
    assert replies.webhook_set("p_1", created)["signingSecret"] == created.signing_secret
    got = replies.webhook("p_1", world.service.get(ADMIN, "p_1"))
    assert created.signing_secret not in json.dumps(got) and got["webhook"]["url"].endswith("SECRETPART")


def test_setting_again_rotates_the_secret_and_delete_removes_both():
    world = World()
    first, second = world.set(), world.set()
    assert first.signing_secret != second.signing_secret
    assert json.loads(world.log.sealed[("t_a", "p_1")])[1] == second.signing_secret
    world.service.delete(ADMIN, "p_1")
    assert world.service.get(ADMIN, "p_1") is None and ("t_a", "p_1") not in world.log.sealed
    with pytest.raises(NotFound):
        world.service.delete(ADMIN, "p_1")


def test_a_url_into_the_network_is_a_bad_request_naming_the_field():
    with pytest.raises(BadRequest) as refused:
        World().set(url="https://169.254.169.254/latest/meta-data")
    assert refused.value.details == {"field": "url"}


# -- sending -------------------------------------------------------------------------------------

def signed_with(secret: str, attempt: dict[str, Any]) -> bool:
    fields = dict(p.split("=", 1) for p in attempt["headers"]["Cloutagent-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + attempt["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(fields["v1"], expected)


def test_a_subscribed_event_is_posted_signed_with_the_projects_secret():
    world = World()
    secret = world.set().signing_secret
    assert world.deliver() == {"delivered": 1}
    [attempt] = world.poster.tries
    assert attempt["url"] == "https://example.com/h" and attempt["address"] == "93.184.216.34"
    assert signed_with(secret, attempt) and json.loads(attempt["body"])["type"] == "run.waiting"


def test_a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx():
    # GIVEN a receiver that answers 500, then has no answer at all, then 200
    world = World(statuses=[500, None, 200])
    secret = world.set().signing_secret
    # WHEN the event is delivered  THEN the third try gets it, with the same id and a valid signature each time
    assert world.deliver("execution.finished") == {"delivered": 1}
    assert len(world.poster.tries) == 3 and len(world.slept) == 2 and all(0 <= s <= 4 for s in world.slept)
    assert {t["headers"]["Cloutagent-Event-Id"] for t in world.poster.tries} == {"evt_p_1_7"}
    assert all(signed_with(secret, t) for t in world.poster.tries)


def test_a_receiver_that_keeps_failing_is_given_up_on_without_raising():
    world = World(statuses=[503])
    world.set()
    assert world.deliver() == {"failed": 1}
    assert len(world.poster.tries) == 3


def test_a_host_that_resolves_into_the_network_is_refused_without_a_request():
    world = World(addresses=["93.184.216.34", "10.0.0.7"])  # one private answer is enough to refuse
    world.set()
    assert world.deliver() == {"refused": 1} and world.poster.tries == []
    loopback = World(addresses=["127.0.0.1"])
    loopback.set()
    assert loopback.deliver() == {"refused": 1}
    dev = World(addresses=["127.0.0.1"], allow_loopback=True)
    dev.set()
    assert dev.deliver() == {"delivered": 1}


def test_nothing_is_sent_without_a_webhook_or_for_an_event_not_subscribed():
    world = World()
    assert world.deliver() == {"skipped": 1}
    world.set(events=["run.finished"])
    assert world.deliver("permission.request") == {"skipped": 1}
    assert world.deliver("execution.message", data={"executionId": "e_1"}) == {"skipped": 1}
    assert world.poster.tries == []
    assert world.deliver("execution.finished") == {"delivered": 1}


def test_a_secret_that_cannot_be_opened_fails_that_event_only():
    world = World()
    world.set()
    world.log.sealed[("t_a", "p_1")] = json.dumps([webhook_secret_context("t_other", "p_1"), "whsec_x"])
    assert world.deliver() == {"failed": 1} and world.poster.tries == []


def test_a_stored_config_reads_back_with_its_defaults():
    config = WebhookConfig.model_validate({"url": "https://example.com/h", "createdAt": "t", "createdBy": "u"})
    assert config.format == "json" and config.events == ["run.waiting", "run.finished"]


# -- the HTTP adapter, against a receiver on loopback ------------------------------------------------

def test_the_poster_connects_to_the_given_address_but_names_the_urls_host():
    import http.server
    import threading

    from cloutagent.adapters.webhook_http import HttpWebhookPoster

    seen: list[tuple[str, str, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            seen.append((self.path, self.headers["Host"], self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        poster = HttpWebhookPoster()
        # GIVEN a URL whose name would resolve elsewhere  WHEN it is posted through the checked address
        delivery = poster.post(f"http://receiver.example:{port}/hook?x=1", "127.0.0.1", b'{"a":1}', {"X-T": "1"}, 5)
        # THEN the connection went to that address, and the request still names the URL's host
        assert delivery == Delivery(status=204)
        assert seen == [("/hook?x=1", f"receiver.example:{port}", b'{"a":1}')]
        assert poster.resolve("127.0.0.1", port) == ["127.0.0.1"]
    finally:
        server.shutdown()


def test_the_poster_gives_up_on_a_receiver_that_trickles_its_answer():
    import socket
    import threading
    import time

    from cloutagent.adapters.webhook_http import HttpWebhookPoster

    listener = socket.create_server(("127.0.0.1", 0))

    def trickle():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)  # each read comes well within a socket timeout; the whole answer never does

    threading.Thread(target=trickle, daemon=True).start()
    try:
        began = time.monotonic()
        delivery = HttpWebhookPoster().post(f"http://127.0.0.1:{listener.getsockname()[1]}/", "127.0.0.1", b"{}", {}, 1.0)
        assert delivery.status is None and delivery.error == "Timeout"
        assert time.monotonic() - began < 3
    finally:
        listener.close()
