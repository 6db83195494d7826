"""The rate limiter's rules: within the lowest plan's limits it reads no plan; above them it refuses by
the tenant's own plan, read once a minute per warm function at most."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cloutagent.domain.identity import Identity
from cloutagent.domain.rate_limits import WindowCounts
from cloutagent.errors import RateLimited
from cloutagent.services.rate_limits import PLAN_CACHE_MS, RateLimiter

FLOORS = {"requests_per_second_per_connection": 10, "requests_per_second_per_tenant": 50}


class Counter:
    def __init__(self):
        self.counts = WindowCounts(caller=1, tenant=1)
        self.people: dict[tuple[str, int], int] = {}

    def count(self, tenant_id, caller, window):
        return self.counts

    def count_person(self, user_id, window):
        self.people[user_id, window] = self.people.get((user_id, window), 0) + 1
        return self.people[user_id, window]


class Licenses:
    """The LicenseManager's two reads the limiter uses, with the plan each tenant is on."""

    def __init__(self, per_connection: int):
        self.per_connection = per_connection
        self.reads = 0

    def catalog_minimum(self, limit):
        return FLOORS[limit]

    def standing(self, tenant_id):
        self.reads += 1
        return SimpleNamespace(entitlements=SimpleNamespace(requests_per_second_per_connection=self.per_connection,
                                                            requests_per_second_per_tenant=1_000))


@pytest.fixture
def clock():
    return {"now": 1_000_000}


def limiter(licenses, counter, clock):
    return RateLimiter(counter, licenses, clock_ms=lambda: clock["now"])


ALICE = Identity(tenant_id="t_1", user_id="u_1", role="member", connection_id="c_1")


def test_within_every_plans_limits_no_plan_is_read(clock):
    licenses, counter = Licenses(per_connection=100), Counter()
    counter.counts = WindowCounts(caller=10, tenant=50)
    limiter(licenses, counter, clock).check(ALICE, "project.get")
    assert licenses.reads == 0


def test_over_the_plan_the_answer_says_when_to_retry(clock):
    licenses, counter = Licenses(per_connection=20), Counter()
    counter.counts = WindowCounts(caller=21, tenant=21)
    clock["now"] = 5_250
    with pytest.raises(RateLimited) as refused:
        limiter(licenses, counter, clock).check(ALICE, "project.get")
    assert refused.value.details == {"retryAfterMs": 750, "limit": "requests_per_second_per_connection",
                                     "allowed": 20}


def test_a_burst_above_the_floor_reads_the_plan_once_a_minute(clock):
    licenses, counter = Licenses(per_connection=100), Counter()
    counter.counts = WindowCounts(caller=30, tenant=30)  # above the floor, within this tenant's plan
    rate = limiter(licenses, counter, clock)
    for _ in range(200):
        rate.check(ALICE, "project.get")
        clock["now"] += 100
    # 20 s of requests: one read; past a minute the plan is read again (an upgrade shows up)
    assert licenses.reads == 1
    clock["now"] += PLAN_CACHE_MS
    rate.check(ALICE, "project.get")
    assert licenses.reads == 2


def test_uncounted_actions_are_not_counted(clock):
    licenses, counter = Licenses(per_connection=1), Counter()
    counter.counts = WindowCounts(caller=99, tenant=99)
    limiter(licenses, counter, clock).check(ALICE, "ping")
    assert licenses.reads == 0


def test_an_invitee_is_counted_on_their_own_at_the_lowest_plans_limit(clock):
    # GIVEN a person who belongs to no tenant yet (no plan, no tenant partition)
    licenses, counter = Licenses(per_connection=100), Counter()
    rate = limiter(licenses, counter, clock)
    invitee = Identity(tenant_id="", user_id="u_2", role="viewer", invitee=True)
    # WHEN they list their invitations faster than the lowest plan allows a connection
    for _ in range(FLOORS["requests_per_second_per_connection"]):
        rate.check(invitee, "invitation.mine")
    with pytest.raises(RateLimited) as refused:
        rate.check(invitee, "invitation.mine")
    # THEN the next is refused, no plan is read, and another person is not held up by them
    assert refused.value.details["allowed"] == FLOORS["requests_per_second_per_connection"]
    assert licenses.reads == 0
    rate.check(Identity(tenant_id="", user_id="u_3", role="viewer", invitee=True), "invitation.mine")
    clock["now"] += 1000  # and the next second is theirs again
    rate.check(invitee, "invitation.mine")
