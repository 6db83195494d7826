"""The local API Gateway behaves as the handlers expect API Gateway to: @connections over real
HTTP (POST, GET, DELETE, 410 when gone), idle and lifetime caps, and `cloutagent invoke`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.support.stack import RunningStack
from tests.support.ws import WsClient

pytestmark = pytest.mark.e2e


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def test_the_connections_api_posts_describes_and_closes_and_answers_410_when_gone(connect, ready):
    client = await connect()
    connection_id = (await client.ok("whoami"))["connectionId"]
    url = f"{ready['httpUrl']}/@connections/{connection_id}"

    status, _ = await asyncio.to_thread(http, "POST", url, b'{"type":"event","hello":1}')
    assert status == 200
    for _ in range(100):
        if {"type": "event", "hello": 1} in client.frames:
            break
        await asyncio.sleep(0.05)
    assert {"type": "event", "hello": 1} in client.frames

    status, body = await asyncio.to_thread(http, "GET", url)
    info = json.loads(body)
    assert status == 200 and info["ConnectedAt"].endswith("Z") and "SourceIp" in info["Identity"]

    status, _ = await asyncio.to_thread(http, "DELETE", url)
    assert status == 204
    await asyncio.wait_for(client._reader, 5)
    for method in ("POST", "GET", "DELETE"):
        status, body = await asyncio.to_thread(http, method, url, b"x" if method == "POST" else None)
        assert status == 410 and json.loads(body)["__type"] == "GoneException"


@pytest.fixture(scope="module")
def short_lived_stack(tmp_path_factory):
    stack = RunningStack(tmp_path_factory.mktemp("short"), ["--idle-timeout", "1.5", "--max-lifetime", "4", "--quiet"])
    stack.start()
    yield stack
    stack.stop()


async def test_idle_connections_are_closed_after_the_idle_cap(short_lived_stack):
    info = short_lived_stack.info
    client = await WsClient.connect(f"{info['wsUrl']}/?apiKey={info['apiKey']}")
    await asyncio.wait_for(client._reader, 6)
    assert client.ws.close_code == 1001


async def test_busy_connections_are_still_closed_at_the_lifetime_cap(short_lived_stack):
    info = short_lived_stack.info
    client = await WsClient.connect(f"{info['wsUrl']}/?apiKey={info['apiKey']}")
    pings = 0
    while not client._reader.done() and pings < 20:
        try:
            await client.ok("ping", timeout=2)
        except (ConnectionError, asyncio.TimeoutError):
            break
        pings += 1
        await asyncio.sleep(0.5)
    await asyncio.wait_for(client._reader, 3)
    assert client.ws.close_code == 1001 and 5 <= pings < 20  # kept alive past the idle cap, then cut


def test_cloutagent_invoke_replays_a_sample_event_against_the_running_stack(stack):
    out = subprocess.run([sys.executable, "-m", "cloutagent_client", "invoke", "session", "--event", "events/whoami.json",
                          "--ready-file", str(stack.ready_file)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    reply = json.loads(json.loads(out.stdout)["body"])
    assert reply["data"]["tenantId"] == stack.info["tenantId"]

    missing = subprocess.run([sys.executable, "-m", "cloutagent_client", "invoke", "session", "--event", "events/ping.json",
                              "--ready-file", "/nonexistent/ready.json"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "make dev" in missing.stderr


def test_a_stopped_stack_leaves_no_ready_file_behind(tmp_path):
    stack = RunningStack(tmp_path, ["--quiet"])
    stack.start()
    assert stack.ready_file.exists()
    stack.stop()  # SIGTERM, as Ctrl-C or `make dev`'s end would
    assert stack.process.returncode is not None and not stack.ready_file.exists(), stack.log_text()[-2000:]
