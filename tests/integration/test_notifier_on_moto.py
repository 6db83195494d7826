"""The notifier's handler, fed the sample stream event, against moto: what a webhook costs in AWS calls,
and that what webhook.set stores (config on the project, secret sealed under KMS) is what it reads."""

from __future__ import annotations

import json
import uuid

import pytest

from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.notifications import Delivery
from cloutagent.protocol.actions import ProjectCreate
from cloutagent.services.webhooks import WebhookNotifier
from cloutagent.settings import get_settings
from cloutagent.wiring import Container
from cloutagent_dev.events import load_event
from functions.notifier.handler import handler as notifier
from tests.integration.test_secrets_on_moto import project_key_id
from tests.integration.conftest import RATE_COUNT


@pytest.fixture(scope="module")
def container(aws):
    settings = get_settings().model_copy(update={"kms_key_id": project_key_id(aws.clients.client("kms"))})
    return Container(settings=settings, clients=aws.clients)


class Receiver:
    def __init__(self):
        self.bodies: list[bytes] = []

    def resolve(self, host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    def post(self, url, address, body, headers, timeout) -> Delivery:
        self.bodies.append(body)
        return Delivery(status=200)


def new_project(aws) -> tuple[Identity, str]:
    member = aws.tenants.ensure_tenant_for_user(f"hooks-{uuid.uuid4()}", "hooks@example.com")
    identity = Identity(tenant_id=member.tenant_id, user_id=member.user_id, role=Role.owner)
    return identity, aws.projects.create(identity, ProjectCreate(name="hooked")).project_id


def test_a_project_without_a_webhook_costs_one_read_per_event(aws, count_aws_calls):
    identity, pid = new_project(aws)
    event = load_event("notifier", tenant_id=identity.tenant_id, project_id=pid, execution_id="e_1")
    with count_aws_calls() as calls:
        assert notifier(event) == {"skipped": 2}
    assert dict(calls.calls) == {"dynamodb.GetItem": 2}


def test_what_webhook_set_stores_is_what_the_notifier_opens_and_signs_with(container, event_for, monkeypatch):
    import functions.notifications.handler as notifications
    from cloutagent_dev.awscalls import counting

    monkeypatch.setattr(notifications, "get_container", lambda: container)
    # GIVEN the sample webhook.set through its handler: one seal, one transaction (config, secret, event),
    # and the room's subscribers read to broadcast the event
    identity, pid = new_project(container)
    with counting(container, "dynamodb", "kms") as calls:
        reply = json.loads(notifications.handler(event_for("webhook.set", tenant_id=identity.tenant_id,
                                                           user_id=identity.user_id, project_id=pid))["body"])
    assert reply["type"] == "response", reply
    # the project, then the tenant (its plan's audit retention: the entry commits with the change)
    assert dict(calls.calls) == {"kms.Encrypt": 1, "dynamodb.GetItem": 2, "dynamodb.TransactWriteItems": 1,
                                 "dynamodb.Query": 1, **RATE_COUNT}
    config = container.project_store.get(identity.tenant_id, pid).webhook
    assert config.to_wire() == reply["data"]["webhook"]  # the project item's attribute survives the round trip
    receiver = Receiver()
    sender = WebhookNotifier(container.project_store, container.webhook_store, container.secret_cipher, receiver)
    records = load_event("notifier", tenant_id=identity.tenant_id, project_id=pid, execution_id="e_1")["Records"]
    stored = [container.event_log.from_stream_image(r["dynamodb"]["NewImage"]) for r in records]
    # WHEN both sample events are delivered  THEN each costs the project, the secret, and one decrypt
    with counting(container, "dynamodb", "kms") as calls:
        assert sender.deliver(stored) == {"delivered": 2}
    assert dict(calls.calls) == {"dynamodb.GetItem": 4, "kms.Decrypt": 2}
    assert [json.loads(b)["type"] for b in receiver.bodies] == ["run.waiting", "run.finished"]
    # and deleting the project takes the sealed secret with it
    container.projects.delete(identity, pid)
    assert container.webhook_store.sealed_secret(identity.tenant_id, pid) is None
