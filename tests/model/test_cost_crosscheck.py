"""The executor's price table agrees with what the real CLI charges, model by model.

One CLI session per group of models switches model between turns (``set_model``); each turn
makes three API calls with known usage (every token kind, 1-hour cache writes, the US-inference
surcharge, a long prompt, and a ``[fake:cost]`` amount). The executor's ``cost_usd`` of every
streamed call, summed per turn, must match the growth of the CLI's ``total_cost_usd``.
"""

from __future__ import annotations

import asyncio

import pytest
from claude_agent_sdk import AssistantMessage, ClaudeSDKClient, ResultMessage

from cloutagent_executor import pricing
from cloutagent_executor.pricing import cost_usd

PROMPT = ("[fake:usage input=1000 output=1000 cache_write=1000 cache_read=1000 cache_write_1h=400 geo=us] "
          "[fake:cost usd=0.25 messages=1] "
          "[fake:usage input=120000 output=100 cache_read=5000]")

# Every catalog id and family alias in the table, and a name the CLI does not know.
MODELS = sorted(pricing._BY_MODEL) + sorted(pricing._BY_FAMILY) + ["claude-unlisted-model"]


async def _price_turns(options, models: list[str]) -> list[tuple[str, str, float, float]]:
    """(asked model, model the CLI used, executor's cost, CLI's cost) for each model's turn."""
    rows, spent_before = [], 0.0
    async with ClaudeSDKClient(options(permission_mode="default")) as client:
        for model in models:
            await client.set_model(model)
            await client.query(PROMPT)
            calls: dict[str, tuple[str, dict]] = {}
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage) and message.usage:
                    calls[message.message_id] = (message.model, message.usage)
                if isinstance(message, ResultMessage):
                    spent_now = message.total_cost_usd
            used = {m for m, _ in calls.values()}
            executor = sum(cost_usd(m, u) for m, u in calls.values())
            rows.append((model, ",".join(sorted(used)), executor, spent_now - spent_before))
            spent_before = spent_now
    return rows


@pytest.mark.timeout(120)
async def test_executor_prices_agree_with_the_cli_for_every_model_in_the_table(options, scripted_model):
    # GIVEN every model of the table, in three concurrent CLI sessions
    groups = [MODELS[i::3] for i in range(3)]
    # WHEN each turn's calls are priced by the executor and by the CLI
    rows = [row for group in await asyncio.gather(*(_price_turns(options, g) for g in groups)) for row in group]
    # THEN they agree within 1% for every model
    disagreements = [(asked, used, round(ours, 6), round(theirs, 6)) for asked, used, ours, theirs in rows
                     if abs(ours - theirs) > 0.01 * theirs]
    assert not disagreements, disagreements
    assert len(rows) == len(MODELS)


async def test_side_calls_are_answered_cheaply_and_not_charged(options, scripted_model):
    # GIVEN a model switch, after which the CLI probes the new model with a 1-token "Hi"
    async with ClaudeSDKClient(options(permission_mode="default")) as client:
        await client.set_model("claude-sonnet-4-5")
        await client.query("[fake:usage input=10 output=10]")
        results = [m async for m in client.receive_response() if isinstance(m, ResultMessage)]
    probes = [r for r in scripted_model.message_requests() if r["max_tokens"] == 1]
    # THEN the probe got the one-word answer, and the turn costs only its own call
    assert probes and all(r["tools"] == [] and r["outcome"] == "completed" for r in probes)
    assert results[0].total_cost_usd == pytest.approx(cost_usd("claude-sonnet-4-5", {"input_tokens": 10, "output_tokens": 10}))
