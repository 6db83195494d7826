"""The executor's @connections poster and broadcaster, against a real HTTP server on 127.0.0.1.

The signatures are checked against botocore's own signer (the oracle); the HTTP side against an
aiohttp server that answers the way API Gateway's management API does.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections import defaultdict
from unittest import mock

import botocore.session
import pytest
from aiohttp import web

from cloutagent.protocol.frames import MAX_OUTBOUND_FRAME_BYTES, event_frame
from cloutagent.services.fanout import EventPacker, packed_frames
from cloutagent_executor.broadcast import Broadcaster
from cloutagent_executor.poster import ConnectionsPoster, PostFailed, frame_of

NOW = datetime.datetime(2026, 12, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def _credentials(token: str | None):
    session = botocore.session.get_session()
    session.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token)
    return session


def _botocore_request(session, endpoint: str, connection_id: str, data: bytes):
    """What botocore's post_to_connection would send at NOW (stopped before the network)."""
    client = session.create_client("apigatewaymanagementapi", region_name="eu-west-1", endpoint_url=endpoint)
    seen = {}

    class Sent(Exception):
        pass

    def capture(request, **_):
        seen["request"] = request
        raise Sent

    client.meta.events.register("before-send", capture)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)), \
            pytest.raises(Sent):
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    return seen["request"]


@pytest.mark.parametrize("token", [None, "session/token+="])
@pytest.mark.parametrize("connection_id", ["L0SM9cOFvHcCIhw=", "abc-DEF_123", "a+b/c"])
def test_each_request_is_signed_exactly_as_botocore_signs_it(token, connection_id):
    session = _credentials(token)
    endpoint = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    expected = _botocore_request(session, endpoint, connection_id, b'{"type":"event"}')

    poster = ConnectionsPoster(endpoint, "eu-west-1", session.get_credentials)
    path, canonical = poster._path(connection_id)
    headers = dict(poster.signer.headers("POST", poster.host, canonical, frame_of('{"type":"event"}').sha256, now=NOW))

    assert expected.url == f"https://{poster.host}{path}"
    assert headers["Authorization"] == expected.headers["Authorization"].decode()
    assert headers["X-Amz-Date"] == expected.headers["X-Amz-Date"].decode()
    assert headers.get("X-Amz-Security-Token") == (token and expected.headers["X-Amz-Security-Token"].decode())


def test_the_signature_changes_with_the_body_and_the_day():
    poster = ConnectionsPoster("http://127.0.0.1:1/local", "us-east-1", _credentials(None).get_credentials)
    _, canonical = poster._path("c1")
    sign = lambda body, now: dict(poster.signer.headers("POST", poster.host, canonical, frame_of(body).sha256, now=now))
    assert sign("a", NOW)["Authorization"] != sign("b", NOW)["Authorization"]
    assert sign("a", NOW)["Authorization"] != sign("a", NOW + datetime.timedelta(days=1))["Authorization"]


class Gateway:
    """An @connections API on 127.0.0.1: answers per connection id, records each post and socket."""

    def __init__(self):
        self.posts: dict[str, list[bytes]] = defaultdict(list)
        self.peers: set = set()
        self.answers: dict[str, list[tuple[int, str]]] = defaultdict(list)  # queued (status, error type)
        self.delays: dict[str, float] = {}
        self.chunked = False

    async def post(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.match_info["id"]
        self.peers.add(request.transport.get_extra_info("peername"))
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
        body = await request.read()
        await asyncio.sleep(self.delays.get(connection_id, 0))
        if self.answers[connection_id]:
            status, error_type = self.answers[connection_id].pop(0)
            return web.json_response({"message": error_type}, status=status, headers={"x-amzn-ErrorType": error_type})
        self.posts[connection_id].append(body)
        if self.chunked:
            response = web.StreamResponse(status=200)
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"{}")
            await response.write_eof()
            return response
        return web.Response(status=200)


@pytest.fixture
async def gateway():
    fake = Gateway()
    app = web.Application()
    app.router.add_post("/local/@connections/{id}", fake.post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    poster = ConnectionsPoster(f"http://127.0.0.1:{port}/local", "us-east-1", _credentials(None).get_credentials,
                               max_connections=8)
    yield fake, poster
    await poster.close()
    await runner.cleanup()


async def test_posts_reuse_kept_alive_connections_and_read_chunked_answers(gateway):
    fake, poster = gateway
    for i in range(20):
        assert await poster.post("c1", frame_of(f'{{"n":{i}}}')) is True
    fake.chunked = True
    assert await poster.post("c1", frame_of('{"n":20}')) is True
    assert await poster.post("c1", frame_of('{"n":21}')) is True
    assert [b.decode() for b in fake.posts["c1"]] == [f'{{"n":{i}}}' for i in range(22)]
    assert len(fake.peers) == 1


async def test_gone_is_false_and_other_refusals_are_typed(gateway):
    fake, poster = gateway
    fake.answers["gone"] = [(410, "GoneException")]
    fake.answers["forbidden"] = [(403, "ForbiddenException")]
    fake.answers["signature"] = [(403, "InvalidSignatureException")]
    fake.answers["throttled"] = [(429, "LimitExceededException")]
    assert await poster.post("gone", frame_of("{}")) is False
    assert await poster.post("forbidden", frame_of("{}")) is False
    with pytest.raises(PostFailed) as refused:
        await poster.post("signature", frame_of("{}"))
    assert not refused.value.retryable
    with pytest.raises(PostFailed) as throttled:
        await poster.post("throttled", frame_of("{}"))
    assert throttled.value.retryable


async def test_each_subscriber_gets_every_frame_in_order_and_a_slow_one_delays_only_itself(gateway):
    fake, poster = gateway
    fake.delays["slow"] = 0.5
    finished: dict[str, float] = {}
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None)
    subscribers = ["slow", *(f"c{i}" for i in range(30))]
    loop = asyncio.get_running_loop()
    started = loop.time()
    for batch in range(5):
        broadcaster.send(subscribers, [frame_of(f'{{"b":{batch},"part":{p}}}') for p in range(2)])
    fast = asyncio.gather(*(_until(fake, cid, 10, finished, loop) for cid in subscribers[1:]))
    assert broadcaster.busy()  # 31 watchers waiting for frames
    await asyncio.wait_for(fast, 10)
    assert not broadcaster.busy()  # one slow watcher does not hold up the next batch
    await broadcaster.drained()
    expected = [f'{{"b":{b},"part":{p}}}'.encode() for b in range(5) for p in range(2)]
    assert all(fake.posts[cid] == expected for cid in subscribers)
    # The 30 others were all done before the slow one had got half of its 10 frames (5 s).
    assert max(finished.values()) - started < 2.5
    assert broadcaster.posted == 10 * len(subscribers)


def _batch_frames(first_seq: int, sizes: list[int]):
    """A stored batch's frames, as the run's fan-out makes them: events of ``sizes`` characters."""
    events = [event_frame("execution.message", "p_1", first_seq + i, "t", {"text": "x" * size})
              for i, size in enumerate(sizes)]
    return [frame_of(text, carried) for text, carried in packed_frames("p_1", events)]


def _seqs(posts: list[bytes]) -> list[int]:
    """The seqs a subscriber got, post by post, with every post a whole frame within the cap."""
    seqs = []
    for body in posts:
        assert len(body) <= MAX_OUTBOUND_FRAME_BYTES
        frame = json.loads(body)
        if frame["type"] == "chunk":
            seqs.append(("chunk", frame["index"]))
        else:
            seqs += [e["seq"] for e in frame["events"]] if frame["type"] == "events" else [frame["seq"]]
    return seqs


async def test_frames_queued_behind_a_slow_post_go_out_joined_in_order_and_within_the_cap(gateway):
    fake, poster = gateway
    fake.delays["slow"] = 0.3
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None, packer=EventPacker("p_1"))
    broadcaster.send(["slow", "fast"], _batch_frames(1, [10, 10]))
    await asyncio.sleep(0.1)  # both first posts are on their way; the slow one's takes 0.3 s
    for batch in range(1, 5):
        broadcaster.send(["slow", "fast"], _batch_frames(1 + 2 * batch, [10, 10]))
    await broadcaster.drained()
    assert _seqs(fake.posts["slow"]) == list(range(1, 11))
    assert len(fake.posts["slow"]) == 2  # the first batch, then the four that queued behind it
    assert _seqs(fake.posts["fast"]) == list(range(1, 11))
    # Joined frames are what one events frame of those events is, for any client.
    assert json.loads(fake.posts["slow"][1]) == {
        "type": "events", "projectId": "p_1",
        "events": [event_frame("execution.message", "p_1", seq, "t", {"text": "x" * 10}) for seq in range(3, 11)]}


async def test_joining_stops_at_the_cap_and_at_a_chunk(gateway):
    fake, poster = gateway
    fake.delays["slow"] = 0.3
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None, packer=EventPacker("p_1"))
    broadcaster.send(["slow"], _batch_frames(1, [10]))
    await asyncio.sleep(0.1)
    big = MAX_OUTBOUND_FRAME_BYTES // 3  # three of these do not fit one frame
    broadcaster.send(["slow"], _batch_frames(2, [big]))
    broadcaster.send(["slow"], _batch_frames(3, [big]))
    broadcaster.send(["slow"], _batch_frames(4, [big]))
    broadcaster.send(["slow"], _batch_frames(5, [MAX_OUTBOUND_FRAME_BYTES]))  # chunked: never joined
    broadcaster.send(["slow"], _batch_frames(6, [10]))
    broadcaster.send(["slow"], _batch_frames(7, [10]))
    await broadcaster.drained()
    got = _seqs(fake.posts["slow"])
    assert [s for s in got if not isinstance(s, tuple)] == [1, 2, 3, 4, 6, 7]
    assert [len(_seqs([body])) for body in fake.posts["slow"][:3]] == [1, 2, 1]  # 2+3 joined, 4 alone
    assert _seqs(fake.posts["slow"][-1:]) == [6, 7]


async def test_frames_without_events_are_never_joined(gateway):
    fake, poster = gateway
    fake.delays["slow"] = 0.2
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None, packer=EventPacker("p_1"))
    for n in range(4):
        broadcaster.send(["slow"], [frame_of(f'{{"n":{n}}}')])
    await broadcaster.drained()
    assert fake.posts["slow"] == [f'{{"n":{n}}}'.encode() for n in range(4)]


async def _until(fake: Gateway, cid: str, count: int, finished: dict, loop) -> None:
    while len(fake.posts[cid]) < count:
        await asyncio.sleep(0.01)
    finished[cid] = loop.time()


async def test_a_gone_subscriber_is_dropped_once_and_throttling_is_retried(gateway):
    fake, poster = gateway
    fake.answers["gone"] = [(410, "GoneException")]
    fake.answers["busy"] = [(429, "LimitExceededException"), (503, "ServiceUnavailable")]
    dropped: list[str] = []
    broadcaster = Broadcaster(poster, on_gone=dropped.append)
    broadcaster.send(["gone", "busy"], [frame_of("1")])
    broadcaster.send(["gone", "busy"], [frame_of("2")])
    await broadcaster.drained()
    broadcaster.send(["gone", "busy"], [frame_of("3")])
    await broadcaster.drained()
    assert dropped == ["gone"] and fake.posts["gone"] == []
    assert fake.posts["busy"] == [b"1", b"2", b"3"]


async def test_a_frame_refused_for_good_is_skipped_and_later_frames_still_go(gateway):
    fake, poster = gateway
    fake.answers["c1"] = [(400, "BadRequestException")]
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None)
    broadcaster.send(["c1"], [frame_of("1"), frame_of("2")])
    await broadcaster.drained()
    assert fake.posts["c1"] == [b"2"] and broadcaster.failed == 1


async def test_a_kept_alive_connection_the_server_closed_is_replaced_without_failing_the_post():
    from cloutagent_executor.http1 import HttpPool

    answered = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        answered += 1
        writer.close()  # keep-alive promised, then the connection is dropped (an idle timeout)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = HttpPool("127.0.0.1", port, tls=False, timeout_seconds=5)
    try:
        first = await pool.request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        await asyncio.sleep(0.05)  # the server's close reaches us
        second = await pool.request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    finally:
        await pool.close()
        server.close()
    assert (first.status, first.body, second.status, second.body, answered) == (200, b"ok", 200, b"ok", 2)


@pytest.mark.parametrize("pieces,body", [
    ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"], b"abcd"),
    ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab", b"cd\r\n3;x=y\r\nefg\r\n0\r", b"\n\r\n"],
     b"abcdefg"),
    ([b"HTTP/1.1 200 OK\r\nContent-Le", b"ngth: 7\r\n\r\nabcd", b"efg"], b"abcdefg"),
])
async def test_answers_split_anywhere_are_read_whole(pieces, body):
    from cloutagent_executor.http1 import HttpPool

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    pool = HttpPool("127.0.0.1", server.sockets[0].getsockname()[1], tls=False, timeout_seconds=5)
    try:
        response = await pool.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        await pool.close()
        server.close()
    assert (response.status, response.body) == (200, body)


async def test_a_server_that_never_answers_times_out_as_an_http_error():
    from cloutagent_executor.http1 import HttpError, HttpPool

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    pool = HttpPool("127.0.0.1", server.sockets[0].getsockname()[1], tls=False, timeout_seconds=0.2)
    try:
        with pytest.raises(HttpError, match="timed out"):
            await pool.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        await pool.close()
        server.close()


async def test_the_end_of_a_run_waits_for_slow_watchers_only_so_long(gateway):
    fake, poster = gateway
    # stuck for 4 s, 8× the wait allowed (and short: the fake gateway's shutdown waits it out)
    fake.delays["stuck"] = 4
    broadcaster = Broadcaster(poster, on_gone=lambda cid: None)
    broadcaster.send(["stuck", "ok"], [frame_of("1"), frame_of("2")])
    started = asyncio.get_running_loop().time()
    await broadcaster.drained(timeout_seconds=0.5)
    assert asyncio.get_running_loop().time() - started < 2
    assert fake.posts["ok"] == [b"1", b"2"] and broadcaster.skipped >= 1


def test_credentials_are_read_again_after_a_minute_so_a_refreshed_session_signs(monkeypatch):
    from cloutagent_executor import poster as poster_module

    sessions = iter([_credentials(None), _credentials("second-token")])
    current = {"session": next(sessions)}
    signer = poster_module.Signer("us-east-1", lambda: current["session"].get_credentials())
    token = lambda: dict(signer.headers("POST", "h", "/p", "0" * 64, now=NOW)).get("X-Amz-Security-Token")
    assert token() is None
    current["session"] = next(sessions)
    assert token() is None  # within the minute: the frozen credentials still sign
    monkeypatch.setattr(poster_module, "CREDENTIALS_REREAD_SECONDS", 0.0)
    assert token() == "second-token"
