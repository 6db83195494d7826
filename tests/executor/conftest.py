"""Fixtures for the executor: the real Claude Code CLI against the scripted model, and S3 over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cloutagent_dev.model import ScriptedModel
from cloutagent_executor.agent import AgentOutcome, AgentRequest, run_agent


@pytest.fixture(scope="session")
def scripted_model():
    """The scripted model every executor test's real Claude Code CLI talks to."""
    with ScriptedModel() as model:
        yield model


class AgentHarness:
    """Runs run_agent (the bundled CLI) against the scripted model and keeps every message it emitted."""

    def __init__(self, cli_path: str | None, cwd: Path) -> None:
        self.cli_path, self.cwd = cli_path, cwd
        self.messages: list[dict] = []
        self.cancel = asyncio.Event()

    def request(self, prompt: str, **options: object) -> AgentRequest:
        return AgentRequest(prompt=prompt, cwd=str(self.cwd), cli_path=self.cli_path, **options)

    async def run(self, prompt: str, **options: object) -> AgentOutcome:
        self.messages.clear()
        self.cancel = asyncio.Event()
        return await run_agent(self.request(prompt, **options), self._collect, self.cancel)

    async def _collect(self, data: dict) -> None:
        self.messages.append(data)

    def kinds(self, kind: str) -> list[dict]:
        return [message for message in self.messages if message["kind"] == kind]

    def texts(self) -> list[str]:
        return [message["text"] for message in self.kinds("text")]


@pytest.fixture
def agent(scripted_model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentHarness:
    """The executor's environment as the local launcher gives it: the CLI reaches only the
    scripted model, and keeps its config in a directory of its own."""
    for name, value in scripted_model.cli_env(IS_SANDBOX="1", CLAUDE_CONFIG_DIR=str(tmp_path / "claude")).items():
        monkeypatch.setenv(name, value)
    workdir = tmp_path / "workspace"
    workdir.mkdir()
    return AgentHarness(None, workdir)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str):
    return boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


@pytest.fixture
def sessions_bucket(s3_client) -> str:
    # A bucket per test: other suites' mock_aws teardown resets moto's shared backends.
    name = f"sessions-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name
