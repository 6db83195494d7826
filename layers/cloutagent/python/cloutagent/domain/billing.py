"""Plans, entitlements and a tenant's standing: which plan's limits apply, and how a refusal reads.

Plans are data (``definitions/plans.json``); Stripe prices map to plans by configuration. A tenant's
standing follows its subscription status:

| Status                            | Entitlements                     | Refusals                  |
| --------------------------------- | -------------------------------- | ------------------------- |
| ``active``, ``trialing``          | the subscribed plan              | LIMIT_EXCEEDED            |
| ``past_due`` within the grace     | the subscribed plan              | LIMIT_EXCEEDED            |
| ``past_due`` after the grace,     | the free plan                    | PAYMENT_REQUIRED          |
| ``unpaid``, ``incomplete``,       |                                  | (settle it in the portal) |
| ``paused``                        |                                  |                           |
| ``canceled``, ``none``, other     | the free plan                    | LIMIT_EXCEEDED            |

Without Stripe configured every tenant is on the free plan, except plans an operator assigned
(``planSource = operator``), which hold whatever the status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field

from cloutagent.domain.models import DomainModel, Tenant
from cloutagent.errors import LimitExceeded, PaymentRequired, ServiceError
from cloutagent.ids import iso_millis

PAID_STATUSES = frozenset({"active", "trialing"})
PAYMENT_REQUIRED_STATUSES = frozenset({"unpaid", "incomplete", "paused"})
THRESHOLDS = (80, 100)  # percent of the monthly spend cap that trigger a usage.threshold notice


class Entitlements(DomainModel):
    projects: int = Field(ge=0)
    concurrent_executions: int = Field(ge=1)
    monthly_spend_cap_usd: float = Field(ge=0)
    members: int = Field(ge=1)
    connections_per_user: int = Field(ge=1)
    event_retention_days: int = Field(ge=1)
    audit_retention_days: int = Field(default=90, ge=1)  # how long the tenant's audit log keeps an entry
    max_execution_timeout_seconds: int = Field(ge=5)
    max_secrets_per_project: int = Field(ge=0)
    connections_per_tenant: int = Field(ge=1)
    requests_per_second_per_connection: int = Field(ge=1)
    requests_per_second_per_tenant: int = Field(ge=1, le=1000)  # one item's write rate (data-model.md)
    api_keys: int = Field(ge=0)


# How each limit reads in a refusal ("The free plan allows 3 projects"): singular, plural.
_NOUNS = {
    "projects": ("project", "projects"),
    "concurrent_executions": ("execution at a time", "executions at a time"),
    "members": ("member", "members"),
    "connections_per_user": ("open connection per user", "open connections per user"),
    "max_secrets_per_project": ("secret per project", "secrets per project"),
    "connections_per_tenant": ("open connection per tenant", "open connections per tenant"),
    "requests_per_second_per_connection": ("request a second per connection", "requests a second per connection"),
    "requests_per_second_per_tenant": ("request a second per tenant", "requests a second per tenant"),
    "api_keys": ("API key", "API keys"),
    "monthly_spend_cap_usd": ("of agent spend a month", "of agent spend a month"),
}


class PlanCatalog:
    """The plans of ``plans.json``, in their listed order (which is also the upgrade order)."""

    def __init__(self, spec: dict[str, Any]):
        self.default_plan: str = spec["defaultPlan"]
        self.grace_days: int = int(spec.get("pastDueGraceDays", 0))
        self.plans: dict[str, Entitlements] = {name: Entitlements.model_validate(v) for name, v in spec["plans"].items()}

    def entitlements(self, plan: str) -> Entitlements:
        return self.plans.get(plan) or self.plans[self.default_plan]

    def upgrade_for(self, plan: str, limit: str) -> tuple[str, Any] | None:
        """The first plan after ``plan`` that raises ``limit``, with its value."""
        names = list(self.plans)
        current = getattr(self.entitlements(plan), limit)
        start = names.index(plan) + 1 if plan in names else 0
        for name in names[start:]:
            value = getattr(self.plans[name], limit)
            if value > current:
                return name, value
        return None


@dataclass(frozen=True)
class Standing:
    """What a tenant may do right now, and why."""

    plan: str  # the plan whose entitlements apply
    subscribed_plan: str  # the plan on the subscription (differs while payment is required)
    status: str
    entitlements: Entitlements
    payment_required: bool = False
    grace_ends_at: str | None = None
    billing_enabled: bool = False
    subscribed: bool = False  # a live Stripe subscription exists (upgrades go through the portal)


@dataclass(frozen=True)
class PlanView:
    """A tenant's standing with the subscription details its record keeps (``tenant`` None: none yet)."""

    standing: Standing
    tenant: Tenant | None


def standing(tenant: Tenant | None, catalog: PlanCatalog, *, billing_enabled: bool, now: datetime) -> Standing:
    """The tenant's effective plan from its stored subscription state."""
    free = catalog.default_plan
    if tenant is None:
        return Standing(free, free, "none", catalog.entitlements(free), billing_enabled=billing_enabled)
    plan, status = tenant.plan, tenant.subscription_status
    if tenant.plan_source == "operator":
        return Standing(plan, plan, status, catalog.entitlements(plan), billing_enabled=billing_enabled)
    if not billing_enabled:
        return Standing(free, free, status, catalog.entitlements(free))
    if status in PAID_STATUSES:
        return Standing(plan, plan, status, catalog.entitlements(plan), billing_enabled=True, subscribed=True)
    if status == "past_due":
        grace_end = _grace_end(tenant.past_due_since, catalog.grace_days, now)
        if now < grace_end:
            return Standing(plan, plan, status, catalog.entitlements(plan), grace_ends_at=iso_millis(grace_end),
                            billing_enabled=True, subscribed=True)
    if status == "past_due" or status in PAYMENT_REQUIRED_STATUSES:
        return Standing(free, plan, status, catalog.entitlements(free), payment_required=plan != free,
                        billing_enabled=True, subscribed=True)
    return Standing(free, free, status, catalog.entitlements(free), billing_enabled=True)


def _grace_end(since: str | None, grace_days: int, now: datetime) -> datetime:
    if since is None:  # past_due without a recorded start: the grace starts now
        return now + timedelta(days=grace_days)
    return _parse_iso(since) + timedelta(days=grace_days)


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def refusal(s: Standing, catalog: PlanCatalog, limit: str) -> ServiceError:
    """LIMIT_EXCEEDED (a plan limit) or PAYMENT_REQUIRED (billing state) for ``limit``, saying how to lift it."""
    allowed = getattr(s.entitlements, limit)
    details = {"limit": _camel(limit), "allowed": allowed, "plan": s.plan}
    if s.payment_required:
        return _payment_required(s, catalog, limit, details)
    lift, upgrade = _how_to_lift(s, catalog, limit)
    return LimitExceeded(f"The {s.plan} plan allows {_amount(limit, allowed)}; {lift}",
                         details | ({"upgradeTo": upgrade} if upgrade else {}))


def spend_refusal(s: Standing, catalog: PlanCatalog, spent: float, month: str) -> ServiceError:
    """This month's spend has reached the plan's cap."""
    limit = "monthly_spend_cap_usd"
    cap = getattr(s.entitlements, limit)
    details = {"limit": _camel(limit), "allowed": cap, "plan": s.plan, "spentUsd": round(spent, 6), "month": month}
    if s.payment_required:
        return _payment_required(s, catalog, limit, details)
    lift, upgrade = _how_to_lift(s, catalog, limit)
    return LimitExceeded(
        f"This month's agent spend ({_usd(spent)}) has reached the {s.plan} plan's cap of {_usd(cap)}; {lift}, "
        f"or wait until {next_month_start(month)[:10]}",
        details | ({"upgradeTo": upgrade} if upgrade else {}),
    )


def _payment_required(s: Standing, catalog: PlanCatalog, limit: str, details: dict[str, Any]) -> PaymentRequired:
    applied = _amount(limit, getattr(s.entitlements, limit))
    restored = _amount(limit, getattr(catalog.entitlements(s.subscribed_plan), limit), bare=True)
    return PaymentRequired(
        f"Your {s.subscribed_plan} subscription is {s.status.replace('_', ' ')}, so the {s.plan} plan's limit "
        f"applies ({applied}); settle the open invoice (billing.portal) to get {s.subscribed_plan}'s {restored} back",
        details | {"subscribedPlan": s.subscribed_plan, "status": s.status},
    )


def _how_to_lift(s: Standing, catalog: PlanCatalog, limit: str) -> tuple[str, str | None]:
    if not s.billing_enabled:
        return "plans cannot be changed on this deployment", None
    upgrade = catalog.upgrade_for(s.plan, limit)
    if upgrade is None:
        return "that is the most of any plan; contact support to raise it", None
    name, value = upgrade
    how = "billing.portal" if s.subscribed else "billing.checkout"
    return f"upgrade to {name} for {_amount(limit, value, bare=True)} ({how})", name


def _amount(limit: str, value: Any, bare: bool = False) -> str:
    one, many = _NOUNS[limit]
    if limit == "monthly_spend_cap_usd":
        return f"{_usd(value)} a month" if bare else f"{_usd(value)} {many}"
    return str(value) if bare else f"{value} {one if value == 1 else many}"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


# -- usage -------------------------------------------------------------------------------------
@dataclass
class Usage:
    month: str
    spend_usd: float = 0.0
    executions: int = 0
    tokens: int = 0
    notified: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class UsageReport:
    """A month's usage against the spend cap of the plan that applies now."""

    usage: Usage
    cap_usd: float

    @property
    def remaining_usd(self) -> float:
        return max(self.cap_usd - self.usage.spend_usd, 0.0)


@dataclass
class LicenseSnapshot:
    """What the execute check needs, from one consistent query of the tenant partition."""

    tenant: Tenant | None
    usage: Usage
    active_executions: int


@dataclass
class MeterRecord:
    tenant_id: str
    execution_id: str
    status: str  # pending | sent | unbilled
    value: int  # micro-USD
    timestamp: int  # epoch seconds of the usage
    stripe_customer_id: str | None = None


# -- months -------------------------------------------------------------------------------------
def month_of(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m")


def next_month_start(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}-01T00:00:00.000Z"


def crossed_thresholds(spent: float, cap: float) -> list[int]:
    """The notice thresholds (percent of the cap) that ``spent`` has reached."""
    if cap <= 0:
        return []
    return [t for t in THRESHOLDS if spent >= cap * t / 100]


# -- Stripe objects -> our state -----------------------------------------------------------------
class SubscriptionState(DomainModel):
    """What a Stripe subscription means for its tenant."""

    subscription_id: str
    plan: str
    status: str
    created: int  # the subscription's own `created`: a newer subscription always wins
    period_end: str | None = None
    trial_end: str | None = None
    cancel_at_period_end: bool = False


def subscription_state(sub: dict[str, Any], price_plans: dict[str, str], *, deleted: bool,
                       default_plan: str) -> SubscriptionState | None:
    """Map a Stripe subscription object; None when none of its prices is one of our plans."""
    items = (sub.get("items") or {}).get("data") or []
    plan = next((price_plans[p] for p in (_price_id(i) for i in items) if p in price_plans), None)
    if deleted:
        plan, status = default_plan, "canceled"
    elif plan is None:
        return None
    else:
        status = str(sub.get("status") or "none")
    period_ends = [i.get("current_period_end") for i in items if i.get("current_period_end")]
    period_end = max(period_ends) if period_ends else sub.get("current_period_end")
    return SubscriptionState(
        subscription_id=str(sub["id"]), plan=plan, status=status, created=int(sub.get("created") or 0),
        period_end=epoch_iso(period_end), trial_end=epoch_iso(sub.get("trial_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
    )


def _price_id(item: dict[str, Any]) -> str | None:
    price = item.get("price") or item.get("plan") or {}
    return price.get("id") if isinstance(price, dict) else price


def epoch_iso(value: Any) -> str | None:
    """A Stripe timestamp (epoch seconds) in our stored format."""
    if not value:
        return None
    return iso_millis(datetime.fromtimestamp(int(value), timezone.utc))


def object_id(value: Any) -> str | None:
    """A Stripe reference that may be an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def invoice_metadata(invoice: dict[str, Any]) -> dict[str, Any]:
    """The subscription metadata an invoice carries (newer API versions nest it under ``parent``)."""
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    legacy = invoice.get("subscription_details") or {}
    return parent.get("metadata") or legacy.get("metadata") or {}
