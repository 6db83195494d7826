"""The Fargate confinement: the real CLI as the agent's own uid beside a root executor.

Fargate gives a task no namespaces, so there the executor (root) starts the CLI through setpriv
as another uid. These tests make the real agent try to reach what the executor holds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from cloutagent_executor.agent import run_agent
from cloutagent_executor.confinement import confined
from cloutagent_executor.models import AgentRequest
from cloutagent_executor.sandbox import AGENT_NICENESS, AUTOGROUP, SETPRIV
from cloutagent_executor.settings import ExecutorSettings
from cloutagent_executor.spare import SpareCli

AGENT_UID = 10002
PLATFORM_SECRETS = {"AWS_SECRET_ACCESS_KEY": "platform-aws-secret-7f3a",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/guid-9b1c",
                    "CLOUTAGENT_TABLE_NAME": "platform-table-5d2e"}


@pytest.fixture
def can_switch_uid():
    if os.geteuid() != 0 or not os.access(SETPRIV, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root with util-linux: the agent-uid confinement must be tested there")
        pytest.skip("only root can run the CLI as another uid")


@pytest.fixture
def workspace():
    # Under a folder any uid may traverse (pytest's tmp_path is root's own, mode 700).
    root = Path(tempfile.mkdtemp(prefix="agent-uid-"))
    root.chmod(0o755)
    folder = root / "t_1" / "demo"
    folder.mkdir(parents=True)
    (root / "t_1").chmod(0o755)
    (folder / "given.txt").write_text("from the snapshot\n")
    yield folder
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["started for the run", "spare"])
def cli(request) -> str:
    """The CLI a launched run starts, and a pool executor's spare that the run claims (spare.py)."""
    return request.param


async def run_bash(command: str, workspace: Path, scripted_model, monkeypatch, cli: str) -> tuple[str, object]:
    for name, value in {**PLATFORM_SECRETS, "ANTHROPIC_API_KEY": "sk-ant-platform-real-key"}.items():
        monkeypatch.setenv(name, value)
    settings = ExecutorSettings(tenant_id="t_1", project_id="p_1", execution_id="e_1", sandbox="user",
                                agent_uid=AGENT_UID, anthropic_base_url=scripted_model.base_url,
                                workspace_root=str(workspace.parent.parent))
    request = AgentRequest(prompt=f'[fake:bash command="{command}"]', cwd=str(workspace),
                           permission_mode="bypassPermissions", env={"DEPLOY_TOKEN": "the-projects-own-token"})
    messages: list[dict] = []

    async def collect(data: dict) -> None:
        messages.append(data)

    spare = await SpareCli.start(settings) if cli == "spare" else None
    try:
        async with confined(request, settings, spare) as run:
            outcome = await run_agent(run.request, collect, asyncio.Event(), None, spare=spare)
    finally:
        if spare is not None:
            await spare.close()
    [result] = [m for m in messages if m["kind"] == "tool_result"]
    content = result["content"]
    return (content if isinstance(content, str) else json.dumps(content)), outcome


async def test_the_agent_runs_as_its_own_uid_and_owns_only_its_workspace(can_switch_uid, workspace, scripted_model,
                                                                         monkeypatch, cli):
    out, outcome = await run_bash("id -u; pwd; cat given.txt; echo new > made.txt; touch /root/x 2>&1 || echo denied; "
                                  "echo token=$DEPLOY_TOKEN", workspace, scripted_model, monkeypatch, cli)
    assert outcome.status == "completed"
    assert out.splitlines()[:2] == [str(AGENT_UID), str(workspace)]
    assert "token=[redacted]" in out  # it has the project's secret; the output masks it
    assert "from the snapshot" in out and "denied" in out
    assert (workspace / "made.txt").stat().st_uid == AGENT_UID


async def test_the_agent_cannot_read_the_executors_environment_or_the_platforms_keys(can_switch_uid, workspace,
                                                                                     scripted_model, monkeypatch, cli):
    executor = os.getpid()
    out, _ = await run_bash(f"env; cat /proc/{executor}/environ 2>&1; cat /proc/1/environ 2>&1; echo end",
                            workspace, scripted_model, monkeypatch, cli)
    assert "end" in out and "Permission denied" in out
    for value in [*PLATFORM_SECRETS.values(), "sk-ant-platform-real-key"]:
        assert value not in out
    # Its one credential is this run's gateway token, on a loopback port
    assert "ANTHROPIC_API_KEY=sk-ant-api03-run-" in out and "ANTHROPIC_BASE_URL=http://127.0.0.1:" in out


async def test_the_agent_runs_below_the_executors_priority_and_cannot_raise_it(can_switch_uid, workspace,
                                                                              scripted_model, monkeypatch, cli):
    base = os.nice(0)
    out, _ = await run_bash("nice; renice -n 0 -p $$ >/dev/null 2>&1 && echo raised || echo refused; "
                            "cat /proc/$PPID/autogroup 2>/dev/null || echo no-autogroup",
                            workspace, scripted_model, monkeypatch, cli)
    niceness, raised, group = out.splitlines()
    assert [niceness, raised] == [str(base + AGENT_NICENESS), "refused"]
    if AUTOGROUP.exists():  # sessions share the CPU as groups: the CLI's (the command's parent) is its own, at its niceness
        assert re.fullmatch(rf"/autogroup-\d+ nice {AGENT_NICENESS}", group)
        # ours reads empty in the root group (a process that never left init's session, as in CI's container)
        assert group.split()[:1] != AUTOGROUP.read_text().split()[:1]
