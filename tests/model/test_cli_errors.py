"""Turns that end in an error result, through mechanisms the real CLI has."""

from __future__ import annotations

from claude_agent_sdk import ResultMessage


async def test_error_directive_ends_the_turn_with_error_during_execution(options, cli, scripted_model):
    # GIVEN a model that twice answers with nothing, stopped on a stop sequence
    run = await cli("[fake:error subtype=error_during_execution]", options(permission_mode="default"))
    # THEN the CLI (after one nudge) gives up with an error result, and the SDK raises after it
    assert run.result.subtype == "error_during_execution" and run.result.is_error
    assert run.result.errors[0].startswith("[ede_diagnostic]")
    assert run.error is not None and "error result" in str(run.error)
    assert len(scripted_model.message_requests()) == 2


async def test_error_max_turns_comes_from_tool_calls_past_the_limit(options, cli):
    run = await cli("[fake:error subtype=error_max_turns]", options(max_turns=2))
    assert run.result.subtype == "error_max_turns" and run.result.is_error
    assert run.texts() == ["Working, step 1.", "Working, step 2."]


async def test_error_max_budget_usd_comes_from_costly_calls_past_the_budget(options, cli):
    run = await cli("[fake:error subtype=error_max_budget_usd usd=0.1]", options(max_budget_usd=0.25))
    assert run.result.subtype == "error_max_budget_usd" and run.result.is_error
    assert 0.25 <= run.result.total_cost_usd < 0.35


async def test_api_error_ends_the_turn_with_an_error_flagged_success(options, cli):
    # GIVEN an HTTP 400 the CLI does not retry for good
    run = await cli("[fake:error subtype=api_error status=400]", options())
    result = run.result
    assert isinstance(result, ResultMessage)
    assert result.is_error and result.subtype == "success" and result.result == "API Error: 400 Scripted API error"
