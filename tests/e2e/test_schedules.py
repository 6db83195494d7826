"""Schedules through the local stack: its scheduler fires moto's schedules at scheduled_run."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

pytestmark = pytest.mark.e2e

FAST_MINUTE_SECONDS = 2.0  # the local scheduler's minute while a test needs it short


def scheduler_pace(ready, seconds_per_minute: float) -> dict:
    request = urllib.request.Request(f"{ready['httpUrl']}/local/scheduler", method="PUT",
                                     data=json.dumps({"secondsPerMinute": seconds_per_minute}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def short_minutes(ready):
    """A minute of the stack's scheduler lasts 2 s during the test, and a real minute again after."""
    assert scheduler_pace(ready, FAST_MINUTE_SECONDS)["secondsPerMinute"] == FAST_MINUTE_SECONDS
    yield
    scheduler_pace(ready, 60)


async def new_project(client, name="scheduled"):
    pid = (await client.ok("project.create", {"name": name}))["project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})
    return pid


async def test_a_schedule_every_minute_starts_runs_attributed_to_it_and_skips_one_while_the_last_runs(connect, short_minutes):
    client = await connect()
    pid = await new_project(client)
    # GIVEN a schedule every minute whose run lasts longer than a (2 s) minute
    schedule = (await client.ok("schedule.create", {"projectId": pid, "name": "every minute", "rate": "1 minute",
                                                    "prompt": "[fake:sleep seconds=8]"}))["schedule"]
    sid = schedule["scheduleId"]
    assert schedule["expression"] == "rate(1 minute)" and schedule["lastOutcome"] is None

    # WHEN it fires, a run starts, and the run is the schedule's
    starting = await client.wait_for_event(
        lambda e: e["projectId"] == pid and e["event"] == "project.state" and e["data"]["state"] == "starting", timeout=20)
    execution_id = starting["data"]["executionId"]
    execution = (await client.ok("execution.get", {"projectId": pid, "executionId": execution_id}))["execution"]
    assert execution["createdBy"] == f"schedule:{sid}" and execution["prompt"] == "[fake:sleep seconds=8]"

    # AND the next firing, while that run goes on, is skipped and recorded rather than queued
    skipped = await client.wait_for_event(
        lambda e: e["event"] == "schedule.skipped" and e["data"]["scheduleId"] == sid, timeout=20)
    assert skipped["data"]["reason"] == "PROJECT_BUSY"
    (listed,) = (await client.ok("schedule.list", {"projectId": pid}))["schedules"]
    assert listed["scheduleId"] == sid and listed["startedCount"] == 1 and listed["skippedCount"] >= 1
    assert listed["lastOutcome"] in ("skipped", "started") and listed["lastFiredAt"]
    history = await client.ok("messages.get", {"projectId": pid, "events": ["schedule.skipped"]})
    assert history["events"] and {e["data"]["scheduleId"] for e in history["events"]} == {sid}
    project = (await client.ok("project.get", {"projectId": pid}))["project"]
    assert project["executionId"] == execution_id  # still the first run: nothing queued behind it

    # THEN once deleted, it fires no more
    assert await client.ok("schedule.delete", {"projectId": pid, "scheduleId": sid}) == {
        "projectId": pid, "scheduleId": sid, "deleted": True}
    assert (await client.ok("schedule.list", {"projectId": pid}))["schedules"] == []
    await client.request("agent.kill", {"projectId": pid})
    await client.wait_for_event(
        lambda e: e["event"] == "project.state" and e["data"] == {"state": "idle", "executionId": execution_id}, timeout=20)
    await asyncio.sleep(3 * FAST_MINUTE_SECONDS)
    runs = (await client.ok("execution.list", {"projectId": pid}))["executions"]
    assert [r["executionId"] for r in runs] == [execution_id]


async def test_a_viewer_may_list_schedules_but_not_create_or_delete_them(connect, make_user, ready):
    owner = await connect()
    pid = await new_project(owner)
    sid = (await owner.ok("schedule.create", {"projectId": pid, "cron": "0 9 ? * MON-FRI *", "prompt": "standup notes",
                                             "timezone": "Europe/Paris"}))["schedule"]["scheduleId"]
    viewer = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))
    assert [s["scheduleId"] for s in (await viewer.ok("schedule.list", {"projectId": pid}))["schedules"]] == [sid]
    refused = await viewer.error("schedule.create", {"projectId": pid, "rate": "1 hour", "prompt": "x"})
    assert refused["code"] == "FORBIDDEN"
    assert (await viewer.error("schedule.delete", {"projectId": pid, "scheduleId": sid}))["code"] == "FORBIDDEN"
    await owner.ok("schedule.delete", {"projectId": pid, "scheduleId": sid})


async def test_another_tenant_s_project_is_not_found(connect, make_user):
    owner = await connect()
    pid = await new_project(owner)
    stranger = await connect(make_user())
    refused = await stranger.error("schedule.create", {"projectId": pid, "rate": "1 hour", "prompt": "x"})
    assert refused["code"] == "PROJECT_NOT_FOUND"
    assert (await stranger.error("schedule.list", {"projectId": pid}))["code"] == "PROJECT_NOT_FOUND"
    assert (await owner.ok("schedule.list", {"projectId": pid}))["schedules"] == []


@pytest.mark.parametrize("clock", [{"rate": "30 seconds"}, {"rate": "1 minutes"}, {"cron": "* * * * *"},
                                   {"cron": "0 9 * * * *"}, {"rate": "1 hour", "cron": "0 9 ? * MON *"}, {},
                                   {"rate": "1 hour", "timezone": "Nowhere/Special"}])
async def test_a_malformed_clock_is_a_bad_request_and_leaves_nothing(connect, clock):
    client = await connect()
    pid = await new_project(client)
    refused = await client.error("schedule.create", {"projectId": pid, "prompt": "x", **clock})
    assert refused["code"] == "BAD_REQUEST"
    assert (await client.ok("schedule.list", {"projectId": pid}))["schedules"] == []
    unknown = await client.error("schedule.delete", {"projectId": pid, "scheduleId": "s_" + "0" * 26})
    assert unknown["code"] == "NOT_FOUND"


def test_schedules_over_rest_v1_as_a_ci_job_would_make_them(ready):
    from tests.support.rest import RestClient

    document = RestClient(ready["httpUrl"]).ok("GET", "/v1/openapi.json")
    api = RestClient(ready["httpUrl"], api_key=ready["apiKey"], document=document)
    pid = api.ok("POST", "/v1/projects", {"name": "rest-scheduled"})["project"]["projectId"]
    made = api.call("POST", "/v1/projects/{projectId}/schedules", {"rate": "1 hour", "prompt": "hourly check"},
                    projectId=pid)
    assert made.status == 201 and made.body["schedule"]["expression"] == "rate(1 hour)"
    sid = made.body["schedule"]["scheduleId"]
    listed = api.ok("GET", "/v1/projects/{projectId}/schedules", projectId=pid)["schedules"]
    assert [s["scheduleId"] for s in listed] == [sid]
    bad = api.call("POST", "/v1/projects/{projectId}/schedules", {"cron": "* * * * *", "prompt": "x"}, projectId=pid)
    assert bad.status == 400 and bad.body["error"]["code"] == "BAD_REQUEST"
    assert api.ok("DELETE", "/v1/projects/{projectId}/schedules/{scheduleId}", projectId=pid, scheduleId=sid)["deleted"]
    assert api.ok("GET", "/v1/projects/{projectId}/schedules", projectId=pid)["schedules"] == []
