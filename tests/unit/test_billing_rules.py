"""Plans as data, a tenant's standing by subscription status, refusals, and Stripe object mapping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cloutagent import definitions
from cloutagent.domain.billing import (
    LicenseSnapshot, PlanCatalog, Usage, crossed_thresholds, next_month_start, refusal, standing, subscription_state,
)
from cloutagent.domain.models import Tenant
from cloutagent.errors import LimitExceeded, PaymentRequired
from cloutagent.ids import iso_millis
from cloutagent_dev.fake_stripe import decode_form
from cloutagent.services.billing.licenses import LicenseManager

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
CATALOG = PlanCatalog(definitions.plans())
PRICES = {"price_pro": "pro", "price_team": "team"}


def tenant(**fields) -> Tenant:
    return Tenant(tenant_id="t_1", name="acme", created_at="2026-01-01T00:00:00.000Z", **fields)


def test_every_plan_in_plans_json_is_valid_and_ordered_as_an_upgrade_path():
    assert list(CATALOG.plans) == ["free", "pro", "team", "enterprise"]
    assert CATALOG.upgrade_for("free", "projects") == ("pro", 25)
    assert CATALOG.upgrade_for("pro", "members") == ("team", 25)
    assert CATALOG.upgrade_for("team", "max_secrets_per_project") is None  # enterprise does not raise it
    assert CATALOG.upgrade_for("enterprise", "projects") is None


@pytest.mark.parametrize("status, since_days, plan, payment_required", [
    ("active", None, "pro", False),
    ("trialing", None, "pro", False),
    ("past_due", 3, "pro", False),     # within the 7-day grace
    ("past_due", 8, "free", True),     # after it
    ("unpaid", None, "free", True),
    ("incomplete", None, "free", True),
    ("canceled", None, "free", False),
    ("incomplete_expired", None, "free", False),
    ("none", None, "free", False),
])
def test_entitlements_follow_the_subscription_status(status, since_days, plan, payment_required):
    since = iso_millis(NOW - timedelta(days=since_days)) if since_days is not None else None
    s = standing(tenant(plan="pro", subscription_status=status, past_due_since=since), CATALOG, billing_enabled=True, now=NOW)
    assert (s.plan, s.payment_required) == (plan, payment_required)
    assert s.entitlements == CATALOG.entitlements(plan)
    if status == "past_due" and not payment_required:
        assert s.grace_ends_at == iso_millis(NOW + timedelta(days=4))


def test_without_stripe_everyone_is_free_except_an_operators_grant():
    paid = tenant(plan="pro", subscription_status="active")
    assert standing(paid, CATALOG, billing_enabled=False, now=NOW).plan == "free"
    granted = tenant(plan="enterprise", subscription_status="active", plan_source="operator")
    assert standing(granted, CATALOG, billing_enabled=False, now=NOW).plan == "enterprise"


def test_refusals_say_which_limit_and_how_to_lift_it():
    free = standing(tenant(), CATALOG, billing_enabled=True, now=NOW)
    assert refusal(free, CATALOG, "projects").message == "The free plan allows 3 projects; upgrade to pro for 25 (billing.checkout)"
    pro = standing(tenant(plan="pro", subscription_status="active"), CATALOG, billing_enabled=True, now=NOW)
    assert refusal(pro, CATALOG, "members").message == "The pro plan allows 5 members; upgrade to team for 25 (billing.portal)"
    top = standing(tenant(plan="enterprise", subscription_status="active"), CATALOG, billing_enabled=True, now=NOW)
    assert "contact support" in refusal(top, CATALOG, "projects").message
    off = standing(tenant(), CATALOG, billing_enabled=False, now=NOW)
    assert refusal(off, CATALOG, "projects").message.endswith("plans cannot be changed on this deployment")
    unpaid = standing(tenant(plan="pro", subscription_status="unpaid"), CATALOG, billing_enabled=True, now=NOW)
    err = refusal(unpaid, CATALOG, "projects")
    assert isinstance(err, PaymentRequired) and err.code == "PAYMENT_REQUIRED"
    assert "pro subscription is unpaid" in err.message and "billing.portal" in err.message and "pro's 25" in err.message
    assert isinstance(refusal(free, CATALOG, "projects"), LimitExceeded)


def test_a_subscription_maps_to_the_plan_of_its_price():
    sub = {"id": "sub_1", "status": "active", "created": 100, "cancel_at_period_end": True,
           "items": {"data": [{"price": {"id": "price_metered"}}, {"price": {"id": "price_team"}, "current_period_end": 2_000_000_000}]}}
    state = subscription_state(sub, PRICES, deleted=False, default_plan="free")
    assert (state.plan, state.status, state.created, state.cancel_at_period_end) == ("team", "active", 100, True)
    assert state.period_end == "2033-05-18T03:33:20.000Z"
    assert subscription_state({**sub, "items": {"data": []}}, PRICES, deleted=False, default_plan="free") is None
    gone = subscription_state(sub, PRICES, deleted=True, default_plan="free")
    assert (gone.plan, gone.status) == ("free", "canceled")


def test_months_thresholds_and_stripes_form_encoding():
    assert next_month_start("2026-12") == "2027-01-01T00:00:00.000Z"
    assert crossed_thresholds(3.99, 5) == [] and crossed_thresholds(4, 5) == [80] and crossed_thresholds(5, 5) == [80, 100]
    assert decode_form("a[b][0][c]=1&a[b][1][c]=2&d=x") == {"a": {"b": [{"c": "1"}, {"c": "2"}]}, "d": "x"}


class MemoryStore:
    def __init__(self, snapshot: LicenseSnapshot):
        self.snapshot = snapshot

    def license_snapshot(self, tenant_id, month):
        return self.snapshot

    def get_tenant(self, tenant_id):
        return self.snapshot.tenant


def manager(spent: float = 0.0, active: int = 0, **fields) -> LicenseManager:
    snapshot = LicenseSnapshot(tenant(**fields), Usage("2026-11", spend_usd=spent), active)
    return LicenseManager(MemoryStore(snapshot), CATALOG, billing_enabled=True, clock=lambda: NOW)


def test_execute_gets_a_budget_within_what_is_left_and_a_timeout_within_the_plan():
    limits = {"model": None, "max_tokens": None, "max_cost_usd": 3.0, "timeout_seconds": 3600}
    assert manager(spent=4.0).check_execute("t_1", limits) == {**limits, "max_cost_usd": 1.0, "timeout_seconds": 900}
    assert manager(spent=1.0).check_execute("t_1", {**limits, "max_cost_usd": None})["max_cost_usd"] == 4.0
    with pytest.raises(LimitExceeded) as capped:
        manager(spent=5.01).check_execute("t_1", limits)
    assert capped.value.message.startswith("This month's agent spend ($5.01) has reached the free plan's cap of $5.00")
    assert capped.value.message.endswith("or wait until 2026-12-01")
    with pytest.raises(LimitExceeded) as busy:
        manager(active=1).check_execute("t_1", limits)
    assert busy.value.message == "The free plan allows 1 execution at a time; upgrade to pro for 3 (billing.checkout)"
    with pytest.raises(PaymentRequired):
        manager(spent=5, plan="pro", subscription_status="unpaid").check_execute("t_1", limits)


def test_counts_below_every_plans_limit_are_allowed_without_reading_the_tenant():
    from cloutagent.domain.identity import Identity, Role

    reads = []
    store = MemoryStore(LicenseSnapshot(tenant(), Usage("2026-11"), 0))
    store.get_tenant = lambda tenant_id: reads.append(tenant_id) or tenant()
    licenses = LicenseManager(store, CATALOG, billing_enabled=True, clock=lambda: NOW)
    identity = Identity(tenant_id="t_1", user_id="u", role=Role.member)
    licenses.check_connect(identity, 4)
    licenses.check_secret_create("t_1", 9)
    licenses.check_member_invite("t_1", 1)
    assert reads == []
    with pytest.raises(LimitExceeded) as refused:
        licenses.check_connect(identity, 5)
    assert refused.value.message == "The free plan allows 5 open connections per user; upgrade to pro for 20 (billing.checkout)"
    assert reads == ["t_1"]
