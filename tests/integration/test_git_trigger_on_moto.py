"""The trigger handlers against moto, fed the sample events: what trigger.set seals is what the
receiver opens, a delivery's once-only record is a real conditional write, and what a refused
delivery costs (it must stay cheap: anyone who knows the URL can send one)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from cloutagent.domain.executions import Outcome
from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.repositories import Repository
from cloutagent.domain.triggers import github_signature
from cloutagent.protocol.actions import ProjectCreate, SecretSet
from cloutagent.settings import get_settings
from cloutagent.wiring import Container
from cloutagent_dev.awscalls import counting
from cloutagent_dev.events import load_event
from tests.fakes import FakeLauncher
from tests.integration.test_secrets_on_moto import project_key_id
from tests.unit.test_triggers import RecordingGitHost
from tests.integration.conftest import RATE_COUNT


@pytest.fixture(scope="module")
def container(aws):
    settings = get_settings().model_copy(update={"kms_key_id": project_key_id(aws.clients.client("kms")),
                                                 "http_api_url": "https://hooks.example"})
    built = Container(settings=settings, clients=aws.clients, launcher=FakeLauncher())
    built.__dict__["git_host"] = RecordingGitHost()  # the Git host's API, recorded
    return built


@pytest.fixture
def handlers(container, monkeypatch):
    import functions.git_trigger.handler as receiver
    import functions.triggers.handler as triggers

    monkeypatch.setattr(triggers, "get_container", lambda: container)
    monkeypatch.setattr(receiver, "get_container", lambda: container)
    return triggers.handler, receiver.handler


def project_on_github(container) -> tuple[Identity, str]:
    member = container.tenants.ensure_tenant_for_user(f"trigger-{uuid.uuid4()}", "trigger@example.com")
    container.billing_store.grant_plan(member.tenant_id, "enterprise")
    identity = Identity(tenant_id=member.tenant_id, user_id=member.user_id, role=Role.owner)
    repository = Repository(url="https://github.com/acme/demo.git", token_secret="GH_TOKEN")
    pid = container.projects.create(identity, ProjectCreate(name="triggered", repository=repository)).project_id
    container.secrets.set(identity, SecretSet(projectId=pid, name="GH_TOKEN", value="ghp_token"))
    return identity, pid


def delivery(identity: Identity, pid: str, secret: str | None, delivery_id: str, **payload_values: str) -> dict:
    payload = load_event("github_issue_comment", **{"repo": "acme/demo", "login": "octo", "association": "MEMBER",
                                                    **payload_values})
    body = json.dumps(payload).encode()
    return load_event("git_trigger", tenant_id=identity.tenant_id, project_id=pid, delivery_id=delivery_id,
                      signature=github_signature(secret, body) if secret else "sha256=0",
                      body_base64=base64.b64encode(body).decode())


def test_a_sealed_secret_opens_for_the_receiver_and_a_delivery_starts_once(container, handlers, event_for):
    set_trigger, receive = handlers
    identity, pid = project_on_github(container)
    # GIVEN the sample trigger.set through its handler: the project read, one seal, one transaction
    # (the trigger and its trigger.changed event), and the room's subscribers read to broadcast it
    with counting(container, "dynamodb", "kms") as calls:
        reply = json.loads(set_trigger(event_for("trigger.set", tenant_id=identity.tenant_id,
                                                 user_id=identity.user_id, project_id=pid))["body"])
    assert reply["type"] == "response", reply
    # and the audit entry (#20): the tenant's plan for its retention (GetItem); the entry itself is
    # one more write of the same transaction
    assert dict(calls.calls) == {"kms.Encrypt": 1, "dynamodb.GetItem": 2,
                                 "dynamodb.TransactWriteItems": 1,
                                 "dynamodb.Query": 1, **RATE_COUNT}
    secret = reply["data"]["secret"]
    assert reply["data"]["url"] == f"https://hooks.example/v1/hooks/github/{identity.tenant_id}/{pid}"
    assert reply["data"]["trigger"]["trustedLogins"] == ["octocat"]

    # WHEN a wrongly signed delivery comes THEN 401, for one read and one decrypt, and nothing written
    with counting(container, "dynamodb", "kms") as calls:
        refused = receive(delivery(identity, pid, "trg_wrong", str(uuid.uuid4())))
    assert refused["statusCode"] == 401
    assert dict(calls.calls) == {"dynamodb.GetItem": 1, "kms.Decrypt": 1}
    # AND for a project with no trigger, one read and the same answer
    with counting(container, "dynamodb", "kms") as calls:
        unknown = receive(delivery(identity, "p_none", secret, str(uuid.uuid4())))
    assert (unknown["statusCode"], unknown["body"]) == (401, refused["body"])
    assert dict(calls.calls) == {"dynamodb.GetItem": 1}

    # WHEN it is signed THEN one run starts and the issue is answered with the repository's token
    first = receive(delivery(identity, pid, secret, "d-1"))
    assert (first["statusCode"], json.loads(first["body"])["status"]) == (200, "started"), first
    execution_id = json.loads(first["body"])["executionId"]
    execution = container.execution_store.get(identity.tenant_id, pid, execution_id)
    assert execution.trigger == {"provider": "github", "repo": "acme/demo", "kind": "issue", "number": 7}
    assert container.git_host.comments[-1][1] == "ghp_token"
    # AND its redelivery is stopped by the conditional put, before any run or comment
    comments = len(container.git_host.comments)
    again = receive(delivery(identity, pid, secret, "d-1"))
    assert json.loads(again["body"]) == {"status": "duplicate"}
    assert len(container.git_host.comments) == comments
    # AND deleting the project (once the run is over) takes the trigger and its deliveries with it
    container.executions.finish(execution, Outcome(status="completed"))
    container.projects.delete(identity, pid)
    assert container.trigger_store.get(identity.tenant_id, pid) is None
    assert container.trigger_store.claim_delivery(identity.tenant_id, pid, "github", "comment-3001", 60)
