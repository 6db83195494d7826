"""Stripe webhooks: verify the signature, then apply each event once and in order.

- Once: Powertools Idempotency keyed on ``event.id`` (records in the main table under
  ``IDEMPOTENCY#stripe-webhook``). A failed attempt leaves no record, so Stripe's retry runs again.
- In order: subscription state carries the subscription's and the event's ``created``; an event
  older than the state we hold changes nothing (the store's conditional write decides).
- Tenant: the subscription's ``metadata.tenantId``, else the Stripe customer's GSI1 lookup.
"""

from __future__ import annotations

from typing import Any, Callable

from cloutagent.domain.billing import epoch_iso, invoice_metadata, object_id, subscription_state
from cloutagent.domain.identity import Role
from cloutagent.domain.models import Tenant
from cloutagent.errors import Conflict
from cloutagent.observability import logger
from cloutagent.services.audit import STRIPE_ACTOR
from cloutagent.services.ports import BillingStore, Payments

IDEMPOTENCY_SECONDS = 4 * 86400  # Stripe retries a delivery for up to three days
SUBSCRIPTION_EVENTS = ("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted")
INVOICE_EVENTS = {"invoice.paid": "paid", "invoice.payment_failed": "payment_failed",
                  "invoice.payment_action_required": "payment_action_required"}


class StripeWebhookService:
    def __init__(self, store: BillingStore, payments: Payments, notifier: Any, *, persistence: Any, prices: dict[str, str],
                 default_plan: str, audit: Any = None):
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        self.audit = audit  # an AuditLog: a plan or subscription change is the tenant admins' business
        self.store = store
        self.payments = payments
        self.notifier = notifier
        self.price_plans = {price: plan for plan, price in prices.items()}
        self.default_plan = default_plan
        self.config = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True,
                                        expires_after_seconds=IDEMPOTENCY_SECONDS)
        self._apply_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="event", persistence_store=persistence, config=self.config,
            key_prefix="stripe-event")(self._apply)

    def receive(self, payload: bytes, signature: str | None, lambda_context: Any = None) -> dict[str, Any]:
        """Verify, then apply once. Raises BadRequest (bad signature: nothing changes) or Conflict (in progress)."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        event = self.payments.verify_webhook(payload, signature)
        if lambda_context is not None:  # lets an interrupted attempt's record expire with the invocation
            self.config.register_lambda_context(lambda_context)
        try:
            return self._apply_once(event=event)
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict("This event is being processed; Stripe will retry it") from exc

    # -- dispatch --------------------------------------------------------------------------------
    def _apply(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = str(event.get("type", ""))
        obj = (event.get("data") or {}).get("object") or {}
        created = int(event.get("created") or 0)
        if kind in SUBSCRIPTION_EVENTS:
            outcome = self._subscription(obj, created, deleted=kind.endswith(".deleted"))
        elif kind == "customer.subscription.trial_will_end":
            outcome = self._notice(obj, obj.get("metadata") or {}, {"kind": "trial_will_end",
                                                                    "trialEnd": epoch_iso(obj.get("trial_end"))})
        elif kind == "checkout.session.completed":
            outcome = self._checkout_completed(obj)
        elif kind in INVOICE_EVENTS:
            outcome = self._invoice(obj, INVOICE_EVENTS[kind], created)
        else:
            outcome = {"outcome": "ignored"}
        result = {"eventId": event["id"], "type": kind, **outcome}
        logger.info("stripe event handled", extra=result)
        return result

    def _tenant(self, obj: dict[str, Any], metadata: dict[str, Any]) -> Tenant | None:
        customer = object_id(obj.get("customer"))
        tenant_id = metadata.get("tenantId")
        if not tenant_id and obj.get("object") == "checkout.session":
            tenant_id = obj.get("client_reference_id")
        tenant = self.store.get_tenant(str(tenant_id)) if tenant_id else None
        if tenant is None and customer:
            tenant = self.store.find_tenant_by_customer(customer)
        if tenant is None:
            return None
        if customer and tenant.stripe_customer_id and tenant.stripe_customer_id != customer:
            logger.warning("stripe customer does not match the tenant's", extra={"tenant_id": tenant.tenant_id})
            return None
        if customer and not tenant.stripe_customer_id:
            self.store.set_customer(tenant.tenant_id, customer)
        return tenant

    def _subscription(self, sub: dict[str, Any], event_created: int, *, deleted: bool) -> dict[str, Any]:
        tenant = self._tenant(sub, sub.get("metadata") or {})
        if tenant is None:
            return {"outcome": "unknown_tenant"}
        state = subscription_state(sub, self.price_plans, deleted=deleted, default_plan=self.default_plan)
        if state is None:
            logger.error("subscription has no price of a known plan (check CLOUTAGENT_STRIPE_PRICES)",
                         extra={"tenant_id": tenant.tenant_id, "subscription": sub.get("id")})
            return {"outcome": "unknown_price", "tenantId": tenant.tenant_id}
        applied = self.store.apply_subscription(tenant.tenant_id, state, event_created, epoch_iso(event_created) or "")
        if applied and self.audit is not None and (tenant.plan, tenant.subscription_status) != (state.plan, state.status):
            self.audit.record_as(tenant.tenant_id, STRIPE_ACTOR, "plan.change", tenant.tenant_id,
                                 {"from": {"plan": tenant.plan, "status": tenant.subscription_status},
                                  "to": {"plan": state.plan, "status": state.status}})
        return {"outcome": "applied" if applied else "stale", "tenantId": tenant.tenant_id,
                "plan": state.plan, "status": state.status}

    def _checkout_completed(self, session: dict[str, Any]) -> dict[str, Any]:
        # The subscription's own events carry its state; this one only ties customer to tenant.
        tenant = self._tenant(session, session.get("metadata") or {})
        return {"outcome": "linked" if tenant else "unknown_tenant", **({"tenantId": tenant.tenant_id} if tenant else {})}

    def _invoice(self, invoice: dict[str, Any], status: str, event_created: int) -> dict[str, Any]:
        tenant = self._tenant(invoice, invoice_metadata(invoice))
        if tenant is None:
            return {"outcome": "unknown_tenant"}
        summary = {"id": invoice.get("id"), "status": status, "hostedInvoiceUrl": invoice.get("hosted_invoice_url"),
                   "amountDue": invoice.get("amount_due"), "currency": invoice.get("currency"),
                   "at": epoch_iso(event_created)}
        applied = self.store.apply_invoice(tenant.tenant_id, summary, event_created)
        if applied and status != "paid":
            self.notifier.notify(tenant.tenant_id, "billing.notice",
                                 {"kind": status, "invoiceUrl": summary["hostedInvoiceUrl"]}, min_role=Role.admin)
        return {"outcome": "applied" if applied else "stale", "tenantId": tenant.tenant_id}

    def _notice(self, obj: dict[str, Any], metadata: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        tenant = self._tenant(obj, metadata)
        if tenant is None:
            return {"outcome": "unknown_tenant"}
        self.notifier.notify(tenant.tenant_id, "billing.notice", data, min_role=Role.admin)
        return {"outcome": "notified", "tenantId": tenant.tenant_id}
