"""SyncClient: the SDK for code that is not async, against the real local stack."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cloutagent_client import ClientClosed, ProjectNotFound, SyncClient

pytestmark = pytest.mark.e2e


def test_plain_code_creates_runs_watches_and_reads_history_without_asyncio(ready, monkeypatch):
    monkeypatch.setenv("CLOUTAGENT_URL", ready["wsUrl"])
    monkeypatch.setenv("CLOUTAGENT_API_KEY", ready["apiKey"])
    with SyncClient() as client:
        project = client.create_project(f"sync-{uuid.uuid4().hex[:6]}")
        with client.subscribe(project["projectId"]) as events:
            run = client.execute(project["projectId"], "[fake:stream n=3]")
            texts = []
            for event in events:
                if event["event"] == "execution.message" and event["data"]["kind"] == "text":
                    texts.append(event["data"]["text"])
                if event["event"] == "execution.finished" and event["data"]["executionId"] == run["executionId"]:
                    assert event["data"]["status"] == "completed"
                    break
        assert texts == [f"Streaming message {i} of 3." for i in (1, 2, 3)]
        stored = [e["seq"] for e in client.history(project["projectId"])]
        assert stored == list(range(1, len(stored) + 1)) and len(stored) > 5
        with pytest.raises(ProjectNotFound):
            client.get_project("p_does_not_exist")
    with pytest.raises(ClientClosed):
        client.whoami()


def test_every_shortcut_of_the_async_client_has_a_typed_sync_twin_with_the_same_arguments():
    import inspect

    from cloutagent_client.api import Api
    from cloutagent_client.sync_api import SyncApi

    for name, method in inspect.getmembers(Api, predicate=inspect.isfunction):
        if name.startswith("_"):
            continue
        twin = SyncApi.__dict__.get(name)
        assert twin is not None, f"SyncApi has no {name}"
        assert list(inspect.signature(twin).parameters) == list(inspect.signature(method).parameters), name


EXAMPLE = Path(__file__).resolve().parents[2] / "clients" / "examples" / "sync_run.py"


def test_the_docs_sync_example_runs_a_prompt_from_a_plain_script(ready):
    import os
    import subprocess
    import sys

    with SyncClient(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        name = f"sync-example-{uuid.uuid4().hex[:6]}"
        client.create_project(name)
    env = {**os.environ, "CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_KEY": ready["apiKey"]}
    done = subprocess.run([sys.executable, str(EXAMPLE), name, "[fake:stream n=2]"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Streaming message 1 of 2.", "Streaming message 2 of 2.", "completed"]


def test_the_docs_sync_example_passes_mypy_strict_against_the_sdk_s_types():
    import subprocess
    import sys

    checked = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
                              str(EXAMPLE.relative_to(EXAMPLE.parents[1]))], cwd=EXAMPLE.parents[1],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
