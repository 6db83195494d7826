"""The local stack's Lambda invoker: a handler still running past API Gateway's integration
timeout is logged with where it is stuck, and its answer still comes back."""

from __future__ import annotations

import time

import cloutagent_dev.lambdas as lambdas


def stuck_in_a_named_place(event, context):
    time.sleep(0.3)
    return {"statusCode": 200, "body": event["body"]}


async def test_an_invocation_past_the_integration_timeout_is_logged_with_its_stack(monkeypatch, caplog):
    monkeypatch.setattr(lambdas, "SLOW_INVOCATION_SECONDS", 0.05)
    invoker = lambdas.Invoker(max_workers=2)
    invoker._handlers["slow"] = stuck_in_a_named_place

    result = await invoker.invoke("slow", {"body": "late"})

    assert result == {"statusCode": 200, "body": "late"}
    logged = [r for r in caplog.records if r.getMessage() == "invocation still running"]
    assert len(logged) == 1 and logged[0].function == "slow"
    assert "stuck_in_a_named_place" in logged[0].stack and logged[0].stack.count("time.sleep") == 1


async def test_a_quick_invocation_logs_nothing(monkeypatch, caplog):
    monkeypatch.setattr(lambdas, "SLOW_INVOCATION_SECONDS", 5.0)
    invoker = lambdas.Invoker(max_workers=2)
    invoker._handlers["quick"] = lambda event, context: "ok"
    assert await invoker.invoke("quick", {}) == "ok"
    assert not [r for r in caplog.records if r.getMessage() == "invocation still running"]
