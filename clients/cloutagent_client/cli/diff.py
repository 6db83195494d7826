"""``cloutagent diff <project> [execution]``: what a run committed to the project's repository."""

from __future__ import annotations

from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.render import DiffLines, Style, diff_line
from cloutagent_client import Client, NotFound


async def latest_execution(client: Client, project_id: str) -> str:
    """The project's newest execution (``execution.list`` is newest first)."""
    executions = (await client.list_executions(project_id, limit=1))["executions"]
    if not executions:
        raise NotFound("The project has no runs yet")
    return executions[0]["executionId"]


async def diff(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    project_id = project["projectId"]
    execution_id = args.execution or await latest_execution(client, project_id)
    if out.json:
        text = await client.execution_diff(project_id, execution_id)
        out.item({"projectId": project_id, "executionId": execution_id, "diff": text})
        return exit_codes.OK
    style = Style.for_stream(out.stdout)
    lines = DiffLines()
    empty = True
    # Pages end on whole lines, so each is printed as it arrives.
    async for page in client.execution_diff_pages(project_id, execution_id):
        empty = False
        out.line("\n".join(diff_line(line, lines.kind(line), style) for line in page.removesuffix("\n").split("\n")))
    if empty:
        out.note(f"{execution_id} changed nothing")
    return exit_codes.OK
