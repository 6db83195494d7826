"""Timing through the real CLI: blocks relayed as written, stalls, interrupts, usage per call."""

from __future__ import annotations

import asyncio
import re
import time

from claude_agent_sdk import AssistantMessage, ClaudeSDKClient, ResultMessage

from cloutagent_dev.model.reply import usage as make_usage


async def test_stream_blocks_reach_the_sdk_as_each_is_written(options, cli):
    # GIVEN four blocks of one API call written 400 ms apart, each stamped with its write time
    run = await cli("[fake:stream n=4 delay_ms=400 stamp=1]", options(permission_mode="default"))
    arrivals = run.text_arrivals()
    assert [re.sub(r" written_at=.*", "", text) for _, text in arrivals] == [
        f"Streaming message {i} of 4." for i in range(1, 5)]
    # THEN each arrives soon after it was written, long before the next one is written
    written = [float(text.rsplit("written_at=", 1)[1]) for _, text in arrivals]
    for (arrived, _), wrote, next_wrote in zip(arrivals, written, written[1:] + [float("inf")]):
        assert wrote <= arrived < next_wrote, (arrived, wrote, next_wrote)
        assert arrived - wrote < 0.3
    assert run.result.num_turns == 1


async def test_sleep_is_a_stall_that_an_interrupt_ends_at_once(options, scripted_model):
    # GIVEN a model stalled for 30 s mid-response, in the default permission mode
    async with ClaudeSDKClient(options(permission_mode="default")) as client:
        await client.query("[fake:sleep seconds=30]")
        results = []
        async for message in client.receive_response():
            if isinstance(message, AssistantMessage):
                # WHEN the first text is in, the caller interrupts
                asked = time.monotonic()
                await client.interrupt()
            if isinstance(message, ResultMessage):
                results.append((time.monotonic() - asked, message))
        # THEN the turn ends within a moment, aborted
        (took, result), = results
        assert took < 2 and result.subtype == "error_during_execution" and result.is_error
        # AND the next prompt in the same session is answered normally
        await client.query("[fake:stream n=1]")
        replies = [m async for m in client.receive_response()]
        assert replies[-1].result == "Streaming message 1 of 1."
    # AND the CLI really dropped the stalled HTTP request
    outcomes = [r.get("outcome") for r in scripted_model.message_requests()]
    assert outcomes == ["client_disconnected", "completed"]


async def test_sleep_completes_when_left_alone(options, cli):
    run = await cli("[fake:sleep seconds=1]", options(permission_mode="plan"))
    assert run.texts() == ["Sleeping for 1 seconds.", "Woke up after 1 seconds."]
    (first, _), (second, _) = run.text_arrivals()
    assert second - first >= 0.9


async def test_tokens_are_spread_over_api_calls_with_usage_on_every_message(options, cli):
    run = await cli("[fake:tokens n=3000 messages=3 delay_ms=10]", options())
    calls = {}
    for message in run.messages:
        if isinstance(message, AssistantMessage):
            calls[message.message_id] = message.usage["output_tokens"]
    # THEN three API calls of 1000 output tokens each, as the executor's meter counts them
    assert list(calls.values()) == [1000, 1000, 1000]
    assert [t for t in run.texts()] == ["Token chunk 1 of 3.", "Token chunk 2 of 3.", "Token chunk 3 of 3."]
    assert run.result.usage["output_tokens"] == 3000


async def test_cost_with_the_cli_budget_on_is_stopped_by_the_cli(options, cli):
    # GIVEN $0.50 over five calls and a CLI budget of $0.15
    run = await cli("[fake:cost usd=0.50 messages=5 delay_ms=10]", options(max_budget_usd=0.15))
    # THEN the CLI stops between calls once the budget is spent
    assert run.result.subtype == "error_max_budget_usd"
    assert 0.15 <= run.result.total_cost_usd < 0.5
    assert len(run.texts()) < 5


async def test_cost_with_the_cli_budget_off_is_spent_in_one_call(options, cli):
    # GIVEN the same budget, but all the cost in one call the CLI cannot stop midway
    run = await cli("[fake:cost usd=0.50 messages=5 delay_ms=10 cli_budget=off]", options(max_budget_usd=0.15))
    assert run.texts() == [f"Cost chunk {i} of 5." for i in range(1, 6)]
    assert abs(run.result.total_cost_usd - 0.5) < 0.005
    # (the CLI still notices afterwards and reports the overrun)
    assert run.result.num_turns == 1 and run.result.subtype == "error_max_budget_usd"


async def test_big_text_arrives_whole(options, cli):
    run = await cli("[fake:big bytes=200000]", options())
    (text,) = run.texts()
    assert len(text) == 200000 and text.isascii()


async def test_several_clis_at_once_each_follow_their_own_script(options, cli):
    prompts = [f"[fake:stream n={n} delay_ms=100]" for n in (1, 2, 3)]
    runs = await asyncio.gather(*(cli(p, options()) for p in prompts))
    assert [len(r.texts()) for r in runs] == [1, 2, 3]


def test_usage_helper_has_every_api_field():
    assert set(make_usage(1)) == {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                  "cache_read_input_tokens", "service_tier"}


async def test_streamed_messages_carry_message_start_usage_only(options, cli):
    # GIVEN a call that, like the real API, reports 1 output token on message_start, 500 at the end
    run = await cli("[fake:usage input=10 output=500 start_output=1]", options())
    (message,) = [m for m in run.messages if isinstance(m, AssistantMessage)]
    # THEN the CLI's streamed message keeps message_start's count; only the result has the total
    assert message.usage["output_tokens"] == 1
    assert run.result.usage["output_tokens"] == 500
