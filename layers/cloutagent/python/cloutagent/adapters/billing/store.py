"""Billing state on the tenant item, monthly spend, and the usage outbox (``METER#``)."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_attr, to_item
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, error_code
from cloutagent.domain.billing import LicenseSnapshot, MeterRecord, SubscriptionState, Usage
from cloutagent.domain.executions import ACTIVE_PROJECT_STATES
from cloutagent.domain.models import Tenant
from cloutagent.ids import epoch_seconds

USAGE_TTL_SECONDS = 400 * 86400  # a year of usage.get history, and a little more
METER_TTL_SECONDS = 40 * 86400  # Stripe accepts meter events up to 35 days old
_TENANT_FIELDS = tuple(Tenant.model_fields[f].alias or f for f in Tenant.model_fields if f != "tenant_id")


def _usage(month: str, item: dict[str, Any] | None) -> Usage:
    item = item or {}
    return Usage(month, float(item.get("spendUsd", 0) or 0), int(item.get("executions", 0) or 0),
                 int(item.get("tokens", 0) or 0), set(item.get("notified") or set()))


class DynamoBillingStore:
    def __init__(self, table: Table):
        self.table = table

    # -- tenants ---------------------------------------------------------------------------------
    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
        return Tenant.model_validate({**item, "tenantId": tenant_id}) if item else None

    def find_tenant_by_customer(self, customer_id: str) -> Tenant | None:
        items, _ = self.table.query_page(keys.stripe_customer_lookup(customer_id), index="GSI1", limit=1)
        return Tenant.model_validate(items[0]) if items else None

    def set_customer(self, tenant_id: str, customer_id: str) -> str:
        """Link a Stripe customer to the tenant (once); returns the customer the tenant ends up with."""
        try:
            item = self.table.update(
                keys.tenant_pk(tenant_id), keys.TENANT_SK,
                "SET stripeCustomerId = :c, GSI1PK = :g, GSI1SK = :t",
                vals={":c": customer_id, ":g": keys.stripe_customer_lookup(customer_id), ":t": keys.tenant_pk(tenant_id)},
                condition="attribute_exists(PK) AND (attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :c)",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.get_tenant(tenant_id)
            return (current.stripe_customer_id if current else None) or customer_id
        return item["stripeCustomerId"]

    def grant_plan(self, tenant_id: str, plan: str) -> None:
        """An operator's hand-assigned plan (deals invoiced outside Stripe, the local dev tenant)."""
        self.table.update(keys.tenant_pk(tenant_id), keys.TENANT_SK, "SET #p = :p, planSource = :o, subscriptionStatus = :a",
                          names={"#p": "plan"}, vals={":p": plan, ":o": "operator", ":a": "active"},
                          condition="attribute_exists(PK)")

    def apply_subscription(self, tenant_id: str, state: SubscriptionState, event_created: int, event_ts: str) -> bool:
        """Store the subscription's state unless what we hold is newer; False when stale.

        Newer means: a subscription created later, or the same subscription told by a later event.
        The comparison is the write's condition, so concurrent deliveries cannot interleave.
        """
        sets = {"plan": state.plan, "subscriptionStatus": state.status, "planSource": "stripe",
                "stripeSubscriptionId": state.subscription_id, "subscriptionCreated": state.created,
                "stateEventCreated": event_created, "cancelAtPeriodEnd": state.cancel_at_period_end,
                "periodEnd": state.period_end, "trialEnd": state.trial_end}
        names = {f"#s{i}": k for i, k in enumerate(sets)}
        vals: dict[str, Any] = {f":s{i}": v for i, v in enumerate(sets.values()) if v is not None}
        assignments = [f"#s{i} = :s{i}" for i, v in enumerate(sets.values()) if v is not None]
        removals = [f"#s{i}" for i, v in enumerate(sets.values()) if v is None]
        names["#pds"] = "pastDueSince"
        if state.status == "past_due":  # the grace period runs from the first past_due we hear of
            assignments.append("#pds = if_not_exists(#pds, :pds)")
            vals[":pds"] = event_ts
        else:
            removals.append("#pds")
        names.update({"#sc": "subscriptionCreated", "#ec": "stateEventCreated"})
        vals.update({":sc": state.created, ":ec": event_created})
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        try:
            self.table.update(
                keys.tenant_pk(tenant_id), keys.TENANT_SK, expression, names=names, vals=vals,
                condition="attribute_exists(PK) AND (attribute_not_exists(#sc) OR #sc < :sc "
                          "OR (#sc = :sc AND (attribute_not_exists(#ec) OR #ec <= :ec)))",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def apply_invoice(self, tenant_id: str, invoice: dict[str, Any], event_created: int) -> bool:
        """Remember the latest invoice's state (for plan.get), newest event wins."""
        try:
            self.table.update(
                keys.tenant_pk(tenant_id), keys.TENANT_SK, "SET #inv = :inv, #iec = :ec",
                names={"#inv": "lastInvoice", "#iec": "invoiceEventCreated"}, vals={":inv": invoice, ":ec": event_created},
                condition="attribute_exists(PK) AND (attribute_not_exists(#iec) OR #iec <= :ec)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- usage -----------------------------------------------------------------------------------
    def license_snapshot(self, tenant_id: str, month: str) -> LicenseSnapshot:
        """Projects (for the running count), the tenant and this month's usage: one Query.

        The tenant partition sorts ``PROJECT#…`` < ``TENANT`` < ``USAGE#…``, so one key range
        holds all three; a projection keeps project bodies (prompts, agents) off the wire.
        """
        wanted = ("SK", "state", "spendUsd", "executions", "tokens", "notified", *_TENANT_FIELDS)
        names = {f"#p{i}": a for i, a in enumerate(wanted)}
        tenant, usage, active = None, None, 0
        for item in self.table.query_all(keys.tenant_pk(tenant_id), sk_between=(keys.PROJECT_PREFIX, keys.usage_sk(month)),
                                         consistent=True, projection=", ".join(names), names=names):
            sk = item["SK"]
            if sk.startswith(keys.PROJECT_PREFIX):
                active += item.get("state") in ACTIVE_PROJECT_STATES
            elif sk == keys.TENANT_SK:
                tenant = Tenant.model_validate({**item, "tenantId": tenant_id})
            elif sk == keys.usage_sk(month):
                usage = item
        return LicenseSnapshot(tenant, _usage(month, usage), active)

    def get_usage(self, tenant_id: str, month: str) -> Usage:
        return _usage(month, self.table.get(keys.tenant_pk(tenant_id), keys.usage_sk(month)))

    def record_usage(self, tenant_id: str, month: str, cost_usd: float, tokens: int, meter: MeterRecord, now: str) -> bool:
        """Add one execution's cost to the month and write its outbox record, together and once.

        The outbox record doubles as the guard: a second call for the same execution fails its
        condition and adds nothing. Returns False in that case.
        """
        pending = meter.status == "pending"
        record = {
            "PK": keys.tenant_pk(tenant_id), "SK": keys.meter_sk(meter.execution_id), "tenantId": tenant_id,
            "executionId": meter.execution_id, "status": meter.status, "value": meter.value, "costUsd": cost_usd,
            "timestamp": meter.timestamp, "stripeCustomerId": meter.stripe_customer_id, "createdAt": now,
            "expiresAt": epoch_seconds() + METER_TTL_SECONDS,
            **({"GSI1PK": keys.METER_PENDING_LOOKUP, "GSI1SK": f"{now}#{meter.execution_id}"} if pending else {}),
        }
        try:
            self.table.transact([
                {"Update": {
                    "Key": {"PK": {"S": keys.tenant_pk(tenant_id)}, "SK": {"S": keys.usage_sk(month)}},
                    "UpdateExpression": "ADD spendUsd :c, executions :one, tokens :t SET expiresAt = :exp, #m = :m",
                    "ExpressionAttributeNames": {"#m": "month"},
                    "ExpressionAttributeValues": {":c": to_attr(cost_usd), ":one": to_attr(1), ":t": to_attr(tokens),
                                                  ":exp": to_attr(epoch_seconds() + USAGE_TTL_SECONDS), ":m": to_attr(month)},
                }},
                {"Put": {"Item": to_item(record), "ConditionExpression": "attribute_not_exists(PK)"}},
            ])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(exc):
                return False
            raise
        return True

    def claim_threshold(self, tenant_id: str, month: str, mark: str) -> bool:
        """True exactly once per (month, mark): whoever adds the mark sends the notice."""
        try:
            self.table.update(
                keys.tenant_pk(tenant_id), keys.usage_sk(month), "ADD #n :m",
                names={"#n": "notified"}, vals={":m": {mark}, ":mark": mark},
                condition="attribute_exists(PK) AND (attribute_not_exists(#n) OR NOT contains(#n, :mark))",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- the usage outbox ------------------------------------------------------------------------
    def get_meter(self, tenant_id: str, execution_id: str) -> MeterRecord | None:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.meter_sk(execution_id))
        return _meter(item) if item else None

    def pending_meters(self, limit: int, created_before: str) -> list[MeterRecord]:
        """Outbox records not yet sent, oldest first (GSI1, eventually consistent: re-check each)."""
        items, _ = self.table.query_page(keys.METER_PENDING_LOOKUP, index="GSI1", limit=limit,
                                         sk_between=("0", created_before))
        return [_meter(i) for i in items]

    def mark_meter_sent(self, tenant_id: str, execution_id: str, when: str) -> bool:
        try:
            self.table.update(
                keys.tenant_pk(tenant_id), keys.meter_sk(execution_id),
                "SET #st = :sent, sentAt = :when REMOVE GSI1PK, GSI1SK",
                names={"#st": "status"}, vals={":sent": "sent", ":when": when, ":pending": "pending"},
                condition="#st = :pending",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def note_meter_failure(self, tenant_id: str, execution_id: str, error: str) -> None:
        try:
            self.table.update(keys.tenant_pk(tenant_id), keys.meter_sk(execution_id), "SET lastError = :e ADD attempts :one",
                              vals={":e": error[:500], ":one": 1, ":pending": "pending"}, names={"#st": "status"},
                              condition="#st = :pending")
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # sent meanwhile: nothing to note
                raise


def _meter(item: dict[str, Any]) -> MeterRecord:
    return MeterRecord(tenant_id=item["tenantId"], execution_id=item["executionId"], status=item["status"],
                       value=int(item.get("value", 0)), timestamp=int(item.get("timestamp", 0)),
                       stripe_customer_id=item.get("stripeCustomerId"))
