"""Stripe faults: a webhook crash half-way and its retry, and 5xx/timeouts from Stripe's API while
reporting usage, converge to the right entitlement and never charge a run twice."""

from __future__ import annotations

import base64
import json

import pytest

from cloutagent.adapters.billing.stripe import StripePayments
from cloutagent_dev.fake_stripe import event_payload, sign, subscription_object
from cloutagent_dev.lambdas import LambdaContext
from cloutagent.services.billing.metering import UsageReporter
from tests.integration.test_billing_on_moto import billing, body, fake, finished, tenant, via  # noqa: F401


def _delivery(event_for, ready, tenant_id: str, price: str, **kwargs):
    payload = event_payload("customer.subscription.updated",
                            subscription_object(customer=f"cus_{tenant_id[-8:]}", price=price, tenant_id=tenant_id), **kwargs)
    return event_for("stripe_webhook", body_base64=base64.b64encode(payload.encode()).decode(),
                     stripe_signature=sign(payload, ready["stripeWebhookSecret"]))


def test_a_webhook_that_crashes_half_way_is_applied_once_when_stripe_retries(via, billing, event_for, tenant, ready, monkeypatch):
    tenant_id, _ = tenant
    delivery = _delivery(event_for, ready, tenant_id, ready["stripePrices"]["pro"])
    real_apply = billing.billing_store.apply_subscription
    calls = []

    def crash_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("the Lambda died half-way")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(billing.billing_store, "apply_subscription", crash_once)

    # WHEN the first delivery crashes inside the handler
    crashed = via["stripe_webhook"](delivery, LambdaContext("cloutagent-stripe_webhook"))
    assert crashed["statusCode"] == 500 and "Traceback" not in crashed["body"]
    assert billing.billing_store.get_tenant(tenant_id).plan == "free"

    # THEN Stripe's retry of the very same event is processed (no stale idempotency record) ...
    retried = via["stripe_webhook"](delivery, LambdaContext("cloutagent-stripe_webhook"))
    assert retried["statusCode"] == 200 and body(retried)["outcome"] == "applied"
    # ... and a third delivery changes nothing more
    again = via["stripe_webhook"](delivery, LambdaContext("cloutagent-stripe_webhook"))
    assert body(again) == body(retried) and len(calls) == 2
    assert billing.billing_store.get_tenant(tenant_id).plan == "pro"


def _pending_run(billing, tenant_id: str, cost: float):
    billing.billing_store.set_customer(tenant_id, billing.payments.create_customer(tenant_id, "acme"))
    execution, outcome = finished(tenant_id, cost)
    billing.licenses.record_execution_cost(execution, outcome)
    return execution


def test_a_5xx_after_stripe_recorded_the_event_is_retried_with_the_same_key_and_counts_once(billing, tenant, ready):
    tenant_id, _ = tenant
    execution = _pending_run(billing, tenant_id, 0.25)
    # Stripe records the meter event, then the answer is lost as a 500; the client retries with the
    # same idempotency key and gets the recorded answer back
    fake(ready, "/_fake/faults", {"path": "/v1/billing/meter_events", "status": 500, "times": 1, "when": "after"}, "POST")
    assert billing.usage_reporter.report(tenant_id, execution.execution_id) == "sent"
    seen = fake(ready, f"/_fake/meter_events?identifier={execution.execution_id}")
    assert len(seen["data"]) == 1 and seen["requests"] == 2


def test_stripe_refusing_attempts_leaves_the_run_pending_until_a_sweep_sends_it_once(billing, tenant, ready):
    tenant_id, _ = tenant
    execution = _pending_run(billing, tenant_id, 0.4)
    fake(ready, "/_fake/faults", {"path": "/v1/billing/meter_events", "status": 503, "times": 3}, "POST")
    # The local stack's own background reporter sweeps the same outbox, so either worker may meet
    # the refusals; whichever does must leave the record pending, never lost and never doubled.
    try:
        billing.usage_reporter.report(tenant_id, execution.execution_id)
    except Exception:
        assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "pending"
    fake(ready, "/_fake/faults", None, "DELETE")

    billing.usage_reporter.sweep(min_age_seconds=0, limit=10_000)  # other tests leave records too
    assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "sent"
    assert billing.usage_reporter.report(tenant_id, execution.execution_id) == "skipped"
    seen = fake(ready, f"/_fake/meter_events?identifier={execution.execution_id}")
    assert len(seen["data"]) == 1 and seen["requests"] >= 2  # refused attempts happened, one event stands


def test_stripe_timeouts_converge_to_exactly_one_meter_event(billing, tenant, ready):
    tenant_id, _ = tenant
    execution = _pending_run(billing, tenant_id, 0.75)
    impatient = StripePayments(lambda: billing.platform_secrets.get(billing.settings.stripe_secret_name),
                              api_base=ready["stripeApiBase"], timeout=0.3)
    reporter = UsageReporter(billing.billing_store, impatient, event_name="cloutagent_usage")
    # Stripe is slow: the first attempts time out on our side, though Stripe may still record them
    fake(ready, "/_fake/faults", {"path": "/v1/billing/meter_events", "times": 3, "when": "after", "status": 0,
                                  "delaySeconds": 1.0}, "POST")
    try:
        first = reporter.report(tenant_id, execution.execution_id)  # a retry may get the recorded answer back
    except Exception:
        first = "failed"
        # The local stack's own poller sweeps records older than a second, so it may meet the slow
        # attempts too and finish the job while ours gives up: either way the record is never lost
        assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status in ("pending", "sent")
    fake(ready, "/_fake/faults", None, "DELETE")
    if first == "failed":
        assert reporter.report(tenant_id, execution.execution_id) in ("sent", "skipped")
    assert reporter.report(tenant_id, execution.execution_id) == "skipped"

    seen = fake(ready, f"/_fake/meter_events?identifier={execution.execution_id}")
    assert len(seen["data"]) == 1 and seen["requests"] >= 2  # at least one attempt timed out
    assert billing.billing_store.get_meter(tenant_id, execution.execution_id).status == "sent"
