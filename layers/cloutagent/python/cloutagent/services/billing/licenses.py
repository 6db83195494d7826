"""The license manager: every plan limit is checked here, and every finished run's cost lands here.

Services call it through their ``limits`` hook (project.create, execute, member.invite, $connect,
secret.set); refusals are LIMIT_EXCEEDED or PAYMENT_REQUIRED with a message that says how to lift them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from cloutagent.domain.billing import (
    MeterRecord, PlanCatalog, Standing, crossed_thresholds, month_of, refusal, spend_refusal, standing,
)
from cloutagent.domain.executions import Execution, Outcome
from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Tenant
from cloutagent.ids import now_iso
from cloutagent.observability import logger
from cloutagent.services.ports import BillingStore

MICRO = 1_000_000  # meter values are whole micro-dollars


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LicenseManager:
    def __init__(self, store: BillingStore, catalog: PlanCatalog, *, billing_enabled: bool, notifier: Any = None,
                 clock: Callable[[], datetime] = utc_now):
        self.store = store
        self.catalog = catalog
        self.billing_enabled = billing_enabled
        self.notifier = notifier
        self.clock = clock

    def catalog_minimum(self, limit: str) -> Any:
        """What every plan allows of ``limit``: below it no check needs the tenant's plan."""
        return min(getattr(e, limit) for e in self.catalog.plans.values())

    def standing_of(self, tenant: Tenant | None) -> Standing:
        return standing(tenant, self.catalog, billing_enabled=self.billing_enabled, now=self.clock())

    def standing(self, tenant_id: str) -> Standing:
        return self.standing_of(self.store.get_tenant(tenant_id))

    # -- checks ----------------------------------------------------------------------------------
    def check_project_create(self, tenant_id: str, tenant: Tenant | None, count: int) -> None:
        s = self.standing_of(tenant)
        if count >= s.entitlements.projects:
            raise refusal(s, self.catalog, "projects")

    def check_member_invite(self, tenant_id: str, member_count: int) -> None:
        self._check_count(tenant_id, "members", member_count)

    def check_connect(self, identity: Identity, connection_count: int) -> None:
        self._check_count(identity.tenant_id, "connections_per_user", connection_count)

    def tenant_connection_cap(self, tenant_id: str) -> int:
        return self.standing(tenant_id).entitlements.connections_per_tenant

    def connection_cap_refusal(self, tenant_id: str) -> Exception:
        return refusal(self.standing(tenant_id), self.catalog, "connections_per_tenant")

    def check_api_key_create(self, tenant_id: str, live_keys: int) -> None:
        self._check_count(tenant_id, "api_keys", live_keys)

    def check_secret_create(self, tenant_id: str, count: int) -> None:
        self._check_count(tenant_id, "max_secrets_per_project", count)

    def _check_count(self, tenant_id: str, limit: str, count: int) -> None:
        # Below what every plan allows, no plan can refuse: skip reading the tenant (most calls).
        if count < self.catalog_minimum(limit):
            return
        s = self.standing(tenant_id)
        if count >= getattr(s.entitlements, limit):
            raise refusal(s, self.catalog, limit)

    def max_secrets(self, tenant_id: str) -> int:
        return self.standing(tenant_id).entitlements.max_secrets_per_project

    def check_execute(self, tenant_id: str, limits: dict[str, Any]) -> dict[str, Any]:
        """Refuse a run the plan does not allow; else return its limits, clipped to the plan.

        The run's budget never exceeds what is left of the month's cap, so one run cannot spend
        far past it, and its timeout never exceeds the plan's maximum.
        """
        month = month_of(self.clock())
        snapshot = self.store.license_snapshot(tenant_id, month)
        s = self.standing_of(snapshot.tenant)
        ent = s.entitlements
        remaining = ent.monthly_spend_cap_usd - snapshot.usage.spend_usd
        if remaining <= 0:
            raise spend_refusal(s, self.catalog, snapshot.usage.spend_usd, month)
        if snapshot.active_executions >= ent.concurrent_executions:
            # Checked at start: two starts in the same instant may both pass (best effort).
            raise refusal(s, self.catalog, "concurrent_executions")
        budget = limits.get("max_cost_usd")
        timeout = limits.get("timeout_seconds") or ent.max_execution_timeout_seconds
        return {
            **limits,
            "max_cost_usd": round(min(budget, remaining) if budget else remaining, 6),
            "timeout_seconds": min(timeout, ent.max_execution_timeout_seconds),
        }

    # -- spend -----------------------------------------------------------------------------------
    def record_execution_cost(self, execution: Execution, outcome: Outcome) -> None:
        """Add a finished run's cost to its month and queue it for Stripe; at most once per run.

        Called after the run is closed, so a failure here must not undo that: it is logged.
        """
        try:
            self._record(execution, outcome)
        except Exception:
            logger.exception("recording an execution's cost failed",
                             extra={"tenant_id": execution.tenant_id, "execution_id": execution.execution_id,
                                    "cost_usd": outcome.cost_usd})

    def _record(self, execution: Execution, outcome: Outcome) -> None:
        now = self.clock()
        month = month_of(now)
        tenant = self.store.get_tenant(execution.tenant_id)
        s = self.standing_of(tenant)
        value = round(max(outcome.cost_usd, 0.0) * MICRO)
        customer = tenant.stripe_customer_id if tenant else None
        billable = self.billing_enabled and customer is not None and value > 0
        meter = MeterRecord(tenant_id=execution.tenant_id, execution_id=execution.execution_id,
                            status="pending" if billable else "unbilled", value=value,
                            timestamp=int(now.timestamp()), stripe_customer_id=customer)
        u = outcome.usage
        tokens = u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens
        if not self.store.record_usage(execution.tenant_id, month, outcome.cost_usd, tokens, meter, now_iso()):
            return  # already recorded: never count a run twice
        if outcome.cost_usd > 0:
            self._notify_thresholds(execution.tenant_id, month, s)

    def _notify_thresholds(self, tenant_id: str, month: str, s: Standing) -> None:
        cap = s.entitlements.monthly_spend_cap_usd
        spent = self.store.get_usage(tenant_id, month).spend_usd
        for percent in crossed_thresholds(spent, cap):
            # Keyed by the cap too, so an upgrade mid-month re-arms the notices at the new cap.
            if self.notifier is not None and self.store.claim_threshold(tenant_id, month, f"{percent}@{cap:g}"):
                self.notifier.notify(tenant_id, "usage.threshold", {
                    "month": month, "percent": percent, "spendUsd": round(spent, 6), "capUsd": cap,
                    "remainingUsd": round(max(cap - spent, 0.0), 6), "plan": s.plan,
                })
