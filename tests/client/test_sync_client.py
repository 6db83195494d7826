"""SyncClient: the SDK for code that is not async, against the real local stack."""

from __future__ import annotations

import uuid

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
