"""Plans, limits and Stripe billing through the local stack, its webhook route and its fake Stripe."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
import websockets

from cloutagent_dev.fake_stripe import event_payload, sign, subscription_object

pytestmark = pytest.mark.e2e


# -- helpers -------------------------------------------------------------------------------------
def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def send_event(ready, kind: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None,
               secret: str | None = None, signed_at: int | None = None, tamper=None) -> tuple[int, dict[str, Any]]:
    """POST a Stripe event to the stack's webhook, signed as Stripe signs it (unless told otherwise)."""
    payload = event_payload(kind, obj, event_id=event_id, created=created)
    signature = sign(payload, secret or ready["stripeWebhookSecret"], signed_at)
    body = tamper(payload) if tamper else payload
    return post(f"{ready['httpUrl']}/stripe/webhook", body.encode(), {"Stripe-Signature": signature})


def subscription(ready, tenant_id: str, plan: str, **kwargs: Any) -> dict[str, Any]:
    return subscription_object(customer=kwargs.pop("customer", f"cus_{tenant_id[-12:]}"),
                               price=ready["stripePrices"][plan], tenant_id=tenant_id, **kwargs)


async def plan_of(client) -> dict[str, Any]:
    return await client.ok("plan.get")


# -- plan changes through the webhook ------------------------------------------------------------
async def test_a_signed_subscription_update_to_pro_raises_the_limits_at_once(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    before = await plan_of(client)
    assert (before["plan"], before["status"], before["entitlements"]["projects"]) == ("free", "none", 3)
    for i in range(3):
        await client.ok("project.create", {"name": f"p{i}"})
    refused = await client.error("project.create", {"name": "one too many"})
    assert refused["code"] == "LIMIT_EXCEEDED"
    assert refused["message"] == "The free plan allows 3 projects; upgrade to pro for 25 (billing.checkout)"
    assert refused["details"]["limit"] == "projects" and refused["details"]["upgradeTo"] == "pro"

    status, body = send_event(ready, "customer.subscription.updated", subscription(ready, user["tenantId"], "pro"))
    assert status == 200 and body["outcome"] == "applied", body

    after = await plan_of(client)
    assert (after["plan"], after["status"], after["entitlements"]["projects"]) == ("pro", "active", 25)
    assert after["periodEnd"] and after["billing"] == "stripe"
    await client.ok("project.create", {"name": "now allowed"})


async def test_the_same_event_id_twice_changes_state_once(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    now = int(time.time())
    sub = subscription(ready, user["tenantId"], "pro", created=now - 100)
    assert send_event(ready, "customer.subscription.created", sub, event_id="evt_once_a", created=now - 100)[0] == 200
    canceled = {**sub, "status": "canceled"}
    assert send_event(ready, "customer.subscription.deleted", canceled, event_id="evt_once_b", created=now - 50)[0] == 200
    assert (await plan_of(client))["plan"] == "free"

    # Stripe redelivers evt_once_a; were it applied again (it claims a later time) it would resurrect pro.
    status, body = send_event(ready, "customer.subscription.created", sub, event_id="evt_once_a", created=now)
    assert status == 200 and body["eventId"] == "evt_once_a"
    assert (await plan_of(client))["plan"] == "free"


async def test_a_stale_deletion_after_a_resubscribe_does_not_cancel(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    now = int(time.time())
    old = subscription(ready, user["tenantId"], "pro", created=now - 1000)
    new = subscription(ready, user["tenantId"], "team", created=now - 10)
    assert send_event(ready, "customer.subscription.created", new, created=now - 10)[1]["outcome"] == "applied"
    # The old subscription's deletion arrives late (and its creation later still).
    assert send_event(ready, "customer.subscription.deleted", {**old, "status": "canceled"}, created=now)[1]["outcome"] == "stale"
    assert send_event(ready, "customer.subscription.created", old, created=now - 1000)[1]["outcome"] == "stale"
    plan = await plan_of(client)
    assert (plan["plan"], plan["status"]) == ("team", "active")


async def test_an_unpaid_subscription_falls_back_to_free_limits_and_says_payment_is_required(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    now = int(time.time())
    sub = subscription(ready, user["tenantId"], "pro", created=now - 100)
    send_event(ready, "customer.subscription.created", sub, created=now - 100)
    for i in range(4):
        await client.ok("project.create", {"name": f"p{i}"})

    # WHEN the renewal fails: Stripe says so, then gives up on the subscription
    failed = {"id": "in_1", "object": "invoice", "customer": sub["customer"], "hosted_invoice_url": "https://pay.example/in_1",
              "amount_due": 2000, "currency": "usd", "parent": {"subscription_details": {"metadata": {"tenantId": user["tenantId"]}}}}
    assert send_event(ready, "invoice.payment_failed", failed, created=now - 50)[1]["outcome"] == "applied"
    notice = await client.wait_for_event(lambda e: e["event"] == "billing.notice", timeout=10)
    assert notice["data"] == {"kind": "payment_failed", "invoiceUrl": "https://pay.example/in_1"}
    send_event(ready, "customer.subscription.updated", {**sub, "status": "unpaid"}, created=now - 40)

    # THEN the free plan's limits apply, and refusals point at the unpaid invoice, not an upgrade
    plan = await plan_of(client)
    assert (plan["plan"], plan["effectivePlan"], plan["paymentRequired"]) == ("pro", "free", True)
    assert plan["invoice"]["status"] == "payment_failed"
    refused = await client.error("project.create", {"name": "p5"})
    assert refused["code"] == "PAYMENT_REQUIRED" and "billing.portal" in refused["message"]


async def test_a_bad_signature_a_tampered_body_or_an_old_timestamp_gets_400_and_changes_nothing(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    obj = subscription(ready, user["tenantId"], "enterprise")
    attempts = {
        "tampered body": send_event(ready, "customer.subscription.updated", obj,
                                    tamper=lambda p: p.replace('"active"', '"trialing"')),
        "wrong secret": send_event(ready, "customer.subscription.updated", obj, secret="whsec_not_the_right_one"),
        "signed 301 s ago": send_event(ready, "customer.subscription.updated", obj, signed_at=int(time.time()) - 301),
        "no signature": post(f"{ready['httpUrl']}/stripe/webhook", event_payload("customer.subscription.updated", obj).encode()),
    }
    for name, (status, body) in attempts.items():
        assert status == 400, name
        assert body["error"]["code"] == "BAD_REQUEST", name
    assert (await plan_of(client))["plan"] == "free"


async def test_checkout_through_the_fake_stripe_subscribes_the_tenant(connect, make_user, ready):
    user = make_user()
    client = await connect(user)
    checkout = await client.ok("billing.checkout", {"plan": "pro", "successUrl": "https://app.example.com/done",
                                                    "cancelUrl": "https://app.example.com/billing"})
    assert checkout["url"].startswith(ready["stripeApiBase"] + "/checkout/cs_test_")
    # Paying on the (fake) hosted page makes Stripe send signed webhooks to the stack.
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(urllib.request.Request(checkout["url"] + "/pay", data=b"", method="POST"), timeout=30)
    assert redirected.value.code == 303 and redirected.value.headers["Location"] == "https://app.example.com/done"
    plan = await plan_of(client)
    assert (plan["plan"], plan["status"]) == ("pro", "active")
    # Subscribed: a second checkout is refused, the portal is the place to change plans.
    again = await client.error("billing.checkout", {"plan": "team", "successUrl": "https://a.example.com/x",
                                                     "cancelUrl": "https://a.example.com/y"})
    assert again["code"] == "CONFLICT"
    portal = await client.ok("billing.portal", {"returnUrl": "https://app.example.com/billing"})
    assert portal["url"].startswith(ready["stripeApiBase"] + "/portal/")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


async def test_billing_actions_are_for_admins_and_validate_their_input(connect, make_user, ready):
    owner = make_user()
    member = await connect(make_user(tenant_id=owner["tenantId"], role="member"))
    for action in ("plan.get", "usage.get", "billing.checkout", "billing.portal"):
        assert (await member.error(action))["code"] == "FORBIDDEN", action
    client = await connect(owner)
    bad = await client.error("billing.checkout", {"plan": "platinum", "successUrl": "https://a.example.com/x",
                                                  "cancelUrl": "https://a.example.com/y"})
    assert bad["code"] == "BAD_REQUEST" and "platinum" in bad["message"]
    assert (await client.error("billing.portal", {"returnUrl": "javascript:alert(1)"}))["code"] == "BAD_REQUEST"
    assert (await client.error("usage.get", {"month": "2026-13"}))["code"] == "BAD_REQUEST"


# -- limits ----------------------------------------------------------------------------------------
async def test_the_free_plan_refuses_a_sixth_connection_per_user_with_429(connect, make_user, ready):
    user = make_user()
    for _ in range(5):
        await connect(user)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{ready['wsUrl']}/?token={user['token']}"):
            pass
    assert refused.value.response.status_code == 429


async def test_reaching_the_monthly_cap_refuses_execute_and_warns_at_80_and_100_percent(connect, make_user, ready):
    client = await connect(make_user())
    pid = (await client.ok("project.create", {"name": "spender"}))["project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})

    first = await run(client, pid, "[fake:cost usd=4.5]")
    assert first["status"] == "completed"
    warned = await client.wait_for_event(lambda e: e["event"] == "usage.threshold", timeout=10)
    assert warned["data"]["percent"] == 80 and warned["data"]["capUsd"] == 5
    assert "seq" not in warned and "projectId" not in warned

    # What is left of the cap ($0.50) is this run's budget, whatever it asks for.
    second = await run(client, pid, "[fake:cost usd=2 cli_budget=off]", maxCostUsd=100)
    execution = (await client.ok("execution.get", {"projectId": pid, "executionId": second["executionId"]}))["execution"]
    assert execution["maxCostUsd"] == pytest.approx(5 - first["costUsd"]) and second["status"] == "budget_exceeded"
    await client.wait_for_event(lambda e: e["event"] == "usage.threshold" and e["data"]["percent"] == 100, timeout=10)

    refused = await client.error("execute", {"projectId": pid, "prompt": "one more"})
    assert refused["code"] == "LIMIT_EXCEEDED"
    assert refused["message"].startswith("This month's agent spend ($")
    assert "free plan's cap of $5.00; upgrade to pro for $200.00 a month (billing.checkout)" in refused["message"]
    usage = await client.ok("usage.get")
    assert usage["executions"] == 2 and usage["spendUsd"] >= 5 and usage["remainingUsd"] == 0 and usage["capUsd"] == 5


async def run(client, pid: str, prompt: str, **options: Any) -> dict[str, Any]:
    started = await client.ok("execute", {"projectId": pid, "prompt": prompt, **({"options": options} if options else {})})
    execution_id = started["execution"]["executionId"]
    end = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                      and e["data"]["executionId"] == execution_id, timeout=40)
    await client.wait_for_event(lambda e: e["event"] == "project.state"
                                and e["data"] == {"state": "idle", "executionId": execution_id}, timeout=10)
    return end["data"]


# -- metered usage -------------------------------------------------------------------------------
async def test_a_finished_execution_is_metered_once(connect, make_user, ready):
    client = await connect(make_user())
    await client.ok("billing.portal", {"returnUrl": "https://app.example.com/billing"})  # creates the customer
    pid = (await client.ok("project.create", {"name": "metered"}))["project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})
    # The first attempt to report fails with a 500 after Stripe did the work: the retry must not count twice.
    post(f"{ready['stripeApiBase']}/_fake/faults",
         json.dumps({"path": "/v1/billing/meter_events", "status": 500, "when": "after", "times": 1}).encode())
    end = await run(client, pid, "[fake:cost usd=0.25]")
    meter = await wait_for_meter(ready, end["executionId"])
    assert len(meter["data"]) == 1 and meter["requests"] >= 1
    event = meter["data"][0]
    # The meter carries the run's cost as the CLI priced it, in micro-USD
    assert end["costUsd"] == pytest.approx(0.25, rel=0.01)
    assert event["payload"]["value"] == str(round(end["costUsd"] * 1_000_000))
    assert event["payload"]["stripe_customer_id"].startswith("cus_")
    await asyncio.sleep(1.5)  # a few more poll rounds of the reporter: still one
    assert len(get_json(f"{ready['stripeApiBase']}/_fake/meter_events?identifier={end['executionId']}")["data"]) == 1


async def wait_for_meter(ready, execution_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = get_json(f"{ready['stripeApiBase']}/_fake/meter_events?identifier={execution_id}")
        if found["data"]:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no meter event for {execution_id}")


# -- the dev-only plan knob of POST /local/users ---------------------------------------------------
async def test_a_local_user_can_get_a_new_tenant_on_a_named_plan(connect, ready):
    import uuid

    status, user = post(f"{ready['httpUrl']}/local/users",
                        json.dumps({"email": f"team-{uuid.uuid4().hex[:8]}@example.com", "plan": "team"}).encode())
    assert status == 200
    plan = await plan_of(await connect(user))
    assert (plan["plan"], plan["entitlements"]["apiKeys"]) == ("team", 100)


@pytest.mark.parametrize("extra", [{"plan": "platinum"}, {"plan": "team", "tenantId": "t_someone"}])
def test_the_plan_knob_names_a_known_plan_for_a_new_tenant_only(ready, extra):
    import uuid

    status, answer = post(f"{ready['httpUrl']}/local/users",
                          json.dumps({"email": f"x-{uuid.uuid4().hex[:8]}@example.com", **extra}).encode())
    assert status == 400 and "plan" in answer["error"]
