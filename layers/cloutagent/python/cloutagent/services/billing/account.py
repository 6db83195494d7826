"""Billing actions: plan.get, usage.get, billing.checkout, billing.portal (owners and admins)."""

from __future__ import annotations

from cloutagent.domain.billing import PlanView, UsageReport, month_of
from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Tenant
from cloutagent.errors import BadRequest, BillingNotConfigured, Conflict
from cloutagent.protocol.actions import BillingCheckout, BillingPortal
from cloutagent.services.billing.licenses import LicenseManager
from cloutagent.services.ports import BillingStore, Payments


class BillingService:
    def __init__(self, store: BillingStore, licenses: LicenseManager, payments: Payments, *, prices: dict[str, str],
                 metered_price: str = ""):
        self.store = store
        self.licenses = licenses
        self.payments = payments
        self.prices = prices
        self.metered_price = metered_price

    def plan(self, identity: Identity) -> PlanView:
        tenant = self.store.get_tenant(identity.tenant_id)
        return PlanView(self.licenses.standing_of(tenant), tenant)

    def usage(self, identity: Identity, month: str | None) -> UsageReport:
        used = self.store.get_usage(identity.tenant_id, month or month_of(self.licenses.clock()))
        cap = self.licenses.standing(identity.tenant_id).entitlements.monthly_spend_cap_usd
        return UsageReport(used, cap)

    def checkout(self, identity: Identity, data: BillingCheckout) -> str:
        """A Stripe Checkout page that subscribes the tenant to ``plan``; the webhook does the rest."""
        self._require_billing()
        price = self.prices.get(data.plan)
        if price is None:
            offered = ", ".join(sorted(self.prices)) or "none"
            raise BadRequest(f"There is no Stripe price for the {data.plan} plan (offered: {offered})",
                             {"field": "plan"})
        tenant = self._tenant(identity)
        if self.licenses.standing_of(tenant).subscribed:
            raise Conflict("This tenant already has a subscription; change plans in billing.portal")
        customer = self._customer(tenant)
        prices = [price] + ([self.metered_price] if self.metered_price else [])
        return self.payments.create_checkout_session(tenant_id=tenant.tenant_id, customer_id=customer, prices=prices,
                                                     success_url=data.successUrl, cancel_url=data.cancelUrl)

    def portal(self, identity: Identity, data: BillingPortal) -> str:
        """Stripe's Customer Portal: payment methods, invoices, plan changes, cancellation."""
        self._require_billing()
        customer = self._customer(self._tenant(identity))
        return self.payments.create_portal_session(customer, data.returnUrl)

    def _require_billing(self) -> None:
        if not self.licenses.billing_enabled:
            raise BillingNotConfigured()

    def _tenant(self, identity: Identity) -> Tenant:
        tenant = self.store.get_tenant(identity.tenant_id)
        if tenant is None:  # cannot happen over an authorized connection; never create one here
            raise BillingNotConfigured("This tenant has no billing record")
        return tenant

    def _customer(self, tenant: Tenant) -> str:
        """One Stripe customer per tenant, created on first need."""
        if tenant.stripe_customer_id:
            return tenant.stripe_customer_id
        created = self.payments.create_customer(tenant.tenant_id, tenant.name)
        return self.store.set_customer(tenant.tenant_id, created)
