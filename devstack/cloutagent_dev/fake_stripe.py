"""A fake Stripe for the local stack and the tests: just the calls cloutagent makes, on 127.0.0.1.

Implements, in Stripe's wire format (form-encoded requests, JSON replies, ``Idempotency-Key``
replays): customers, Checkout Sessions, Customer Portal sessions and Billing Meter events (with
``identifier`` uniqueness). Its Checkout and Portal pages work in a browser: paying subscribes the
customer and cancelling ends the subscription, each announced to the stack's webhook with
correctly signed events, so ``billing.checkout`` works end to end without a Stripe account.

Test hooks under ``/_fake``: ``POST /_fake/faults`` injects 5xx answers or delays (before or after
the request is processed), ``GET /_fake/meter_events?identifier=`` shows what was counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientSession, ClientTimeout, web

from cloutagent.observability import logger

API_VERSION = "2026-10-28.endive"
PERIOD_SECONDS = 30 * 86400


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_payload(kind: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None) -> str:
    """A Stripe event envelope around ``obj``, as JSON text."""
    return json.dumps({
        "id": event_id or _id("evt"), "object": "event", "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created, "type": kind, "livemode": False,
        "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "data": {"object": obj},
    })


def subscription_object(*, customer: str, price: str, tenant_id: str | None, status: str = "active",
                        created: int | None = None, sub_id: str | None = None) -> dict[str, Any]:
    now = int(time.time()) if created is None else created
    return {
        "id": sub_id or _id("sub"), "object": "subscription", "customer": customer, "status": status,
        "created": now, "cancel_at_period_end": False, "trial_end": None,
        "metadata": {"tenantId": tenant_id} if tenant_id else {},
        "items": {"object": "list", "data": [{"id": _id("si"), "object": "subscription_item",
                                              "price": {"id": price, "object": "price"},
                                              "current_period_end": now + PERIOD_SECONDS}]},
    }


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


@dataclass
class Fault:
    path: str
    status: int = 500
    times: int = 1
    when: str = "before"  # before: nothing happens; after: it happens, but the caller sees an error
    delay_seconds: float = 0.0


class FakeStripe:
    def __init__(self, api_key: str, *, webhook_secret: str = "", webhook_url: str = ""):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.url = ""
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portals: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.meter_events: dict[str, dict[str, Any]] = {}  # by identifier
        self.meter_requests: dict[str, int] = {}  # attempts by identifier
        self.faults: list[Fault] = []
        self._replays: dict[tuple[str, str, str], tuple[str, int, str]] = {}
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/customers", self._api(self.create_customer))
        app.router.add_get("/v1/customers/{id}", self._api(self.get_customer))
        app.router.add_post("/v1/checkout/sessions", self._api(self.create_session))
        app.router.add_post("/v1/billing_portal/sessions", self._api(self.create_portal))
        app.router.add_post("/v1/billing/meter_events", self._api(self.create_meter_event))
        app.router.add_get("/checkout/{id}", self.checkout_page)
        app.router.add_post("/checkout/{id}/pay", self.checkout_pay)
        app.router.add_get("/portal/{id}", self.portal_page)
        app.router.add_post("/portal/{id}/cancel", self.portal_cancel)
        app.router.add_post("/_fake/faults", self.add_fault)
        app.router.add_delete("/_fake/faults", self.clear_faults)
        app.router.add_get("/_fake/meter_events", self.list_meter_events)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- the API surface -------------------------------------------------------------------------
    def _api(self, fn):
        async def handle(request: web.Request) -> web.Response:
            if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                return _error(401, "authentication_error", "Invalid API Key provided")
            body = await request.text()
            if request.path == "/v1/billing/meter_events":  # every attempt, failed and replayed ones too
                identifier = str(decode_form(body).get("identifier"))
                self.meter_requests[identifier] = self.meter_requests.get(identifier, 0) + 1
            fault = self._take_fault(request.path)
            if fault and fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if fault and fault.when == "before" and fault.status:
                return _error(fault.status, "api_error", "Injected failure (nothing was done)")
            key = request.headers.get("Idempotency-Key")
            slot = (self.api_key, request.path, key) if key and request.method == "POST" else None
            if slot and slot in self._replays:
                sent_body, status, text = self._replays[slot]
                if sent_body != body:
                    return _error(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters")
                response = web.Response(status=status, text=text, content_type="application/json")
                response.headers["Idempotent-Replayed"] = "true"
                return response
            params = decode_form(body) if request.method == "POST" else dict(request.query)
            status, data = fn(request, params)
            text = json.dumps(data)
            if slot:
                self._replays[slot] = (body, status, text)
            if fault and fault.when == "after" and fault.status:
                return _error(fault.status, "api_error", "Injected failure (the request was done)")
            return web.Response(status=status, text=text, content_type="application/json")

        return handle

    def create_customer(self, request: web.Request, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = {"id": _id("cus"), "object": "customer", "created": int(time.time()), "name": p.get("name"),
                    "email": p.get("email"), "metadata": p.get("metadata") or {}, "livemode": False}
        self.customers[customer["id"]] = customer
        return 200, customer

    def get_customer(self, request: web.Request, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = self.customers.get(request.match_info["id"])
        return (200, customer) if customer else (404, _error_body("invalid_request_error", "No such customer"))

    def create_session(self, request: web.Request, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if p.get("customer") not in self.customers:
            return 400, _error_body("invalid_request_error", f"No such customer: '{p.get('customer')}'")
        sid = _id("cs_test")
        session = {"id": sid, "object": "checkout.session", "url": f"{self.url}/checkout/{sid}", "mode": p.get("mode"),
                   "customer": p["customer"], "client_reference_id": p.get("client_reference_id"),
                   "metadata": p.get("metadata") or {}, "subscription_data": p.get("subscription_data") or {},
                   "line_items": p.get("line_items") or [], "success_url": p.get("success_url"),
                   "cancel_url": p.get("cancel_url"), "status": "open", "subscription": None, "livemode": False}
        self.sessions[sid] = session
        return 200, {k: v for k, v in session.items() if k not in ("subscription_data", "line_items")}

    def create_portal(self, request: web.Request, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if p.get("customer") not in self.customers:
            return 400, _error_body("invalid_request_error", f"No such customer: '{p.get('customer')}'")
        pid = _id("bps")
        portal = {"id": pid, "object": "billing_portal.session", "url": f"{self.url}/portal/{pid}",
                  "customer": p["customer"], "return_url": p.get("return_url"), "livemode": False}
        self.portals[pid] = portal
        return 200, portal

    def create_meter_event(self, request: web.Request, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        identifier = p.get("identifier") or _id("mev")
        payload = p.get("payload") or {}
        if not payload.get("stripe_customer_id") or not p.get("event_name"):
            return 400, _error_body("invalid_request_error", "event_name and payload[stripe_customer_id] are required")
        # Stripe keeps identifiers unique (for at least 24 hours): a repeat is not counted again.
        event = self.meter_events.setdefault(identifier, {
            "object": "billing.meter_event", "created": int(time.time()), "event_name": p["event_name"],
            "identifier": identifier, "payload": payload, "livemode": False,
            "timestamp": int(p.get("timestamp") or time.time()),
        })
        return 200, event

    # -- the hosted pages ------------------------------------------------------------------------
    async def checkout_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return web.Response(status=404, text="No such checkout session")
        prices = ", ".join(str(i.get("price")) for i in session["line_items"])
        return web.Response(content_type="text/html", text=(
            f"<h1>Fake Stripe Checkout</h1><p>Subscribe to {prices}</p>"
            f"<form method='post' action='/checkout/{session['id']}/pay'><button>Pay (test)</button></form>"
            f"<p><a href='{session['cancel_url']}'>Cancel</a></p>"))

    async def checkout_pay(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None or session["status"] != "open":
            return web.Response(status=404, text="No such open checkout session")
        tenant_id = (session["subscription_data"].get("metadata") or {}).get("tenantId")
        sub = subscription_object(customer=session["customer"], price=str(session["line_items"][0]["price"]),
                                  tenant_id=tenant_id)
        self.subscriptions[sub["id"]] = sub
        session.update(status="complete", subscription=sub["id"])
        completed = {k: v for k, v in session.items() if k not in ("subscription_data", "line_items")}
        await self.deliver("customer.subscription.created", sub)
        await self.deliver("checkout.session.completed", completed)
        raise web.HTTPSeeOther(session["success_url"])

    async def portal_page(self, request: web.Request) -> web.Response:
        portal = self.portals.get(request.match_info["id"])
        if portal is None:
            return web.Response(status=404, text="No such portal session")
        return web.Response(content_type="text/html", text=(
            f"<h1>Fake Stripe Customer Portal</h1><p>Customer {portal['customer']}</p>"
            f"<form method='post' action='/portal/{portal['id']}/cancel'><button>Cancel subscription</button></form>"
            f"<p><a href='{portal['return_url']}'>Back</a></p>"))

    async def portal_cancel(self, request: web.Request) -> web.Response:
        portal = self.portals.get(request.match_info["id"])
        if portal is None:
            return web.Response(status=404, text="No such portal session")
        live = [s for s in self.subscriptions.values() if s["customer"] == portal["customer"] and s["status"] != "canceled"]
        for sub in live:
            sub["status"] = "canceled"
            await self.deliver("customer.subscription.deleted", sub)
        raise web.HTTPSeeOther(portal["return_url"])

    async def deliver(self, kind: str, obj: dict[str, Any]) -> int:
        """Post a signed event to the webhook, as Stripe would (one attempt; the status is returned)."""
        if not (self.webhook_url and self.webhook_secret):
            return 0
        payload = event_payload(kind, obj)
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, self.webhook_secret)}
        try:
            async with ClientSession(timeout=ClientTimeout(total=30)) as http:
                async with http.post(self.webhook_url, data=payload.encode(), headers=headers) as response:
                    return response.status
        except Exception:
            logger.exception("fake stripe: webhook delivery failed", extra={"event_type": kind})
            return 0

    # -- test hooks ------------------------------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.faults.append(Fault(path=str(body["path"]), status=int(body.get("status", 500)), times=int(body.get("times", 1)),
                                 when=str(body.get("when", "before")), delay_seconds=float(body.get("delaySeconds", 0))))
        return web.json_response({"faults": len(self.faults)})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"faults": 0})

    async def list_meter_events(self, request: web.Request) -> web.Response:
        identifier = request.query.get("identifier")
        events = [e for i, e in self.meter_events.items() if identifier in (None, i)]
        requests = self.meter_requests.get(identifier, 0) if identifier else sum(self.meter_requests.values())
        return web.json_response({"data": events, "requests": requests})


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def _error(status: int, kind: str, message: str) -> web.Response:
    response = web.json_response(_error_body(kind, message), status=status)
    if status >= 500:
        response.headers["Stripe-Should-Retry"] = "true"
    return response
