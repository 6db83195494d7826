"""The scripted model over HTTP, without the CLI: wire format, request log, concurrency, aborts."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import aiohttp

from cloutagent_dev.model import ScriptedModel

HEADERS = {"x-api-key": "sk-ant-api03-secret-value", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def request_body(text: str, stream: bool = True) -> dict:
    return {"model": "claude-sonnet-4-5", "max_tokens": 1000, "stream": stream,
            "system": [{"type": "text", "text": "SYSTEM PROMPT"}], "tools": [{"name": "Bash"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def sse_events(raw: str) -> list[tuple[str, dict]]:
    events = []
    for chunk in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_streaming_reply_is_the_messages_api_event_sequence(scripted_model):
    # GIVEN the default reply (text + Bash tool call), asked for as a stream with ?beta=true
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{scripted_model.base_url}/v1/messages?beta=true", json=request_body("hello"),
                             headers=HEADERS) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            events = sse_events(await response.text())
    # THEN it has the API's shape, with usage and the tool input as JSON deltas
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["model"] == "claude-sonnet-4-5" and start["id"].startswith("msg_")
    assert set(start["usage"]) >= {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert deltas[0] == {"type": "text_delta", "text": "I'll take a look at the project first."}
    assert json.loads(deltas[1]["partial_json"])["command"] == "ls"
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_non_streaming_reply_and_count_tokens(scripted_model):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{scripted_model.base_url}/v1/messages", json=request_body("[fake:big bytes=7]", stream=False),
                             headers=HEADERS) as response:
            message = await response.json()
        async with http.post(f"{scripted_model.base_url}/v1/messages/count_tokens", json=request_body("hi"),
                             headers=HEADERS) as response:
            counted = await response.json()
    assert message["content"] == [{"type": "text", "text": "The qui"}] and message["stop_reason"] == "end_turn"
    assert counted["input_tokens"] > 0


async def test_request_log_masks_credentials_and_records_unknown_routes(scripted_model):
    async with aiohttp.ClientSession() as http:
        await (await http.post(f"{scripted_model.base_url}/v1/messages", json=request_body("[fake:big bytes=1]", False),
                               headers={**HEADERS, "authorization": "Bearer also-secret"})).read()
        missing = await http.get(f"{scripted_model.base_url}/api/oauth/profile", headers=HEADERS)
        assert missing.status == 404 and (await missing.json())["error"]["type"] == "not_found_error"
        logged = await (await http.get(f"{scripted_model.base_url}/local/model/requests")).json()
        await http.delete(f"{scripted_model.base_url}/local/model/requests")
        after = await (await http.get(f"{scripted_model.base_url}/local/model/requests")).json()
    # THEN the log has the request's parts, never a credential
    first, unknown = logged
    assert first["system"] == "SYSTEM PROMPT" and first["tools"] == ["Bash"] and first["model"] == "claude-sonnet-4-5"
    assert first["headers"]["x-api-key"] == "[masked]" and first["headers"]["authorization"] == "[masked]"
    assert first["outcome"] == "completed"
    assert (unknown["method"], unknown["path"]) == ("GET", "/api/oauth/profile")
    assert "secret" not in json.dumps(logged)
    assert after == []


async def test_api_error_directive_answers_with_the_http_error(scripted_model):
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{scripted_model.base_url}/v1/messages",
                                   json=request_body("[fake:error subtype=api_error status=400]"), headers=HEADERS)
        assert response.status == 400
        assert (await response.json())["error"]["type"] == "invalid_request_error"


async def test_stalls_do_not_block_other_requests_and_aborts_are_seen(scripted_model):
    # GIVEN eight concurrent one-second stalls and one stall that the client abandons
    async def stalled(http):
        async with http.post(f"{scripted_model.base_url}/v1/messages", json=request_body("[fake:sleep seconds=1]"),
                             headers=HEADERS) as response:
            return await response.text()

    async with aiohttp.ClientSession() as http:
        abandoned = asyncio.ensure_future(stalled(http))
        await asyncio.sleep(0.3)
        abandoned.cancel()
        began = time.monotonic()
        bodies = await asyncio.gather(*(stalled(http) for _ in range(8)))
        took = time.monotonic() - began
    # THEN they ran side by side, and the abandoned one is logged as such
    assert took < 3, took
    assert all("Woke up after 1 seconds." in body for body in bodies)
    await asyncio.sleep(0.2)
    outcomes = [r.get("outcome") for r in scripted_model.requests]
    assert outcomes.count("client_disconnected") == 1 and outcomes.count("completed") == 8


def test_the_module_serves_standalone_on_loopback():
    # GIVEN `python -m cloutagent_dev.model --port 0`
    process = subprocess.Popen([sys.executable, "-m", "cloutagent_dev.model", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("scripted model listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        with ScriptedModel() as other:  # and a second instance picks its own port
            assert other.base_url != base_url
        import urllib.request
        with urllib.request.urlopen(f"{base_url}/local/model/requests", timeout=5) as response:
            assert json.loads(response.read()) == []
    finally:
        process.terminate()
        process.wait(timeout=10)
