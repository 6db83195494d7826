"""Refuses requests over the plan's rate limits with RATE_LIMITED and when to retry."""

from __future__ import annotations

import time
from typing import Any, Callable

from cloutagent.domain.identity import Identity
from cloutagent.domain.rate_limits import UNCOUNTED_ACTIONS, caller_of, retry_after_ms, window_of
from cloutagent.errors import RateLimited
from cloutagent.services.ports import RateCounter


# How long a warm function trusts a tenant's plan limits it read: a tenant over the lowest plan's
# limits would otherwise cost one more read per request, for as long as its burst lasts. An upgrade
# raises the limits within this time; nothing but rate limits reads this cache.
PLAN_CACHE_MS = 60_000
PLAN_CACHE_TENANTS = 1_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RateLimiter:
    def __init__(self, counter: RateCounter, licenses: Any, clock_ms: Callable[[], int] = now_ms,
                 scale: Callable[[], float] = lambda: 1.0):
        self.counter = counter
        self.licenses = licenses  # the LicenseManager: the tenant's plan, read only when it matters
        self.clock_ms = clock_ms
        self.scale = scale  # settings.rate_limit_scale, read per request (an operator may change it)
        self._plans: dict[str, tuple[int, Any]] = {}  # tenant → (read at, entitlements)

    def check(self, identity: Identity, action: str) -> None:
        if action in UNCOUNTED_ACTIONS:
            return
        now = self.clock_ms()
        if identity.invitee:
            self._check_person(identity.user_id, now)
        else:
            self._check_tenant(identity, now)

    def _scaled(self, value: int) -> int:
        return max(1, int(value * self.scale()))

    def _check_person(self, user_id: str, now: int) -> None:
        """An invitee has no tenant, so no plan: counted on their own, at the lowest plan's limit."""
        limit = "requests_per_second_per_connection"
        allowed = self._scaled(self.licenses.catalog_minimum(limit))
        if self.counter.count_person(user_id, window_of(now)) > allowed:
            raise _refusal("you", limit, allowed, now)

    def _check_tenant(self, identity: Identity, now: int) -> None:
        counts = self.counter.count(identity.tenant_id, caller_of(identity), window_of(now))
        floor = self.licenses.catalog_minimum
        # Within what every plan allows, no plan can refuse: skip reading the tenant (most requests).
        if (counts.caller <= self._scaled(floor("requests_per_second_per_connection"))
                and counts.tenant <= self._scaled(floor("requests_per_second_per_tenant"))):
            return
        plan = self._entitlements(identity.tenant_id, now)
        for limit, count, who in (("requests_per_second_per_connection", counts.caller, "this connection"),
                                  ("requests_per_second_per_tenant", counts.tenant, "your tenant")):
            allowed = self._scaled(getattr(plan, limit))
            if count > allowed:
                raise _refusal(who, limit, allowed, now)

    def _entitlements(self, tenant_id: str, now: int) -> Any:
        cached = self._plans.get(tenant_id)
        if cached and now - cached[0] < PLAN_CACHE_MS:
            return cached[1]
        if len(self._plans) >= PLAN_CACHE_TENANTS:
            self._plans.clear()  # a warm function that saw this many bursting tenants starts over
        entitlements = self.licenses.standing(tenant_id).entitlements
        self._plans[tenant_id] = (now, entitlements)
        return entitlements


def _refusal(who: str, limit: str, allowed: int, now: int) -> RateLimited:
    wait = retry_after_ms(now)
    return RateLimited(f"Too many requests from {who} ({allowed} a second allowed); retry in {wait} ms",
                       {"retryAfterMs": wait, "limit": limit, "allowed": allowed})
