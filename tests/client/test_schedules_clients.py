"""Schedules from the SDK (async and sync twins) and the ``cloutagent schedules`` commands."""

from __future__ import annotations

import pytest

from cloutagent_client.errors import CloutagentError
from tests.client.test_cli import cli, unique  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e


async def test_the_sdk_creates_lists_and_deletes_a_schedule(sdk):
    client = await sdk()
    project = await client.create_project(unique("sdk-schedules"))
    schedule = await client.create_schedule(project["projectId"], "weekly review", cron="0 9 ? * MON *",
                                            timezone="Europe/Paris", name="weekly", options={"maxCostUsd": 1})
    assert (schedule["expression"], schedule["timezone"], schedule["options"]) == (
        "cron(0 9 ? * MON *)", "Europe/Paris", {"maxCostUsd": 1.0})
    assert [s["scheduleId"] for s in await client.list_schedules(project["projectId"])] == [schedule["scheduleId"]]
    with pytest.raises(CloutagentError) as refused:
        await client.create_schedule(project["projectId"], "x", rate="30 seconds")
    assert refused.value.code == "BAD_REQUEST"
    await client.delete_schedule(project["projectId"], schedule["scheduleId"])
    assert await client.list_schedules(project["projectId"]) == []


async def test_the_cli_creates_lists_and_deletes_schedules(cli):  # noqa: F811
    name = unique("cli-schedules")
    await cli.json("projects", "create", name)
    [schedule] = await cli.json("schedules", "create", name, "nightly tidy", "--rate", "1 day", "--name", "nightly",
                                "--max-cost-usd", "2")
    assert schedule["expression"] == "rate(1 day)" and schedule["options"] == {"maxCostUsd": 2.0}
    code, out, err = await cli("schedules", "list", name)
    assert code == 0, err
    assert schedule["scheduleId"] in out and "never fired" in out and "rate(1 day)" in out
    code, _, err = await cli("schedules", "create", name, "x", "--cron", "* * * * *")
    assert code != 0 and "cron" in err.lower()
    code, out, err = await cli("schedules", "delete", name, schedule["scheduleId"])
    assert code == 0 and "deleted" in out, err
    assert await cli.json("schedules", "list", name) == []
