"""The SDK's pure parts: the error hierarchy, backoff, and the ordered, deduplicated stream."""

from __future__ import annotations

import asyncio
import random

import pytest

from cloutagent import errors as server_errors
from cloutagent_client import errors
from cloutagent_client.backoff import Backoff
from cloutagent_client.options import ClientOptions, Credentials
from cloutagent_client.subscriptions import Subscription


def test_every_wire_error_code_has_its_own_exception_class_under_cloutagent_error():
    server_codes = {cls.code for cls in server_errors.ServiceError.__subclasses__()}
    assert server_codes <= set(errors.WIRE_ERRORS), f"add client classes for {server_codes - set(errors.WIRE_ERRORS)}"
    for code, cls in errors.WIRE_ERRORS.items():
        raised = errors.error_from_wire({"code": code, "message": "m", "details": {"field": "x"}}, "project.get")
        assert type(raised) is cls and isinstance(raised, errors.CloutagentError)
        assert (raised.code, raised.message, raised.details, raised.action) == (code, "m", {"field": "x"}, "project.get")


def test_an_unknown_code_is_still_a_cloutagent_error_with_that_code():
    raised = errors.error_from_wire({"code": "SOMETHING_NEW", "message": "later"})
    assert type(raised) is errors.CloutagentError and raised.code == "SOMETHING_NEW" and raised.details == {}


def test_handshake_statuses_map_to_auth_errors_and_retryable_failures():
    assert isinstance(errors.handshake_error(401), errors.Unauthorized)
    assert isinstance(errors.handshake_error(403), errors.Forbidden)
    assert isinstance(errors.handshake_error(500), errors.ConnectionFailed)
    assert not isinstance(errors.handshake_error(500), errors.FATAL_HANDSHAKE)


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter():
    backoff = Backoff(0.2, 5.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    steps = [min(5.0, 0.2 * 2**i) for i in range(10)]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps))
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next_delay() <= 0.2


def test_options_keep_the_keepalive_and_the_lifetime_inside_api_gateway_limits():
    with pytest.raises(ValueError):
        ClientOptions(ping_interval=600)
    with pytest.raises(ValueError):
        ClientOptions(max_connection_age=7201)
    with pytest.raises(ValueError):
        Credentials()
    assert Credentials(api_key="cla_x").headers() == {"X-API-Key": "cla_x"}
    assert Credentials(token="t").headers() == {"Authorization": "Bearer t"}


def _event(seq: int) -> dict:
    return {"type": "event", "event": "execution.message", "projectId": "p_1", "seq": seq, "data": {"n": seq}}


def _subscription(log: list[dict], since_seq: int | None = 0) -> Subscription:
    async def history(project_id: str, since: int):
        for event in log:
            if event["seq"] > since:
                yield event

    async def on_close(sub: Subscription) -> None:
        return None

    return Subscription("p_1", since_seq, history=history, on_close=on_close, gap_grace=0.01)


async def _drain(sub: Subscription, count: int) -> list[int]:
    return [(await asyncio.wait_for(sub.__anext__(), 2))["seq"] for _ in range(count)]


async def test_out_of_order_and_duplicate_events_come_out_once_in_seq_order():
    sub = _subscription([])
    for seq in (2, 1, 1, 3, 2, 5, 4, 5):
        sub.offer(_event(seq))
    assert await _drain(sub, 5) == [1, 2, 3, 4, 5]
    sub.offer(_event(3))
    assert sub._queue.empty() and sub.last_seq == 5


async def test_a_gap_is_filled_from_the_log_when_the_missing_events_do_not_turn_up():
    log = [_event(s) for s in range(1, 7)]
    sub = _subscription(log)
    sub.offer(_event(1))
    sub.offer(_event(5))  # 2, 3, 4 were lost on the way
    assert await _drain(sub, 6) == [1, 2, 3, 4, 5, 6]


async def test_new_events_only_start_after_the_join_point_even_if_earlier_ones_arrive_first():
    sub = _subscription([], since_seq=None)
    for seq in (9, 10, 11):
        sub.offer(_event(seq))
    sub.start_at(10)
    assert await _drain(sub, 1) == [11]


async def test_the_stream_ends_after_project_deleted_and_stays_ended():
    sub = _subscription([])
    sub.offer(_event(1))
    sub.offer({**_event(2), "event": "project.deleted"})
    assert [e["seq"] async for e in sub] == [1, 2]
    assert [e async for e in sub] == []
