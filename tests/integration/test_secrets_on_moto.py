"""Secrets against the stack's moto: what is stored, KMS contexts, call budgets, failures, races."""

from __future__ import annotations

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.kms_secrets import KmsSecretCipher
from cloutagent.adapters.platform_secrets import ANTHROPIC_SECRET, STRIPE_SECRET
from cloutagent.domain.secrets import encryption_context
from cloutagent.errors import SecretsUnavailable
from cloutagent.settings import get_settings
from cloutagent.wiring import Container
from tests.integration.conftest import RATE_COUNT


def body(result):
    assert result["statusCode"] == 200
    return json.loads(result["body"])


def project_key_id(kms) -> str:
    """The key the local stack made for project secrets (the ready file does not name it)."""
    for key in kms.list_keys()["Keys"]:
        if kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"].get("Description") == "cloutagent project secrets (local)":
            return key["KeyId"]
    raise AssertionError("the local stack made no project key")


@pytest.fixture(scope="module")
def container(aws):
    settings = get_settings().model_copy(update={"kms_key_id": project_key_id(aws.clients.client("kms"))})
    return Container(settings=settings, clients=aws.clients)


@pytest.fixture
def call(container, event_for, monkeypatch):
    """Run a sample event through its real handler, wired to ``container``; return the reply frame."""
    import functions.projects.handler as projects
    import functions.secrets.handler as secrets

    monkeypatch.setattr(projects, "get_container", lambda: container)
    monkeypatch.setattr(secrets, "get_container", lambda: container)

    def run(name: str, body_data: dict | None = None, **values):
        event = event_for(name, **values)
        if body_data is not None:
            frame = json.loads(event["body"])
            frame["data"].update(body_data)
            event["body"] = json.dumps(frame)
        handler = projects.handler if name.startswith("project.") else secrets.handler
        return body(handler(event))

    return run


@pytest.fixture
def project(call):
    return call("project.create", {"name": f"secrets {uuid.uuid4().hex[:6]}", "path": uuid.uuid4().hex})["data"]["project"]["projectId"]


def stored_item(container, ready, pid, name):
    return container.table.get(keys.project_pk(ready["tenantId"], pid), keys.secret_sk(name))


def test_the_sample_events_set_list_and_delete_and_only_ciphertext_is_stored(call, container, ready, project):
    # GIVEN a project; WHEN the sample secret.set event runs
    reply = call("secret.set", project_id=project)
    assert reply["type"] == "response", reply
    assert reply["data"]["secret"]["name"] == "DEPLOY_TOKEN" and "value" not in json.dumps(reply)

    # THEN the item holds a ciphertext that is not the value, under the project partition
    item = stored_item(container, ready, project, "DEPLOY_TOKEN")
    assert set(item) == {"PK", "SK", "name", "ciphertext", "updatedAt", "updatedBy"}
    assert item["SK"] == "SECRET#DEPLOY_TOKEN" and item["updatedBy"] == ready["userId"]
    assert b"example-not-a-real-token" not in base64.b64decode(item["ciphertext"])
    assert "example-not-a-real-token" not in json.dumps(item)

    # and the audit event is in the project's log, without the value
    events, _ = container.event_log.read(ready["tenantId"], project, after_seq=0, limit=10)
    assert events[-1].event == "secret.changed"
    assert events[-1].data == {"name": "DEPLOY_TOKEN", "action": "set", "by": ready["userId"]}

    listed = call("secret.list", project_id=project)["data"]
    assert listed == {"projectId": project, "secrets": [{"name": "DEPLOY_TOKEN", "updatedAt": item["updatedAt"]}]}

    assert call("secret.delete", project_id=project)["data"] == {"projectId": project, "name": "DEPLOY_TOKEN", "deleted": True}
    assert stored_item(container, ready, project, "DEPLOY_TOKEN") is None
    assert call("secret.list", project_id=project)["data"]["secrets"] == []
    events, _ = container.event_log.read(ready["tenantId"], project, after_seq=0, limit=10)
    assert events[-1].data == {"name": "DEPLOY_TOKEN", "action": "deleted", "by": ready["userId"]}
    assert call("secret.delete", project_id=project)["error"]["code"] == "NOT_FOUND"


def test_secret_set_costs_one_encrypt_the_project_read_one_transaction_and_the_subscriber_query(call, project, count_aws_calls):
    with count_aws_calls("dynamodb", "kms") as counter:
        reply = call("secret.set", project_id=project)
    assert reply["type"] == "response", reply
    # and the audit entry (#20): the tenant's plan for its retention (GetItem); the entry itself is
    # one more write of the same transaction
    assert dict(counter.calls) == {"kms.Encrypt": 1, "dynamodb.GetItem": 2,
                                   "dynamodb.TransactWriteItems": 1,
                                   "dynamodb.Query": 1, **RATE_COUNT}

    with count_aws_calls("dynamodb", "kms") as counter:
        call("secret.list", project_id=project)
    assert dict(counter.calls) == {"dynamodb.GetItem": 1, **RATE_COUNT}


def test_the_executor_gets_every_value_back_in_parallel_with_one_query(container, call, ready, project, count_aws_calls):
    values = {f"S_{i}": f"value-{i}-{uuid.uuid4().hex}" for i in range(7)}
    for name, value in values.items():
        assert call("secret.set", {"name": name, "value": value}, project_id=project)["type"] == "response"

    with count_aws_calls("dynamodb", "kms") as counter:
        env = container.secrets.environment(ready["tenantId"], project)
    assert env == values
    assert dict(counter.calls) == {"dynamodb.Query": 1, "kms.Decrypt": 7}


def test_a_project_without_secrets_needs_no_kms_at_all(aws, call, ready, project):
    unconfigured = Container(settings=get_settings().model_copy(update={"kms_key_id": ""}), clients=aws.clients)
    assert unconfigured.secrets.environment(ready["tenantId"], project) == {}


def test_a_ciphertext_moved_to_another_tenant_project_or_name_cannot_be_decrypted(container, call, ready, project):
    # GIVEN a stored secret
    call("secret.set", {"name": "MOVE_ME", "value": "moved-value"}, project_id=project)
    ciphertext = stored_item(container, ready, project, "MOVE_ME")["ciphertext"]
    cipher, kms = container.secret_cipher, container.clients.client("kms")
    own = encryption_context(ready["tenantId"], project, "MOVE_ME")
    assert cipher.decrypt(ciphertext, own) == "moved-value"

    # WHEN it is opened under any other context THEN KMS refuses (moto enforces the context)
    for other in ({**own, "tenantId": "t_other"}, {**own, "projectId": "p_other"}, {**own, "name": "OTHER"}, {}):
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=other)
        with pytest.raises(SecretsUnavailable):
            cipher.decrypt(ciphertext, other)


def test_a_secret_copied_into_another_project_fails_the_executor_loudly(container, call, ready, project):
    # GIVEN someone with table access copies a sealed item into another project of the tenant
    call("secret.set", {"name": "COPIED", "value": "copied-value"}, project_id=project)
    other = call("project.create", {"name": "other", "path": uuid.uuid4().hex})["data"]["project"]["projectId"]
    item = stored_item(container, ready, project, "COPIED")
    container.table.put({**item, "PK": keys.project_pk(ready["tenantId"], other)})

    # WHEN the executor opens that project's secrets THEN it fails, naming the secret but not its value
    with pytest.raises(SecretsUnavailable) as caught:
        container.secrets.environment(ready["tenantId"], other)
    assert "COPIED" in caught.value.message and "copied-value" not in caught.value.message


def test_kms_unavailable_is_secrets_unavailable_and_nothing_is_written(container, call, ready, project, monkeypatch):
    # GIVEN KMS answers every Encrypt with an internal error
    kms = boto3.client("kms", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    stubber = Stubber(kms)
    stubber.add_client_error("encrypt", service_error_code="KMSInternalException", http_status_code=500)
    monkeypatch.setattr(container.secrets, "cipher", KmsSecretCipher(kms, container.settings.kms_key_id))
    before = container.project_store.get(ready["tenantId"], project).last_seq

    # WHEN a secret is set
    with stubber:
        reply = call("secret.set", {"name": "NEVER_STORED", "value": "never-stored-value"}, project_id=project)

    # THEN a typed error, not INTERNAL, and no item, no event, no name
    assert reply["error"]["code"] == "SECRETS_UNAVAILABLE" and "never-stored-value" not in json.dumps(reply)
    assert stored_item(container, ready, project, "NEVER_STORED") is None
    assert container.project_store.get(ready["tenantId"], project).last_seq == before
    assert call("secret.list", project_id=project)["data"]["secrets"] == []


def test_another_tenants_project_is_project_not_found(call, project):
    for name in ("secret.set", "secret.list", "secret.delete"):
        reply = call(name, project_id=project, tenant_id="t_someone_else")
        assert reply["error"]["code"] == "PROJECT_NOT_FOUND", (name, reply)


def test_concurrent_sets_all_land_and_the_limit_holds_under_a_race(call, container, ready, project):
    # GIVEN 45 secrets
    for i in range(45):
        call("secret.set", {"name": f"BASE_{i}", "value": "v"}, project_id=project)

    # WHEN ten new names are set at once
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda i: call("secret.set", {"name": f"RACE_{i}", "value": f"v{i}"}, project_id=project),
                                range(10)))

    # THEN exactly five fit, the rest are LIMIT_EXCEEDED, and names and items agree
    codes = sorted(r["error"]["code"] if r["type"] == "error" else "OK" for r in replies)
    assert codes == ["LIMIT_EXCEEDED"] * 5 + ["OK"] * 5, replies
    listed = {s["name"] for s in call("secret.list", project_id=project)["data"]["secrets"]}
    assert len(listed) == 50
    assert set(container.secrets.environment(ready["tenantId"], project)) == listed
    # and overwriting an existing name at the limit is still fine
    assert call("secret.set", {"name": "BASE_0", "value": "new"}, project_id=project)["type"] == "response"


def test_the_local_stack_provisions_the_platform_secrets(container):
    stripe = container.platform_secrets.get(STRIPE_SECRET)
    assert set(stripe) == {"apiKey", "webhookSecret"} and stripe["webhookSecret"].startswith("whsec_")
    assert set(container.platform_secrets.get(ANTHROPIC_SECRET)) == {"apiKey"}
