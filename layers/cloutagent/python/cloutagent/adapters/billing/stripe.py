"""Stripe behind a small port: customers, Checkout, the Customer Portal, meter events, webhooks.

One ``StripeClient`` per API key (no global ``stripe.api_key``), pointed at
``CLOUTAGENT_STRIPE_API_BASE`` when set: the tests and the local stack use a fake Stripe there.
Keys come from the platform secret ``{"apiKey", "webhookSecret"}``, read (and cached) on first need.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

from cloutagent.errors import BadRequest, BillingNotConfigured, BillingUnavailable
from cloutagent.observability import logger

WEBHOOK_TOLERANCE_SECONDS = 300
MAX_NETWORK_RETRIES = 2  # with the same idempotency key each time


class StripePayments:
    def __init__(self, keys: Callable[[], dict[str, Any]], *, api_base: str = "", timeout: float = 10.0):
        self._keys = keys
        self.api_base = api_base
        self.timeout = timeout
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- keys and the client ---------------------------------------------------------------------
    def _secret(self, field: str) -> str:
        value = str(self._keys().get(field) or "")
        if not value:
            raise BillingNotConfigured()
        return value

    def _client(self) -> Any:
        api_key = self._secret("apiKey")
        with self._lock:  # a rotated key gets a client of its own
            if api_key not in self._clients:
                import stripe  # lazy: most functions never talk to Stripe

                base = {"api": self.api_base, "meter_events": self.api_base} if self.api_base else None
                self._clients[api_key] = stripe.StripeClient(
                    api_key, base_addresses=base, max_network_retries=MAX_NETWORK_RETRIES,
                    http_client=stripe.RequestsClient(timeout=self.timeout),
                )
            return self._clients[api_key]

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        import stripe

        try:
            return fn(self._client())
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            # Transient: the caller may retry. Anything else (a bad price id) is a deployment
            # problem and surfaces as INTERNAL, with the detail in the log only.
            logger.warning("stripe unavailable", extra={"stripe_call": what, "error_type": type(exc).__name__})
            raise BillingUnavailable() from exc
        except stripe.AuthenticationError as exc:  # a placeholder or revoked key in the secret
            logger.error("stripe refused the API key", extra={"stripe_call": what})
            raise BillingNotConfigured("Billing is not configured correctly on this deployment") from exc

    # -- API calls -------------------------------------------------------------------------------
    def create_customer(self, tenant_id: str, name: str) -> str:
        """The tenant's customer; the idempotency key makes a retried or racing call return the same one."""
        customer = self._call("customers.create", lambda c: c.v1.customers.create(
            {"name": name, "metadata": {"tenantId": tenant_id}}, {"idempotency_key": f"customer-{tenant_id}"}))
        return customer["id"]

    def create_checkout_session(self, *, tenant_id: str, customer_id: str, prices: list[str], success_url: str,
                                cancel_url: str) -> str:
        line_items = [{"price": prices[0], "quantity": 1}] + [{"price": p} for p in prices[1:]]
        session = self._call("checkout.sessions.create", lambda c: c.v1.checkout.sessions.create({
            "mode": "subscription", "customer": customer_id, "client_reference_id": tenant_id,
            "line_items": line_items, "success_url": success_url, "cancel_url": cancel_url,
            "metadata": {"tenantId": tenant_id}, "subscription_data": {"metadata": {"tenantId": tenant_id}},
        }))
        return session["url"]

    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        session = self._call("billing_portal.sessions.create", lambda c: c.v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url}))
        return session["url"]

    def send_meter_event(self, *, event_name: str, identifier: str, customer_id: str, value: int, timestamp: int) -> None:
        """Report usage. Stripe keeps ``identifier`` unique, and the idempotency key replays retries."""
        self._call("billing.meter_events.create", lambda c: c.v1.billing.meter_events.create(
            {"event_name": event_name, "identifier": identifier, "timestamp": timestamp,
             "payload": {"stripe_customer_id": customer_id, "value": str(value)}},
            {"idempotency_key": f"meter-{identifier}"}))

    # -- webhooks --------------------------------------------------------------------------------
    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event, if ``Stripe-Signature`` signs exactly this body within the tolerance; else BadRequest."""
        import stripe

        secret = self._secret("webhookSecret")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature or "", secret, WEBHOOK_TOLERANCE_SECONDS)
            event = json.loads(text)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise BadRequest("The Stripe signature is not valid for this body") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("data"), dict):
            raise BadRequest("Not a Stripe event")
        return event
