"""Billing handlers and the usage outbox against moto and the stack's fake Stripe, in-process."""

from __future__ import annotations

import base64
import json
import time
import urllib.request

import pytest

from cloutagent.adapters.dynamo import keys
from cloutagent.domain.executions import Execution, Outcome, Usage
from cloutagent.domain.identity import Identity, Role
from cloutagent.ids import new_id, now_iso
from cloutagent_dev.billing import STRIPE_SECRET_NAME
from cloutagent_dev.lambdas import LambdaContext
from cloutagent_dev.fake_stripe import event_payload, sign, subscription_object
from cloutagent.settings import get_settings
from cloutagent.wiring import Container


def body(result):
    return json.loads(result["body"])


def fake(ready, path: str, data: dict | None = None, method: str = "GET") -> dict:
    request = urllib.request.Request(f"{ready['stripeApiBase']}{path}", method=method,
                                     data=json.dumps(data).encode() if data is not None else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def billing(aws, ready):
    """The container a deployment with Stripe configured gets (the secret and prices the stack made)."""
    settings = get_settings().model_copy(update={
        "stripe_secret_name": STRIPE_SECRET_NAME, "stripe_api_base": ready["stripeApiBase"],
        "stripe_prices": json.dumps(ready["stripePrices"]),
    })
    return Container(settings=settings, clients=aws.clients)


@pytest.fixture
def tenant(billing, make_user):
    user = make_user()
    return user["tenantId"], Identity(tenant_id=user["tenantId"], user_id=user["userId"], role=Role.owner)


@pytest.fixture
def via(billing, monkeypatch):
    """Run a function's handler with the billing container."""
    import functions.billing.handler as billing_fn
    import functions.stripe_webhook.handler as webhook_fn
    import functions.usage_reporter.handler as reporter_fn

    for module in (billing_fn, webhook_fn, reporter_fn):
        monkeypatch.setattr(module, "get_container", lambda: billing)
    return {"billing": billing_fn.handler, "stripe_webhook": webhook_fn.handler, "usage_reporter": reporter_fn.handler}


def finished(tenant_id: str, cost: float) -> tuple[Execution, Outcome]:
    execution = Execution(tenant_id=tenant_id, project_id="p_meter", execution_id=new_id("x_"), prompt="hi",
                          created_by="u", created_at=now_iso())
    return execution, Outcome(status="completed", cost_usd=cost, usage=Usage(input_tokens=10, output_tokens=5))


# -- the webhook ---------------------------------------------------------------------------------
def test_the_sample_webhook_event_applies_once_and_its_idempotency_record_sits_outside_the_tenant_keyspace(
        via, billing, event_for, tenant, ready, count_aws_calls):
    tenant_id, _ = tenant
    payload = event_payload("customer.subscription.updated",
                            subscription_object(customer="cus_sample", price=ready["stripePrices"]["pro"], tenant_id=tenant_id))
    event = event_for("stripe_webhook", body_base64=base64.b64encode(payload.encode()).decode(),
                      stripe_signature=sign(payload, ready["stripeWebhookSecret"]))

    first = via["stripe_webhook"](event, LambdaContext("cloutagent-stripe_webhook"))
    assert first["statusCode"] == 200 and body(first)["outcome"] == "applied"
    assert billing.billing_store.get_tenant(tenant_id).plan == "pro"
    with count_aws_calls() as replay:
        again = via["stripe_webhook"](event)
    assert body(again) == body(first)
    assert dict(replay.calls) == {"dynamodb.PutItem": 1}  # the idempotency record answers; nothing else runs

    event_id = json.loads(payload)["id"]
    records = billing.table.client.query(
        TableName=billing.table.name, KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.STRIPE_IDEMPOTENCY_PK}})["Items"]
    mine = [r for r in records if r["SK"]["S"].startswith("stripe-event#")]
    assert mine and all("expiresAt" in r and r["status"]["S"] == "COMPLETED" for r in mine)
    assert all(event_id not in r["SK"]["S"] for r in mine)  # keyed by a hash of the event id


def test_a_bad_signature_is_400_before_anything_is_read_or_written(via, event_for, ready, count_aws_calls):
    payload = event_payload("customer.subscription.updated", {"id": "sub_x", "metadata": {}})
    event = event_for("stripe_webhook", body_base64=base64.b64encode(payload.encode()).decode(),
                      stripe_signature=sign(payload, "whsec_wrong"))
    with count_aws_calls() as counter:
        reply = via["stripe_webhook"](event)
    assert reply["statusCode"] == 400 and body(reply)["error"]["code"] == "BAD_REQUEST"
    assert not any(name.startswith("dynamodb.") for name in counter.calls)


def test_a_customer_is_created_once_per_tenant_with_an_idempotency_key(billing, tenant):
    tenant_id, _ = tenant
    first = billing.payments.create_customer(tenant_id, "acme")
    assert billing.payments.create_customer(tenant_id, "acme") == first  # a retry gets the same customer
    assert billing.billing_store.set_customer(tenant_id, first) == first
    assert billing.billing_store.find_tenant_by_customer(first).tenant_id == tenant_id


# -- spend and the outbox --------------------------------------------------------------------------
def test_a_finished_run_counts_once_toward_the_month(billing, tenant):
    tenant_id, _ = tenant
    execution, outcome = finished(tenant_id, 0.75)
    billing.licenses.record_execution_cost(execution, outcome)
    billing.licenses.record_execution_cost(execution, outcome)  # a second report of the same end
    month = time.strftime("%Y-%m", time.gmtime())
    used = billing.billing_store.get_usage(tenant_id, month)
    assert (used.spend_usd, used.executions, used.tokens) == (0.75, 1, 15)
    assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "unbilled"  # no customer


class CrashAfterSend:
    """A store whose first "mark sent" dies, as a worker killed between Stripe's answer and the write."""

    def __init__(self, store):
        self.store = store
        self.crashes = 1

    def __getattr__(self, name):
        return getattr(self.store, name)

    def mark_meter_sent(self, *args):
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("worker killed")
        return self.store.mark_meter_sent(*args)


def test_a_worker_that_crashes_after_sending_and_retries_charges_once(billing, tenant, ready):
    from cloutagent.services.billing.metering import UsageReporter

    tenant_id, _ = tenant
    billing.billing_store.set_customer(tenant_id, billing.payments.create_customer(tenant_id, "acme"))
    execution, outcome = finished(tenant_id, 0.5)
    billing.licenses.record_execution_cost(execution, outcome)
    assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "pending"

    fake(ready, "/_fake/faults", {"path": "/v1/billing/meter_events", "status": 503, "times": 1}, "POST")
    crashing = UsageReporter(CrashAfterSend(billing.billing_store), billing.payments, event_name="cloutagent_usage")
    with pytest.raises(RuntimeError):
        crashing.report(tenant_id, execution.execution_id)  # 503, retried by the client, sent, then the crash
    assert billing.usage_reporter.report(tenant_id, execution.execution_id) in ("sent", "skipped")  # the retry
    assert billing.usage_reporter.report(tenant_id, execution.execution_id) == "skipped"  # and once more

    seen = fake(ready, f"/_fake/meter_events?identifier={execution.execution_id}")
    assert len(seen["data"]) == 1 and seen["requests"] >= 3  # the 503, its retry, the second worker
    assert seen["data"][0]["payload"] == {"stripe_customer_id": billing.billing_store.get_tenant(tenant_id).stripe_customer_id,
                                          "value": "500000"}
    assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "sent"


def test_the_stream_sample_event_reports_through_the_handler(via, billing, event_for, tenant, ready):
    tenant_id, _ = tenant
    customer = billing.billing_store.set_customer(tenant_id, billing.payments.create_customer(tenant_id, "acme"))
    execution, outcome = finished(tenant_id, 0.12)
    billing.licenses.record_execution_cost(execution, outcome)
    event = event_for("usage_reporter", tenant_id=tenant_id, execution_id=execution.execution_id, customer_id=customer)
    assert via["usage_reporter"](event) == {"batchItemFailures": []}
    assert via["usage_reporter"](event) == {"batchItemFailures": []}  # a stream retry: nothing more
    assert len(fake(ready, f"/_fake/meter_events?identifier={execution.execution_id}")["data"]) == 1


# -- configuration -------------------------------------------------------------------------------
def test_without_stripe_every_tenant_is_free_and_billing_actions_say_so(aws, event_for, tenant, monkeypatch):
    import functions.billing.handler as billing_fn

    tenant_id, _ = tenant
    plain = Container(settings=get_settings().model_copy(update={"stripe_secret_name": ""}), clients=aws.clients)
    monkeypatch.setattr(billing_fn, "get_container", lambda: plain)
    plan = body(billing_fn.handler(event_for("plan.get", tenant_id=tenant_id)))["data"]
    assert (plan["plan"], plan["billing"], plan["entitlements"]["projects"]) == ("free", "not_configured", 3)
    for name in ("billing.checkout", "billing.portal"):
        reply = body(billing_fn.handler(event_for(name, tenant_id=tenant_id)))
        assert reply["error"]["code"] == "BILLING_NOT_CONFIGURED", name
    usage = body(billing_fn.handler(event_for("usage.get", tenant_id=tenant_id)))["data"]
    assert usage["month"] == "2026-11" and usage["capUsd"] == 5


def test_sample_billing_events_run_against_moto(via, event_for, tenant):
    tenant_id, _ = tenant
    assert body(via["billing"](event_for("plan.get", tenant_id=tenant_id)))["data"]["plan"] == "free"
    checkout = body(via["billing"](event_for("billing.checkout", tenant_id=tenant_id)))["data"]
    assert "/checkout/cs_test_" in checkout["url"]
    assert "/portal/" in body(via["billing"](event_for("billing.portal", tenant_id=tenant_id)))["data"]["url"]
