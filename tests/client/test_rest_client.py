"""The SDK's ``RestClient`` and the CLI's REST path (``run --no-wait``, ``wait``, ``events``): what a CI
job does without a WebSocket. Retries and error mapping against a scripted local HTTP server; the rest
against the real local stack."""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import re
import threading
import time
from typing import Any, Iterator

import pytest

from cloutagent_client import (BadRequest, CloutagentError, ConnectionFailed, Conflict, FINAL_STATUSES, InternalError, ProjectBusy,
                               ProjectNotFound, RateLimited, RestClient, Unauthorized, WaitTimeout)
from cloutagent_client.cli.config import Target, rest_url, save_profile, resolve_target
from cloutagent_client.options import Credentials
from tests.client.test_cli import cli, unique  # noqa: F401 (the fixture)

EXECUTION_ID = re.compile(r"x_[A-Za-z0-9_-]+")


# -- the transport, against a scripted server ---------------------------------------------------------
class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers each request with the next (status, body, headers) of ``answers``; records what came."""

    answers: list[tuple[int, Any, dict[str, str]]] = []
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(length)))
        status, body, headers = self.answers.pop(0)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    Scripted.answers, Scripted.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _error(code: str, message: str = "no", **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}, "requestId": "r-1"}


def test_a_read_is_retried_on_5xx_and_429_and_sends_the_key_in_a_header(scripted):
    # GIVEN a gateway that throttles, then fails, then answers
    Scripted.answers = [(429, {"message": "Too Many Requests"}, {"Retry-After": "0"}),
                        (503, {"message": "Service Unavailable"}, {}),
                        (200, {"project": {"projectId": "p_1"}}, {})]
    # WHEN a read asks
    project = RestClient(scripted, api_key="cla_k").get_project("p_1")
    # THEN it was asked three times, and the third answer is the result
    assert project == {"projectId": "p_1"}
    assert [(m, p) for m, p, _, _ in Scripted.seen] == [("GET", "/v1/projects/p_1")] * 3
    assert Scripted.seen[0][2]["x-api-key"] == "cla_k" and "authorization" not in Scripted.seen[0][2]


def test_a_post_that_may_have_started_a_run_is_never_retried(scripted):
    Scripted.answers = [(502, {"message": "Internal Server Error"}, {}), (202, {"execution": {}}, {})]
    with pytest.raises(InternalError) as raised:
        RestClient(scripted, token="jwt").start_run("p_1", "hi", options={"maxCostUsd": 1, "model": None},
                                                    branch="b", pull_request=False)
    # one request only, with the token and the body as the wire wants it
    assert len(Scripted.seen) == 1 and raised.value.action == "execute" and raised.value.details["status"] == 502
    method, path, headers, body = Scripted.seen[0]
    assert (method, path, headers["authorization"]) == ("POST", "/v1/projects/p_1/executions", "Bearer jwt")
    assert json.loads(body) == {"prompt": "hi", "options": {"maxCostUsd": 1}, "branch": "b", "pullRequest": False}


def test_the_service_s_error_body_raises_the_websocket_sdk_s_class(scripted):
    Scripted.answers = [(409, _error("PROJECT_BUSY", "busy"), {}), (404, _error("PROJECT_NOT_FOUND"), {}),
                        (418, _error("TEAPOT_NEWER_THAN_SDK", "new"), {}), (429, {"message": "slow"}, {}),
                        (400, b"not json", {})]
    api = RestClient(scripted, api_key="cla_k", retries=0)
    with pytest.raises(ProjectBusy) as busy:
        api.start_run("p_1", "x")
    assert (busy.value.code, busy.value.message, busy.value.action) == ("PROJECT_BUSY", "busy", "execute")
    with pytest.raises(ProjectNotFound):
        api.get_project("p_1")
    with pytest.raises(CloutagentError) as newer:
        api.whoami()
    assert newer.value.code == "TEAPOT_NEWER_THAN_SDK"
    with pytest.raises(RateLimited):  # API Gateway's own throttle, no retries left
        api.list_projects()
    with pytest.raises(BadRequest):
        api.create_project("x")


def test_an_unreachable_service_is_connection_failed_after_the_read_s_retries():
    with pytest.raises(BadRequest):  # urllib would open a file:// URL
        RestClient("file:///etc/passwd")
    started = time.monotonic()
    with pytest.raises(ConnectionFailed):
        RestClient("http://127.0.0.1:9", api_key="cla_k", retries=2).health()
    assert time.monotonic() - started < 10


def test_iter_events_follows_next_cursor_and_wait_polls_until_final(scripted):
    event = {"type": "event", "event": "e", "projectId": "p_1", "ts": "t", "data": {}}
    Scripted.answers = [(200, {"projectId": "p_1", "events": [{**event, "seq": 1}, {**event, "seq": 2}],
                               "nextCursor": "c1", "lastSeq": 3}, {}),
                        (200, {"projectId": "p_1", "events": [], "nextCursor": "c2", "lastSeq": 3}, {}),
                        (200, {"projectId": "p_1", "events": [{**event, "seq": 3}], "nextCursor": None,
                               "lastSeq": 3}, {})]
    api = RestClient(scripted, api_key="cla_k")
    assert [e["seq"] for e in api.iter_events("p_1", 0, ["e", "f"], page_size=2)] == [1, 2, 3]
    assert Scripted.seen[0][1] == "/v1/projects/p_1/events?sinceSeq=0&limit=2&events=e%2Cf"
    assert Scripted.seen[2][1].endswith("&cursor=c2")

    Scripted.answers = [(200, {"execution": {"status": status}}, {}) for status in ("starting", "running", "failed")]
    assert api.wait("p_1", "x_1", poll_seconds=0.01)["status"] == "failed"
    assert "failed" in FINAL_STATUSES and "cancelling" not in FINAL_STATUSES


def test_the_rest_client_passes_mypy_strict():
    import subprocess
    import sys
    from pathlib import Path

    clients = Path(__file__).resolve().parents[2] / "clients"
    checked = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
                              "cloutagent_client/rest.py", "cloutagent_client/cli/rest_runs.py"], cwd=clients,
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- where the REST API is: the CLI's precedence --------------------------------------------------------
def _args(**given: Any) -> argparse.Namespace:
    defaults = {"url": None, "api_url": None, "api_key": None, "token": None, "profile": None, "local": False,
                "ready_file": None}
    return argparse.Namespace(**{**defaults, **given})


def test_the_rest_url_comes_from_the_flag_the_environment_the_profile_or_a_local_ws_url(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUTAGENT_API_URL", raising=False)
    credentials = lambda: Credentials(api_key="cla_k")  # noqa: E731
    local = Target("ws://127.0.0.1:8765", credentials, "--url")
    assert rest_url(_args(), local) == "http://127.0.0.1:8765"
    aws = Target("wss://abc.execute-api.eu-west-1.amazonaws.com/prod", credentials, "--url")
    with pytest.raises(BadRequest) as missing:
        rest_url(_args(), aws)
    assert "--api-url" in missing.value.message and "CLOUTAGENT_API_URL" in missing.value.message

    # a profile's apiUrl, beaten by the environment, beaten by the flag
    config = tmp_path / "config.json"
    save_profile(config, "prod", {"url": aws.url, "apiKey": "cla_k", "apiUrl": "https://rest.example.com/"})
    from_profile = resolve_target(_args(profile="prod", config=str(config)))
    assert rest_url(_args(), from_profile) == "https://rest.example.com"
    monkeypatch.setenv("CLOUTAGENT_API_URL", "https://env.example.com")
    assert rest_url(_args(), from_profile) == "https://env.example.com"
    assert rest_url(_args(api_url="https://flag.example.com"), from_profile) == "https://flag.example.com"


# -- the SDK against the local stack ---------------------------------------------------------------------
@pytest.fixture
def rest(ready):
    return RestClient(ready["httpUrl"], api_key=ready["apiKey"])


@pytest.mark.e2e
def test_a_ci_job_creates_a_project_runs_it_to_completed_and_reads_its_events(rest):
    # GIVEN a project made over REST
    assert rest.health()["status"] == "ok" and rest.whoami()["authType"] == "apikey"
    project = rest.create_project(unique("rest-sdk"), description="from CI")
    pid = project["projectId"]
    assert rest.find_project(project["name"])["projectId"] == pid
    # WHEN a run starts and the job waits for it
    started = rest.start_run(pid, "[fake:stream n=5 delay_ms=5]", options={"maxCostUsd": 1.0})
    assert started["status"] == "starting" and EXECUTION_ID.fullmatch(started["executionId"])
    final = rest.wait(pid, started["executionId"], timeout=60, poll_seconds=0.2)
    # THEN it completed, and the log reads the same page by page as all at once
    assert final["status"] == "completed" and final["costUsd"] is not None
    assert [e["executionId"] for e in rest.list_executions(pid)["executions"]] == [started["executionId"]]
    pages, cursor = [], None
    while True:
        page = rest.events(pid, 0, 3, cursor=cursor)
        pages.extend(e["seq"] for e in page["events"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    seqs = [e["seq"] for e in rest.iter_events(pid, page_size=4)]
    assert seqs == pages == sorted(set(seqs)) and seqs[-1] == page["lastSeq"]
    texts = [e["data"]["text"] for e in rest.iter_events(pid, events=["execution.message"])
             if e["data"].get("kind") == "text"]
    assert texts == [f"Streaming message {i} of 5." for i in range(1, 6)]
    assert [e["event"] for e in rest.iter_events(pid, seqs[0], ["execution.finished"])] == ["execution.finished"]


@pytest.mark.e2e
def test_refusals_raise_the_same_exceptions_as_over_the_websocket(rest, ready):
    pid = rest.create_project(unique("rest-errors"))["projectId"]
    with pytest.raises(ProjectNotFound):
        rest.get_project("p_does_not_exist")
    with pytest.raises(Unauthorized):
        RestClient(ready["httpUrl"], api_key="cla_not-a-key").list_projects()
    running = rest.start_run(pid, "[fake:sleep seconds=30]")["executionId"]
    with pytest.raises(ProjectBusy):
        rest.start_run(pid, "me too")
    with pytest.raises(Conflict):
        rest.kill(pid, "x_not_this_one")
    # a wait that runs out says how far the run got, and the run goes on
    with pytest.raises(WaitTimeout) as waited:
        rest.wait(pid, running, timeout=0.5, poll_seconds=0.1)
    assert waited.value.details["status"] in {"starting", "running"}
    _kill_when_running(rest, pid, running)
    assert rest.wait(pid, running, timeout=30, poll_seconds=0.2)["status"] == "cancelled"


# -- the CLI -------------------------------------------------------------------------------------------
@pytest.mark.e2e
async def test_run_no_wait_prints_only_the_id_and_wait_exits_0_once_it_completed(cli, ready):
    name = unique("rest-cli")
    await cli.json("projects", "create", name)
    code, out, err = await cli("run", name, "[fake:stream n=3 delay_ms=5]", "--no-wait")
    assert code == 0, err
    execution_id = out.strip()
    assert EXECUTION_ID.fullmatch(execution_id) and out == execution_id + "\n"
    code, out, err = await cli("wait", name, execution_id, "--poll", "0.2", timeout=60)
    assert code == 0, err
    assert out.startswith("■ completed · ") and out.rstrip().endswith(execution_id)
    # the stored log, over REST, as `logs` prints it
    code, out, err = await cli("events", name, "--events", "execution.message")
    assert code == 0, err
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == [  # "#7 12:20:28 Streaming …"
        f"Streaming message {i} of 3." for i in range(1, 4)]


@pytest.mark.e2e
async def test_wait_exits_non_zero_for_a_killed_run_and_6_while_it_still_runs(cli, ready):
    name = unique("rest-cli-kill")
    [project] = await cli.json("projects", "create", name)
    [execution] = await cli.json("run", name, "[fake:sleep seconds=30]", "--no-wait")
    assert execution["status"] == "starting" and set(execution) == {"executionId", "status"}
    execution_id = execution["executionId"]

    code, out, err = await cli("wait", name, "--max-wait", "0.5", "--poll", "0.1")  # the latest run by default
    assert code == 6 and out == "" and "WAIT_TIMEOUT" in err

    api = RestClient(ready["httpUrl"], api_key=ready["apiKey"])
    await asyncio.to_thread(_kill_when_running, api, project["projectId"], execution_id)
    code, out, err = await cli("wait", name, execution_id, "--json", timeout=60)
    assert code == 1, err
    assert json.loads(out)["status"] == "cancelled"


def _kill_when_running(api: RestClient, project_id: str, execution_id: str) -> None:
    deadline = time.monotonic() + 30
    while api.get_execution(project_id, execution_id)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api.kill(project_id, execution_id) == {"executionId": execution_id, "status": "cancelling"}


@pytest.mark.e2e
async def test_with_only_a_ws_url_and_a_key_in_the_environment_the_rest_url_is_derived(cli, ready):
    cli.env.update({"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_KEY": ready["apiKey"]})
    name = unique("rest-cli-env")
    await cli.json("projects", "create", name, local=False)
    code, out, err = await cli("run", name, "[fake:stream n=1]", "--no-wait", local=False)
    assert code == 0 and EXECUTION_ID.fullmatch(out.strip()), err
    code, _, err = await cli("run", name, "again", "--no-wait", "--new-session", local=False)
    assert code == 2 and "--new-session" in err
    # a wrong key is refused as over the WebSocket: exit 3
    cli.env["CLOUTAGENT_API_KEY"] = "cla_not-a-key"
    code, _, err = await cli("wait", name, out.strip(), local=False)
    assert code == 3 and "UNAUTHORIZED" in err


@pytest.mark.e2e
async def test_login_keeps_an_api_url_that_answers_and_refuses_one_that_does_not(cli, ready):
    login = ("login", "--url", ready["wsUrl"], "--api-key", ready["apiKey"])
    code, _, err = await cli(*login, "--api-url", "http://127.0.0.1:9", local=False)
    assert code == 5, err
    code, _, err = await cli(*login, "--api-url", ready["httpUrl"] + "/", local=False)
    assert code == 0, err
    saved = json.loads((cli.home / ".config" / "cloutagent" / "config.json").read_text())
    assert saved["profiles"]["default"]["apiUrl"] == ready["httpUrl"]
    name = unique("rest-cli-profile")
    await cli.json("projects", "create", name, local=False)
    code, out, err = await cli("run", name, "[fake:stream n=1]", "--no-wait", local=False)
    assert code == 0 and EXECUTION_ID.fullmatch(out.strip()), err


@pytest.mark.e2e
async def test_the_docs_ci_recipe_works_as_printed(ready, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "clients.md").read_text()
    recipe = docs.split("**CI: start a run", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    name = unique("ci-recipe")
    pid = RestClient(ready["httpUrl"], api_key=ready["apiKey"]).create_project(name)["projectId"]
    script = "\n".join(line for line in recipe.splitlines() if not line.startswith("export "))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOUTAGENT_")},
           "HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_URL": ready["httpUrl"],
           "CLOUTAGENT_API_KEY": ready["apiKey"], "PROJECT": pid}
    done = await asyncio.to_thread(subprocess.run, ["bash", "-c", script.replace(" web ", f" {name} ")], env=env,
                                   cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "■ completed" in done.stdout
    runs = RestClient(ready["httpUrl"], api_key=ready["apiKey"]).list_executions(pid)["executions"]
    assert [r["status"] for r in runs] == ["completed", "completed"]
