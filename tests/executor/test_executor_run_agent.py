"""run_agent driving the real Claude Code CLI (through claude-agent-sdk) against the scripted model,
one directive at a time (docs/model-double.md)."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from cloutagent_executor.agent import AgentOutcome, AgentRequest, run_agent
from cloutagent_executor.limits import Limits
from cloutagent_executor.model_gateway import ModelGateway, UpstreamCredential, new_run_token
from cloutagent_executor.options import build_options

USAGE_KEYS = {"inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"}


async def test_plain_prompt_completes_with_one_tool_use(agent):
    # GIVEN a prompt with no directive
    # WHEN the agent runs it
    outcome = await agent.run("What is in this project?")
    # THEN it completes with a realistic conversation: init, text, tool use, tool result, text
    assert outcome.status == "completed" and outcome.error is None
    assert [m["kind"] for m in agent.messages] == ["system", "text", "tool_use", "tool_result", "text", "result"]
    tool_use, tool_result = agent.kinds("tool_use")[0], agent.kinds("tool_result")[0]
    assert tool_result["toolUseId"] == tool_use["toolUseId"] and tool_result["isError"] is False
    assert set(outcome.usage) == USAGE_KEYS and outcome.usage["outputTokens"] > 0
    assert outcome.cost_usd > 0 and outcome.num_turns == 2 and outcome.duration_ms > 0
    assert outcome.session_id == agent.messages[0]["sessionId"]
    json.dumps(agent.messages)  # every message is event-ready


async def test_stream_arrives_complete_and_in_order(agent):
    # GIVEN a prompt asking for 50 streamed messages
    # WHEN the agent runs it
    outcome = await agent.run("[fake:stream n=50 delay_ms=20]")
    # THEN all 50 arrive, in order
    assert outcome.status == "completed"
    assert agent.texts() == [f"Streaming message {i} of 50." for i in range(1, 51)]


async def test_error_result_fails_the_run(agent):
    # GIVEN a model whose replies leave the CLI nothing to do, so it ends the turn with an error
    outcome = await agent.run("[fake:error]")
    # THEN the run failed with the CLI's own short reason, not a stack trace
    assert outcome.status == "failed"
    assert outcome.error and "\n" not in outcome.error and "Traceback" not in outcome.error


async def test_cancel_interrupts_a_busy_agent_and_keeps_its_cost(agent):
    # GIVEN an agent whose model is busy for 30 s, mid-reply
    run = asyncio.create_task(agent.run("[fake:sleep seconds=30]"))
    await _wait_for(lambda: agent.texts())
    # WHEN the executor cancels it
    started = time.monotonic()
    agent.cancel.set()
    outcome = await run
    # THEN the run stops within a couple of seconds as cancelled, with the cost spent so far
    assert time.monotonic() - started < 3
    assert outcome.status == "cancelled" and outcome.cost_usd > 0
    assert "[Request interrupted by user]" in agent.texts()


async def test_timeout_interrupts_the_agent(agent):
    # GIVEN a run limited to 1 s and an agent that would take 30 s
    started = time.monotonic()
    outcome = await agent.run("[fake:sleep seconds=30]", timeout_seconds=1)
    # THEN it ends as timeout shortly after the deadline
    assert outcome.status == "timeout"
    assert 1 <= time.monotonic() - started < 4


async def test_cost_over_the_limit_is_budget_exceeded(agent):
    # GIVEN a 0.20 USD limit and an agent that would spend 0.50
    outcome = await agent.run("[fake:cost usd=0.50]", max_cost_usd=0.20)
    # THEN the run stops as budget_exceeded before spending it all
    assert outcome.status == "budget_exceeded"
    assert 0.20 < outcome.cost_usd < 0.50


async def test_own_cost_check_stops_a_cli_that_ignores_its_budget(agent):
    # GIVEN a CLI that does not enforce --max-budget-usd
    outcome = await agent.run("[fake:cost usd=0.50 cli_budget=off]", max_cost_usd=0.20)
    # THEN the executor's streaming check interrupts it
    assert outcome.status == "budget_exceeded" and outcome.error.startswith("maxCostUsd 0.20 exceeded")
    assert len([t for t in agent.texts() if t.startswith("Cost chunk")]) < 5


async def test_cost_without_a_limit_is_reported_exactly(agent):
    outcome = await agent.run("[fake:cost usd=0.50]")
    # The CLI prices the model's usage itself; the scripted model aims at 0.50 with real prices.
    assert outcome.status == "completed" and outcome.cost_usd == pytest.approx(0.50, rel=0.01)


async def test_tokens_over_max_tokens_is_budget_exceeded(agent):
    # GIVEN a 20k token cap and an agent streaming 50k output tokens
    outcome = await agent.run("[fake:tokens n=50000]", max_tokens=20_000)
    # THEN it is interrupted mid-stream, once the metered tokens crossed the cap
    assert outcome.status == "budget_exceeded" and "maxTokens 20000 exceeded" in outcome.error
    metered = int(re.search(r"\((\d+) tokens used\)", outcome.error).group(1))
    assert 20_000 < metered < 50_000 and outcome.usage["outputTokens"] < 50_000


async def test_output_tokens_are_metered_as_the_model_writes_them(agent):
    # GIVEN a model that, like the real API, reports one output token when a call starts and
    # the rest only when it ends (message_delta), in one call of 30k output tokens
    outcome = await agent.run("[fake:usage output=30000 start_output=1]", max_tokens=20_000)
    # THEN the budget check still sees the 30k and stops the run
    assert outcome.status == "budget_exceeded" and "maxTokens 20000 exceeded" in outcome.error


async def test_behind_a_gateway_output_tokens_are_metered_without_partial_messages(
        agent, scripted_model, tmp_path, monkeypatch):
    # GIVEN a run whose calls pass through its model gateway, so its CLI streams no partial
    # messages, and one call of 30k output tokens reported only when it ends (as the real API)
    gateway = await ModelGateway(None, new_run_token(), scripted_model.base_url, UpstreamCredential(api_key="k"),
                                 Limits(max_tokens=20_000)).start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", gateway.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", gateway.token)
    try:
        request = agent.request("[fake:usage output=30000 start_output=1]", max_tokens=20_000)
        outcome = await run_agent(request, agent._collect, asyncio.Event(), gateway_meter=gateway.meter)
    finally:
        await gateway.close()
    # THEN the executor still sees the 30k (the gateway's meter) and stops the run
    assert outcome.status == "budget_exceeded" and "maxTokens 20000 exceeded" in outcome.error


def test_the_cli_streams_partial_messages_only_when_no_gateway_meters_the_run(tmp_path):
    def partial(**metered) -> bool:
        return build_options(AgentRequest(prompt="", cwd=str(tmp_path)), print, **metered).include_partial_messages

    assert partial() and not partial(gateway_metered=True)


async def test_big_text_arrives_whole(agent):
    outcome = await agent.run("[fake:big bytes=200000]")
    assert outcome.status == "completed"
    assert [len(text) for text in agent.texts()] == [200_000]


async def test_crash_without_result_fails(agent):
    # GIVEN an agent whose own tool call kills its CLI mid-run (kill -9 of the Bash tool's parent)
    outcome = await agent.run("[fake:crash]", permission_mode="bypassPermissions")
    # THEN the run failed, with a short error and no stack trace
    assert outcome.status == "failed"
    assert outcome.error == "Claude Code exited with code -9 before finishing"


async def test_env_reports_presence_never_values(agent, monkeypatch):
    # GIVEN a project secret, and a variable nobody set
    monkeypatch.delenv("CLOUTAGENT_TEST_UNSET", raising=False)
    secret = "sup3r-s3cret-value"
    # WHEN the agent is asked about both
    outcome = await agent.run(
        "[fake:env name=CLOUTAGENT_TEST_SECRET] [fake:env name=CLOUTAGENT_TEST_UNSET]",
        env={"CLOUTAGENT_TEST_SECRET": secret}, permission_mode="bypassPermissions",
    )
    # THEN it reports which is set, and the value is nowhere in what it emitted
    assert outcome.status == "completed"
    assert agent.texts() == ["Environment variable CLOUTAGENT_TEST_SECRET is set.",
                             "Environment variable CLOUTAGENT_TEST_UNSET is not set."]
    assert secret not in json.dumps(agent.messages) and secret not in repr(outcome)


async def test_task_role_credentials_are_hidden_from_the_agent(agent, monkeypatch):
    # GIVEN an executor running with ECS task-role credentials
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")
    # WHEN the agent looks
    await agent.run("[fake:env name=AWS_CONTAINER_CREDENTIALS_RELATIVE_URI]", permission_mode="bypassPermissions")
    # THEN it finds nothing to use
    assert agent.texts() == ["Environment variable AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set but empty."]


async def test_resume_reuses_the_session_id(agent):
    # GIVEN a finished session
    first = await agent.run("Start")
    # WHEN a second run resumes it
    second = await agent.run("Continue", resume_session_id=first.session_id)
    # THEN it is the same session
    assert second.status == "completed" and second.session_id == first.session_id
    assert agent.messages[0]["sessionId"] == first.session_id


async def test_max_turns_is_passed_to_the_cli(agent):
    outcome = await agent.run("Look around", max_turns=1)
    assert outcome.status == "failed" and outcome.error == "Reached maximum number of turns (1)"


async def test_a_missing_cli_fails_without_raising(agent):
    agent.cli_path = str(agent.cwd / "no-such-claude")
    outcome = await agent.run("hello")
    assert isinstance(outcome, AgentOutcome)
    assert outcome.status == "failed" and outcome.error == "Claude Code CLI not found"


async def test_a_failing_message_sink_fails_the_run(agent):
    # GIVEN an on_message callback that breaks
    from cloutagent_executor.agent import run_agent

    async def broken(_: dict) -> None:
        raise ConnectionError("event bus down")

    # WHEN the agent runs
    outcome = await run_agent(agent.request("hello"), broken, asyncio.Event())
    # THEN the run fails with a short internal error, and no exception escapes
    assert outcome.status == "failed" and outcome.error == "internal error (ConnectionError)"


async def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_secret_quoted_in_an_error_message_is_masked(agent):
    # GIVEN an agent that prints a project secret, and an API error that quotes what it printed
    secret = "sup3r-s3cret-in-an-error"
    prompt = ('[fake:bash command="echo $LEAKY"] '
              '[fake:error subtype=api_error message="cannot process: {last_result}"]')
    outcome = await agent.run(prompt, env={"LEAKY": secret}, permission_mode="bypassPermissions")
    # THEN the run failed, its error still says why, and the value is masked there too
    assert outcome.status == "failed" and "cannot process" in outcome.error
    assert secret not in outcome.error and "[redacted]" in outcome.error
