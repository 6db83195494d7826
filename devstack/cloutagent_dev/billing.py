"""Stripe in the local stack: the fake Stripe (unless ``STRIPE_API_KEY`` is set), the platform
secret in moto, ``POST /stripe/webhook`` through the real handler, and the usage reporter's poller
(the part a DynamoDB stream trigger and a schedule play in AWS)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from typing import Any

from aiohttp import web

from cloutagent_dev.fake_stripe import FakeStripe
from cloutagent_dev.lambdas import Invoker
from cloutagent.observability import logger

STRIPE_SECRET_NAME = "cloutagent/stripe"  # the name the secrets engineer's provisioning uses too
LOCAL_PRICES = {"pro": "price_local_pro", "team": "price_local_team", "enterprise": "price_local_enterprise"}
REPORT_INTERVAL_SECONDS = 0.5
# The poller stands in for the stream trigger, so it picks records up after a second, not minutes.
SCHEDULED_EVENT = {"source": "cloutagent.local", "detail-type": "Scheduled Event", "detail": {"minAgeSeconds": 1}}


class LocalBilling:
    def __init__(self, invoker: Invoker, host: str = "127.0.0.1"):
        from cloutagent.settings import get_settings
        from cloutagent_dev.settings import get_dev_settings

        dev = get_dev_settings()
        self.invoker = invoker
        self.host = host
        self.real_key = dev.stripe_api_key
        self.api_key = self.real_key or "sk_test_local_" + secrets.token_hex(12)
        self.webhook_secret = dev.stripe_webhook_secret or "whsec_local_" + secrets.token_hex(16)
        self.prices = get_settings().stripe_price_map or LOCAL_PRICES
        self.fake: FakeStripe | None = None
        self._reporter: asyncio.Task | None = None

    @property
    def label(self) -> str:
        if self.real_key:
            return "Stripe test mode (STRIPE_API_KEY)"
        return f"local fake ({self.fake.url if self.fake else '-'})"

    async def start(self, http_url: str) -> None:
        if not self.real_key:
            self.fake = FakeStripe(self.api_key, webhook_secret=self.webhook_secret,
                                   webhook_url=f"{http_url}/stripe/webhook")
            await self.fake.start(self.host)

    def provision(self, clients: Any) -> dict[str, str]:
        """Put the keys into the platform secret; returns the environment that points at them."""
        sm = clients.client("secretsmanager")
        value = json.dumps({"apiKey": self.api_key, "webhookSecret": self.webhook_secret})
        try:
            sm.put_secret_value(SecretId=STRIPE_SECRET_NAME, SecretString=value)
        except sm.exceptions.ResourceNotFoundException:
            sm.create_secret(Name=STRIPE_SECRET_NAME, SecretString=value)
        return {
            "CLOUTAGENT_STRIPE_SECRET_NAME": STRIPE_SECRET_NAME,
            "CLOUTAGENT_STRIPE_PRICES": json.dumps(self.prices),
            "CLOUTAGENT_STRIPE_API_BASE": self.fake.url if self.fake else "",
        }

    def ready_info(self) -> dict[str, Any]:
        return {"stripe": self.label, "stripeWebhookSecret": self.webhook_secret, "stripePrices": self.prices,
                "stripeApiBase": self.fake.url if self.fake else ""}

    def start_reporter(self) -> None:
        self._reporter = asyncio.get_running_loop().create_task(self._report_forever())

    async def _report_forever(self) -> None:
        while True:
            try:
                await self.invoker.invoke("usage_reporter", SCHEDULED_EVENT)
            except Exception:
                logger.exception("local usage reporter failed")
            await asyncio.sleep(REPORT_INTERVAL_SECONDS)

    async def stop(self) -> None:
        if self._reporter:
            self._reporter.cancel()
        if self.fake:
            await self.fake.stop()

