"""The REST API v1 through the local stack, as a CI job uses it with curl: every answer is checked
against the OpenAPI document the stack serves (tests/support/rest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from openapi_spec_validator import validate as validate_openapi

from tests.support.rest import RestClient

pytestmark = pytest.mark.e2e

PROJECT = "/v1/projects/{projectId}"
EXECUTIONS = PROJECT + "/executions"
EXECUTION = EXECUTIONS + "/{executionId}"


@pytest.fixture(scope="module")
def document(ready):
    return RestClient(ready["httpUrl"]).ok("GET", "/v1/openapi.json")


@pytest.fixture
def rest(ready, document):
    def client(user=None, *, bearer=False) -> RestClient:
        who = user or ready
        if bearer:
            return RestClient(ready["httpUrl"], bearer=who["token"], document=document)
        return RestClient(ready["httpUrl"], api_key=who["apiKey"], document=document)

    return client


def wait_for_status(api: RestClient, pid: str, execution_id: str, wanted: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        execution = api.ok("GET", EXECUTION, projectId=pid, executionId=execution_id)["execution"]
        if execution["status"] in wanted or time.monotonic() > deadline:
            return execution
        time.sleep(0.3)


def test_the_served_document_is_openapi_3_1_with_every_route(document, ready):
    from cloutagent.gateway.rest import rest_routes

    validate_openapi(document)
    assert document["openapi"] == "3.1.0"
    listed = {f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops}
    assert listed == set(rest_routes())


async def test_with_an_api_key_a_ci_job_creates_a_project_runs_it_to_completed_and_reads_the_same_events(
        rest, connect, make_user, ready):
    # GIVEN a CI job's member key and a teammate watching over the WebSocket
    member = make_user(tenant_id=ready["tenantId"], role="member")
    api, watcher = rest(member), await connect()

    # WHEN the job creates a project and starts a run over REST
    created = api.call("POST", "/v1/projects", {"name": "from ci", "description": "made with curl"})
    assert created.status == 201
    pid = created.body["project"]["projectId"]
    joined = await watcher.ok("project.join", {"projectId": pid})
    started = api.call("POST", EXECUTIONS, {"prompt": "[fake:stream n=12 delay_ms=5]"}, projectId=pid)
    assert started.status == 202 and started.body["execution"]["status"] == "starting"
    execution_id = started.body["execution"]["executionId"]

    # THEN polling it reaches completed, attributed to the key
    execution = await asyncio.to_thread(wait_for_status, api, pid, execution_id, {"completed", "failed"})
    assert execution["status"] == "completed" and execution["createdBy"].startswith("apikey:k_")
    listed = api.ok("GET", EXECUTIONS, projectId=pid, query="limit=5")["executions"]
    assert [e["executionId"] for e in listed] == [execution_id]

    # AND its events over REST are exactly what the watcher received, with the same seqs
    await watcher.wait_for_event(lambda e: e["event"] == "project.state" and e["projectId"] == pid
                                 and e["data"].get("state") == "idle")
    live = [e for e in watcher.events if e["projectId"] == pid and e["seq"] > joined["lastSeq"]]
    page = api.ok("GET", PROJECT + "/events", projectId=pid, query=f"sinceSeq={joined['lastSeq']}&limit=500")
    assert page["events"] == live and page["nextCursor"] is None
    texts = [e for e in page["events"] if e["event"] == "execution.message"]
    assert len(texts) >= 12
    only = api.ok("GET", PROJECT + "/events", projectId=pid, query="sinceSeq=0&events=execution.started,execution.finished")
    assert [e["event"] for e in only["events"]] == ["execution.started", "execution.finished"]


def test_refusals_are_http_statuses_with_the_json_error_body(rest, make_user, ready):
    owner = rest()
    pid = owner.ok("POST", "/v1/projects", {"name": "refusals"})["project"]["projectId"]
    viewer = rest(make_user(tenant_id=ready["tenantId"], role="viewer"))
    stranger = rest(make_user())

    cases = {
        "missing key": (RestClient(ready["httpUrl"], document=owner.document).call("GET", "/v1/projects"), 401, "UNAUTHORIZED"),
        "wrong key": (RestClient(ready["httpUrl"], api_key="cla_not-a-key", document=owner.document)
                      .call("GET", "/v1/projects"), 401, "UNAUTHORIZED"),
        "viewer starts a run": (viewer.call("POST", EXECUTIONS, {"prompt": "hi"}, projectId=pid), 403, "FORBIDDEN"),
        "another tenant's project": (stranger.call("GET", PROJECT, projectId=pid), 404, "PROJECT_NOT_FOUND"),
        "body over the limit": (owner.call("POST", "/v1/projects", raw=b'{"name": "x", "description": "'
                                           + b"a" * 140_000 + b'"}'), 413, "MESSAGE_TOO_LARGE"),
        "malformed JSON": (owner.call("POST", "/v1/projects", raw=b'{"name": '), 400, "BAD_REQUEST"),
        "invalid field": (owner.call("POST", "/v1/projects", {"name": ""}), 400, "BAD_REQUEST"),
        "body contradicts the path": (owner.call("PATCH", PROJECT, {"projectId": "p_other", "name": "n"},
                                                 projectId=pid), 400, "BAD_REQUEST"),
        "query of the wrong type": (owner.call("GET", PROJECT + "/events", projectId=pid, query="limit=many"),
                                    400, "BAD_REQUEST"),
    }
    for name, (answer, status, code) in cases.items():
        assert (answer.status, answer.body["error"]["code"]) == (status, code), (name, answer)
        assert set(answer.body["error"]) == {"code", "message", "details"}, name
        assert "Traceback" not in str(answer.body), name


def test_a_second_run_while_busy_is_a_conflict_and_kill_names_the_run(rest):
    api = rest()
    pid = api.ok("POST", "/v1/projects", {"name": "busy"})["project"]["projectId"]
    execution_id = api.ok("POST", EXECUTIONS, {"prompt": "[fake:sleep seconds=30]"}, projectId=pid)["execution"]["executionId"]

    second = api.call("POST", EXECUTIONS, {"prompt": "me too"}, projectId=pid)
    assert (second.status, second.body["error"]["code"]) == (409, "PROJECT_BUSY")
    wrong = api.call("POST", EXECUTION + "/kill", projectId=pid, executionId="x_not_this_one")
    assert (wrong.status, wrong.body["error"]["code"]) == (409, "CONFLICT")

    wait_for_status(api, pid, execution_id, {"running"})
    killed = api.call("POST", EXECUTION + "/kill", projectId=pid, executionId=execution_id)
    assert killed.status == 200 and killed.body == {"executionId": execution_id, "status": "cancelling"}
    assert wait_for_status(api, pid, execution_id, {"cancelled"}, timeout=20)["status"] == "cancelled"


async def test_a_key_limited_to_project_a_finds_nothing_else(rest, connect, ready):
    owner = rest()
    a = owner.ok("POST", "/v1/projects", {"name": "scope a"})["project"]["projectId"]
    b = owner.ok("POST", "/v1/projects", {"name": "scope b"})["project"]["projectId"]
    admin_ws = await connect()
    made = await admin_ws.ok("apikey.create", {"name": "ci for a", "role": "member", "projectIds": [a]})
    assert made["apiKey"]["projectIds"] == [a]
    ci = rest({"apiKey": made["key"]})

    assert [p["projectId"] for p in ci.ok("GET", "/v1/projects")["projects"]] == [a]
    assert ci.ok("GET", PROJECT, projectId=a)["project"]["name"] == "scope a"
    for method, template, body in [("GET", PROJECT, None), ("POST", EXECUTIONS, {"prompt": "hi"}),
                                   ("GET", PROJECT + "/events", None), ("DELETE", PROJECT, None)]:
        answer = ci.call(method, template, body, projectId=b)
        assert (answer.status, answer.body["error"]["code"]) == (404, "PROJECT_NOT_FOUND"), (method, template)
    refused = ci.call("POST", "/v1/projects", {"name": "escape"})
    assert (refused.status, refused.body["error"]["code"]) == (403, "FORBIDDEN")
    me = ci.ok("GET", "/v1/whoami")
    assert me["projectIds"] == [a] and "project.create" not in me["allowedActions"]

    # the same limit holds over the WebSocket
    from tests.support.ws import WsClient

    scoped_ws = await WsClient.connect(f"{ready['wsUrl']}/?apiKey={made['key']}")
    try:
        assert (await scoped_ws.error("project.join", {"projectId": b}))["code"] == "PROJECT_NOT_FOUND"
        assert (await scoped_ws.error("member.list"))["code"] == "FORBIDDEN"
        await scoped_ws.ok("project.join", {"projectId": a})
    finally:
        await scoped_ws.close()
    bad = await admin_ws.error("apikey.create", {"name": "typo", "projectIds": ["p_does_not_exist"]})
    assert bad["code"] == "PROJECT_NOT_FOUND"


def test_every_route_answers_as_documented(rest, document):
    api = rest(bearer=True)  # a Cognito access token works as well as a key
    assert api.ok("GET", "/v1/health")["status"] == "ok"
    RestClient(api.base_url, document=document).ok("GET", "/v1/health")  # no credentials needed
    api.ok("GET", "/v1/openapi.json")
    assert api.ok("GET", "/v1/whoami")["authType"] == "jwt"
    assert isinstance(api.ok("GET", "/v1/audit")["entries"], list)
    pid = api.ok("POST", "/v1/projects", {"name": "every route"})["project"]["projectId"]
    api.ok("GET", "/v1/projects")
    api.ok("GET", PROJECT, projectId=pid)
    assert api.ok("PATCH", PROJECT, {"description": "patched"}, projectId=pid)["project"]["description"] == "patched"
    execution_id = api.ok("POST", EXECUTIONS, {"prompt": "[fake:sleep seconds=30]"}, projectId=pid)["execution"]["executionId"]
    wait_for_status(api, pid, execution_id, {"running"})
    api.ok("POST", EXECUTION + "/kill", projectId=pid, executionId=execution_id)
    wait_for_status(api, pid, execution_id, {"cancelled"}, timeout=20)
    api.ok("GET", EXECUTIONS, projectId=pid)
    api.call("GET", EXECUTION + "/diff", projectId=pid, executionId=execution_id)
    api.ok("GET", PROJECT + "/events", projectId=pid)
    assert api.ok("GET", PROJECT + "/secrets", projectId=pid)["secrets"] == []
    schedule = api.call("POST", PROJECT + "/schedules", {"rate": "rate(1 hour)", "prompt": "nightly"}, projectId=pid)
    assert schedule.status == 201, schedule
    api.ok("GET", PROJECT + "/schedules", projectId=pid)
    api.ok("DELETE", PROJECT + "/schedules/{scheduleId}", projectId=pid,
           scheduleId=schedule.body["schedule"]["scheduleId"])
    assert api.ok("DELETE", PROJECT, projectId=pid) == {"projectId": pid, "deleted": True}

    listed = {f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops}
    assert api.seen_routes | {"GET /v1/health"} == listed
