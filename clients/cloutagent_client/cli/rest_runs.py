"""Runs without a WebSocket, for CI: ``run --no-wait`` starts a run and prints its id, ``wait`` polls it
until it ends (exit 0 only for ``completed``), ``events`` prints the stored log. All over the REST API,
whose URL ``config.rest_url`` finds (``--api-url``, ``CLOUTAGENT_API_URL``, the profile's ``apiUrl``).

    X=$(cloutagent run web "Fix the build" --no-wait)
    cloutagent wait web "$X" --max-wait 1800
"""

from __future__ import annotations

from typing import Any

from cloutagent_client.cli import exit_codes, session
from cloutagent_client.cli.logs import _show as show_event
from cloutagent_client.cli.output import Output, shown_data
from cloutagent_client.cli.render import Style, git_summary, summary
from cloutagent_client.cli.run import _prompt as read_prompt
from cloutagent_client import BadRequest, NotFound, RestClient


def run(args: Any) -> int:
    """``cloutagent run``: streamed over the WebSocket as always, or with ``--no-wait`` started over REST."""
    if not args.no_wait:
        return session.run(args, args.client_command)
    return session.run_rest(args, start)


def over_rest(args: Any) -> int:
    return session.run_rest(args, args.client_command)


def start(api: RestClient, args: Any, out: Output) -> int:
    """Start the run and print its id alone (``--json``: the execution), for ``X=$(…)``."""
    if args.new_session:
        raise BadRequest("--new-session needs the WebSocket: leave out --no-wait", {"field": "new_session"})
    project = api.find_project(args.project)
    options = {"maxCostUsd": args.max_cost_usd, "maxTokens": args.max_tokens,
               "timeoutSeconds": args.timeout_seconds, "model": args.model}
    execution = api.start_run(project["projectId"], read_prompt(args.prompt), options=options,
                              branch=args.branch, pull_request=args.pull_request)
    out.result(execution, execution["executionId"])
    return exit_codes.OK


def wait(api: RestClient, args: Any, out: Output) -> int:
    """Poll the run until it ends; print its outcome (``--json``: the execution); exit as ``run`` does."""
    project_id = api.find_project(args.project)["projectId"]
    execution_id = args.execution or _latest(api, project_id)
    execution = api.wait(project_id, execution_id, timeout=args.max_wait, poll_seconds=args.poll)
    status = execution["status"]
    if out.json:
        out.item(execution)
    else:
        style = Style.for_stream(out.stdout)
        if execution.get("git"):
            out.line(git_summary(shown_data(execution["git"]), style))
        mark = style.green("■ completed") if status == "completed" else style.red(f"■ {status}")
        out.line(f"{mark} · {summary(shown_data(execution))} · {execution_id}")
    return exit_codes.for_run_status(status)


def events(api: RestClient, args: Any, out: Output) -> int:
    """The project's stored events after ``--since-seq``, as ``logs`` prints them."""
    project_id = api.find_project(args.project)["projectId"]
    style = Style.for_stream(out.stdout, json_mode=out.json)
    kinds: dict[str, str] = {}
    names = args.events.split(",") if args.events else None
    for event in api.iter_events(project_id, args.since_seq, names):
        show_event(dict(event), out, style, args.execution, kinds)
    return exit_codes.OK


def _latest(api: RestClient, project_id: str) -> str:
    runs = api.list_executions(project_id, limit=1)["executions"]
    if not runs:
        raise NotFound("The project has no runs yet", {"projectId": project_id})
    return str(runs[0]["executionId"])
