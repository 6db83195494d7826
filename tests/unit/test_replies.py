"""Reply payloads are the wire: these pin their exact JSON (keys, values, order), so a drift fails here."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from cloutagent.definitions import plans
from cloutagent.domain.billing import PlanCatalog, PlanView, Usage, UsageReport, standing
from cloutagent.domain.executions import Execution, ExecutionPage
from cloutagent.domain.models import ApiKey, Event, EventPage, JoinedRoom, NewApiKey, Project, Tenant
from cloutagent.protocol import replies

PROJECT = Project(tenant_id="t_a", project_id="p_1", name="demo", path="demo", created_at="t0", updated_at="t1",
                  last_seq=7)
EVENT = Event(project_id="p_1", seq=7, event="member.joined", ts="t1", data={"userId": "u_1"})


def wire(reply: dict) -> str:
    return json.dumps(reply)


def test_join_is_the_project_without_its_tenant_and_the_last_seq():
    reply = replies.joined(JoinedRoom(PROJECT, 7))
    assert wire(reply) == wire({"project": PROJECT.to_wire(), "lastSeq": 7})
    assert list(reply["project"])[:4] == ["projectId", "name", "description", "path"]
    assert "tenantId" not in reply["project"]


def test_a_messages_page_carries_events_as_their_broadcast_frames():
    reply = replies.messages(EventPage("p_1", [EVENT], "c_next", 9))
    assert wire(reply) == wire({
        "projectId": "p_1",
        "events": [{"type": "event", "event": "member.joined", "projectId": "p_1", "seq": 7, "ts": "t1",
                    "data": {"userId": "u_1"}}],
        "nextCursor": "c_next",
        "lastSeq": 9,
    })


def test_an_execution_list_shows_summaries_with_a_prompt_preview():
    execution = Execution(tenant_id="t_a", project_id="p_1", execution_id="x_1", prompt="p" * 300, created_by="u_1",
                          created_at="t0")
    reply = replies.executions(ExecutionPage([execution], None))
    [summary] = reply["executions"]
    assert list(reply) == ["executions", "nextCursor"] and reply["nextCursor"] is None
    assert list(summary) == [
        "projectId", "executionId", "status", "model", "maxTokens", "maxCostUsd", "timeoutSeconds", "createdBy",
        "createdAt", "startedAt", "finishedAt", "usage", "costUsd", "durationMs", "numTurns", "sessionId", "error",
        "errorCode", "branch", "pullRequest", "git", "promptPreview",
    ]
    assert summary["promptPreview"] == "p" * 200 and summary["status"] == "starting"


def test_execute_and_kill_reply_with_the_id_and_status_only():
    execution = Execution(tenant_id="t_a", project_id="p_1", execution_id="x_1", prompt="go", created_by="u_1",
                          created_at="t0")
    assert wire(replies.execution_started(execution)) == wire({"execution": {"executionId": "x_1", "status": "starting"}})
    killed = execution.model_copy(update={"status": "cancelling"})
    assert wire(replies.execution_killed(killed)) == wire({"executionId": "x_1", "status": "cancelling"})


def test_a_created_api_key_shows_its_record_and_the_key_once():
    key = ApiKey(tenant_id="t_a", key_id="k_1", name="ci", role="member", prefix="cla_abcdef", created_at="t0",
                 created_by="u_1")
    assert wire(replies.api_key_created(NewApiKey(key, "cla_secret"))) == wire({
        "apiKey": {"keyId": "k_1", "name": "ci", "role": "member", "prefix": "cla_abcdef", "createdAt": "t0",
                   "createdBy": "u_1", "revokedAt": None, "projectIds": None, "expiresAt": None, "lastUsedAt": None},
        "key": "cla_secret",
    })


def test_plan_and_usage_keep_their_fields_and_rounding():
    catalog = PlanCatalog(plans())
    tenant = Tenant(tenant_id="t_a", name="acme", created_at="t0", period_end="t9")
    reply = replies.plan(PlanView(standing(tenant, catalog, billing_enabled=False, now=datetime.now(timezone.utc)), tenant))
    assert list(reply) == ["plan", "effectivePlan", "status", "entitlements", "periodEnd", "trialEnd",
                           "cancelAtPeriodEnd", "paymentRequired", "graceEndsAt", "billing", "invoice"]
    assert (reply["plan"], reply["periodEnd"], reply["billing"]) == ("free", "t9", "not_configured")
    used = Usage("2026-11", spend_usd=0.1234567, executions=2, tokens=30)
    assert wire(replies.usage(UsageReport(used, 0.1))) == wire({
        "month": "2026-11", "spendUsd": 0.123457, "executions": 2, "tokens": 30, "capUsd": 0.1, "remainingUsd": 0.0,
    })
