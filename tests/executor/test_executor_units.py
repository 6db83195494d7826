"""The small pure parts of the executor: pricing, usage, limits, normalizing, redaction, keys."""

from __future__ import annotations

import json

import pytest
from claude_agent_sdk import AssistantMessage, SystemMessage, TextBlock, ThinkingBlock, ToolUseBlock, UserMessage
from hypothesis import given
from hypothesis import strategies as st

from cloutagent_executor.limits import Limits
from cloutagent_executor.normalize import normalize
from cloutagent_executor.pricing import DEFAULT_PRICE, cost_usd, price_for
from cloutagent_executor.redact import Redactor
from cloutagent_executor.session_keys import KeyLayout, decode_subpath, encode_subpath, part_name
from cloutagent_executor.usage import UsageMeter


@pytest.mark.parametrize(("model", "output_per_million"), [
    ("claude-opus-4-1-20250805", 75.0), ("claude-opus-4-20250514", 75.0), ("claude-opus-4-5-20251101", 25.0),
    ("opus", 25.0), ("claude-sonnet-4-5-20250929", 15.0), ("sonnet[1m]", 15.0),
    ("claude-haiku-4-5", 5.0), ("claude-3-5-haiku-20241022", 4.0),
])
def test_models_are_priced_by_prefix_then_family(model, output_per_million):
    assert price_for(model).output == output_per_million


def test_unknown_models_get_the_default_price():
    assert price_for("some-future-model") == DEFAULT_PRICE and price_for(None) == DEFAULT_PRICE


def test_cost_adds_up_every_kind_of_token():
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000,
             "cache_creation_input_tokens": 1_000_000, "cache_read_input_tokens": 1_000_000}
    assert cost_usd("claude-sonnet-4-5", usage) == pytest.approx(3 + 15 + 3.75 + 0.30)


def _assistant(message_id: str, output_tokens: int, *blocks) -> AssistantMessage:
    usage = {"input_tokens": 10, "output_tokens": output_tokens, "cache_creation_input_tokens": 5,
             "cache_read_input_tokens": 100}
    return AssistantMessage(content=list(blocks) or [TextBlock("hi")], model="claude-sonnet-4-5",
                            usage=usage, message_id=message_id)


def test_meter_counts_one_api_call_once_however_many_blocks_it_has():
    # GIVEN two frames of one API call (the second with the final output count) and another call
    meter = UsageMeter()
    for message in (_assistant("msg_1", 1), _assistant("msg_1", 50), _assistant("msg_2", 20)):
        meter.observe(message)
    # THEN usage counts each call once, with its latest numbers
    assert meter.api_calls == 2
    assert meter.usage() == {"inputTokens": 20, "outputTokens": 70, "cacheReadTokens": 200, "cacheWriteTokens": 10}
    assert meter.tokens() == 20 + 70 + 10


def test_limits_trip_only_once_crossed():
    meter = UsageMeter()
    meter.observe(_assistant("msg_1", 1000))
    assert Limits(max_tokens=1015).exceeded(meter) is None
    assert Limits(max_tokens=1014).exceeded(meter).startswith("maxTokens 1014 exceeded")
    assert Limits(max_cost_usd=1.0).exceeded(meter) is None
    assert Limits(max_cost_usd=0.001).exceeded(meter).startswith("maxCostUsd")


def test_normalize_gives_one_json_dict_per_block():
    # GIVEN a subagent's assistant message with thinking, text and a tool call
    message = AssistantMessage(
        content=[ThinkingBlock("hmm", "sig"), TextBlock("hello"), ToolUseBlock("toolu_1", "Read", {"file_path": "a"})],
        model="m", parent_tool_use_id="toolu_parent",
    )
    # THEN each block is its own event, marked with the subagent's tool call, without the signature
    events = normalize(message)
    assert events == [
        {"kind": "thinking", "role": "assistant", "thinking": "hmm", "parentToolUseId": "toolu_parent"},
        {"kind": "text", "role": "assistant", "text": "hello", "parentToolUseId": "toolu_parent"},
        {"kind": "tool_use", "role": "assistant", "toolUseId": "toolu_1", "name": "Read",
         "input": {"file_path": "a"}, "parentToolUseId": "toolu_parent"},
    ]
    json.dumps(events)


def test_normalize_system_and_user_messages():
    init = SystemMessage("init", {"type": "system", "subtype": "init", "session_id": "s", "model": "m",
                                  "cwd": "/w", "tools": [], "permissionMode": "default",
                                  "claude_code_version": "2.1.0", "slash_commands": ["x"]})
    assert normalize(init) == [{"kind": "system", "subtype": "init", "sessionId": "s", "model": "m", "cwd": "/w",
                                "tools": [], "permissionMode": "default", "claudeCodeVersion": "2.1.0"}]
    other = SystemMessage("compact_boundary", {"type": "system", "subtype": "compact_boundary", "uuid": "u", "n": 1})
    assert normalize(other) == [{"kind": "system", "subtype": "compact_boundary", "data": {"n": 1}}]
    assert normalize(UserMessage("plain")) == [{"kind": "text", "role": "user", "text": "plain"}]


def test_redactor_masks_secrets_anywhere_but_ignores_short_values():
    redactor = Redactor(["tok-123456", "abc", "tok-123456-long"])
    scrubbed = redactor.scrub({"text": "key=tok-123456-long and tok-123456", "list": ["abc", {"k": "tok-123456"}]})
    assert scrubbed == {"text": "key=[redacted] and [redacted]", "list": ["abc", {"k": "[redacted]"}]}


@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=4).map("/".join))
def test_subpaths_survive_encoding(subpath):
    encoded = encode_subpath(subpath)
    assert decode_subpath(encoded) == subpath
    assert encoded.count("/") == subpath.count("/")  # a segment never splits or merges


def test_main_parts_are_told_apart_from_subagent_parts():
    layout = KeyLayout("p/")
    main = layout.parts("proj", "s1", None) + part_name(1_700_000_000_123)
    sub = layout.parts("proj", "s1", "subagents/agent-1") + part_name(1_700_000_000_124)
    assert layout.main_part_owner("proj", main) == ("s1", 1_700_000_000_123)
    assert layout.main_part_owner("proj", sub) is None
    assert layout.subpath_of("proj", "s1", sub) == "subagents/agent-1"
