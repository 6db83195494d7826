"""The tenant's audit log against moto: what is recorded (and what is not), for how long, by whom,
and that paging cannot leave the caller's partition (#20)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.audit import _decode_cursor, _encode_cursor
from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.models import AgentConfig
from cloutagent.errors import BadRequest
from cloutagent.protocol.actions import ProjectCreate, ProjectUpdate, WebhookSet
from cloutagent.settings import get_settings
from cloutagent.wiring import Container
from cloutagent_dev.billing import STRIPE_SECRET_NAME
from cloutagent_dev.fake_stripe import event_payload, sign, subscription_object


@pytest.fixture
def owner(make_user) -> Identity:
    user = make_user()
    return Identity(tenant_id=user["tenantId"], user_id=user["userId"], role=Role.owner, connection_id="c_audit",
                    display_name="owner@example.com")


def entries(container, identity: Identity, limit: int = 100) -> list[dict]:
    page = container.audit.list(identity, limit, None)
    return [e.to_wire() for e in page.entries if e.action != "apikey.create"]  # the dev stack's own key


def test_a_change_to_the_agent_s_powers_is_recorded_with_before_and_after_and_a_rename_is_not(aws, owner):
    project = aws.projects.create(owner, ProjectCreate(name="powers", path=uuid.uuid4().hex))
    aws.projects.update(owner, ProjectUpdate(projectId=project.project_id, name="renamed"))
    aws.projects.update(owner, ProjectUpdate(projectId=project.project_id, agent=AgentConfig(
        permission_mode="bypassPermissions", allowed_tools=["Bash"])))

    [entry] = entries(aws, owner)
    assert entry["action"] == "project.update" and entry["projectId"] == project.project_id
    assert entry["details"]["agent"]["from"]["permissionMode"] is None
    assert entry["details"]["agent"]["to"] == {"permissionMode": "bypassPermissions", "allowedTools": ["Bash"],
                                               "disallowedTools": [], "projectSettings": False}
    assert entry["actor"] == {"userId": owner.user_id, "displayName": "owner@example.com", "authType": "jwt",
                              "connectionId": "c_audit", "keyId": None}


def test_webhook_changes_are_recorded_by_host_never_by_url(aws, owner):
    from tests.integration.test_secrets_on_moto import project_key_id

    container = Container(settings=get_settings().model_copy(
        update={"kms_key_id": project_key_id(aws.clients.client("kms"))}), clients=aws.clients)
    project = container.projects.create(owner, ProjectCreate(name="hooks", path=uuid.uuid4().hex))
    url = "https://hooks.example.com/services/T000/B000/very-secret-path"
    container.webhooks.set(owner, WebhookSet(projectId=project.project_id, url=url))
    container.webhooks.delete(owner, project.project_id)

    deleted, made = entries(container, owner)
    assert (made["action"], deleted["action"]) == ("webhook.set", "webhook.delete")
    assert made["details"]["host"] == "hooks.example.com" and "very-secret-path" not in json.dumps(made)


def test_an_entry_expires_after_the_plan_s_audit_retention_and_listing_is_one_query(aws, owner, count_aws_calls):
    aws.audit.record(owner, "member.invite", "u_x", {"email": "x@example.com", "role": "viewer"})
    item = aws.table.client.query(
        TableName=aws.table.name, KeyConditionExpression="PK = :pk AND begins_with(SK, :a)",
        ExpressionAttributeValues={":pk": {"S": keys.tenant_pk(owner.tenant_id)}, ":a": {"S": keys.AUDIT_PREFIX}},
        ScanIndexForward=False, Limit=1)["Items"][0]
    days = aws.plan_catalog.entitlements("free").audit_retention_days
    assert abs(int(item["expiresAt"]["N"]) - (time.time() + days * 86400)) < 60
    with count_aws_calls() as calls:
        aws.audit.list(owner, 20, None)
    assert dict(calls.calls) == {"dynamodb.Query": 1}


def test_a_cursor_naming_another_tenant_s_entry_still_reads_only_the_caller_s_partition():
    foreign = _encode_cursor(keys.audit_sk("2026-12-02T12:00:00.000Z", "au_1"))
    start = _decode_cursor("t_mine", foreign)
    assert start["PK"] == {"S": keys.tenant_pk("t_mine")}
    for bad in (_encode_cursor(keys.apikey_sk("k_1")), "!!!", base64.urlsafe_b64encode(b"AUDIT#\x00").decode()):
        with pytest.raises(BadRequest):
            _decode_cursor("t_mine", bad)


@pytest.fixture(scope="module")
def billing(aws, ready):
    settings = get_settings().model_copy(update={
        "stripe_secret_name": STRIPE_SECRET_NAME, "stripe_api_base": ready["stripeApiBase"],
        "stripe_prices": json.dumps(ready["stripePrices"]),
    })
    return Container(settings=settings, clients=aws.clients)


def test_a_plan_change_from_stripe_is_recorded_once_as_stripe_s(billing, owner, ready):
    # GIVEN a subscription event that moves the tenant to pro
    payload = event_payload("customer.subscription.updated", subscription_object(
        customer=f"cus_{uuid.uuid4().hex[:8]}", price=ready["stripePrices"]["pro"], tenant_id=owner.tenant_id))
    signature = sign(payload, ready["stripeWebhookSecret"])
    # WHEN it is delivered twice
    for _ in range(2):
        billing.stripe_webhooks.receive(payload.encode(), signature)
    # THEN one entry says so, by Stripe
    [entry] = entries(billing, owner)
    assert entry["action"] == "plan.change" and entry["actor"]["userId"] == "stripe"
    assert entry["details"] == {"from": {"plan": "free", "status": "none"}, "to": {"plan": "pro", "status": "active"}}


def test_concurrent_secret_changes_each_commit_exactly_one_entry_with_them(aws, owner):
    # GIVEN 6 secrets set at once on one project: writers that lose the project's seq race retry
    from concurrent.futures import ThreadPoolExecutor

    from cloutagent.protocol.actions import SecretSet
    from tests.integration.test_secrets_on_moto import project_key_id

    container = Container(settings=get_settings().model_copy(
        update={"kms_key_id": project_key_id(aws.clients.client("kms"))}), clients=aws.clients)
    project = container.projects.create(owner, ProjectCreate(name="racing secrets", path=uuid.uuid4().hex))
    names = [f"RACE_{i}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda name: container.secrets.set(
            owner, SecretSet(projectId=project.project_id, name=name, value=f"v-{name}")), names))

    # THEN the log has one entry per secret: a lost race wrote none (the entry rides its transaction)
    logged = [e for e in entries(container, owner) if e["action"] == "secret.set"]
    assert sorted(e["details"]["name"] for e in logged) == names
    assert all(e["target"] == f"{project.project_id}/{e['details']['name']}" for e in logged)
