"""The sandbox's environment and command line, and the model gateway's token check."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from cloutagent_dev.model import ScriptedModel
from cloutagent_executor.confinement import Confinement
from cloutagent_executor.limits import Limits
from cloutagent_executor.model_gateway import ModelGateway, UpstreamCredential, new_run_token
from cloutagent_executor.models import AgentOutcome, AgentRequest
from cloutagent_executor.sandbox import SandboxConfig, bwrap_argv, inside_env

CONFIG = SandboxConfig(cli="/opt/venv/claude", workspace="/w/t_1/demo", socket="/run/x/model.sock",
                       token="sk-ant-api03-run-abc", secret_names=("DEPLOY_TOKEN",))


def test_only_the_clis_switches_and_the_projects_secrets_cross_into_the_sandbox():
    outside = {"CLAUDE_CONFIG_DIR": "/r/cfg", "CLAUDE_CODE_ENTRYPOINT": "sdk-py", "DISABLE_TELEMETRY": "1",
               "DEPLOY_TOKEN": "d", "AWS_ACCESS_KEY_ID": "AKIA", "CLOUTAGENT_TABLE_NAME": "t",
               "ANTHROPIC_API_KEY": "sk-real", "CLAUDE_CODE_OAUTH_TOKEN": "oauth", "STRIPE_API_KEY": "sk_live",
               "GITHUB_TOKEN": "developer's own", "PATH": "/root/bin:/usr/bin", "HOME": "/root"}
    env = inside_env(CONFIG, outside)
    assert env == {"CLAUDE_CONFIG_DIR": "/r/cfg", "CLAUDE_CODE_ENTRYPOINT": "sdk-py", "DISABLE_TELEMETRY": "1",
                   "DEPLOY_TOKEN": "d", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/r/cfg",
                   "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080", "ANTHROPIC_API_KEY": "sk-ant-api03-run-abc"}


def test_a_sandbox_without_a_config_dir_of_its_own_is_refused():
    with pytest.raises(ValueError):
        inside_env(CONFIG, {"DEPLOY_TOKEN": "d"})


def test_the_sandbox_mounts_only_the_os_the_cli_the_workspace_the_config_and_the_socket():
    argv = bwrap_argv(CONFIG, inside_env(CONFIG, {"CLAUDE_CONFIG_DIR": "/r/cfg"}), ["--print", "hi"])
    binds = [(argv[i], argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert binds == [("--ro-bind", "/usr", "/usr"), ("--ro-bind", "/opt/venv/claude", "/opt/claude/claude"),
                     ("--bind", "/w/t_1/demo", "/w/t_1/demo"), ("--bind", "/r/cfg", "/r/cfg"),
                     ("--bind", "/run/x/model.sock", "/run/cloutagent/model.sock")]
    assert "--unshare-all" in argv and "--clearenv" in argv and argv[-2:] == ["--print", "hi"]
    etc = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind-try"]
    assert "/etc/shadow" not in etc and "/etc/passwd" in etc


def test_a_spare_sees_a_workspace_root_of_its_own_where_the_runs_folders_are_and_starts_parked():
    # GIVEN a spare CLI's sandbox: its own empty root, seen where the workspace root is
    spare = replace(CONFIG, workspace="/tmp/run-1/workspaces", workspace_inside="/w", chdir="/r/cfg/park")
    argv = bwrap_argv(spare, inside_env(spare, {"CLAUDE_CONFIG_DIR": "/r/cfg"}), [])
    binds = [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == "--bind"]
    # THEN nothing else of the host's workspace root is in it, and the CLI starts in the park
    assert ("/tmp/run-1/workspaces", "/w") in binds and not any(inside == "/w/t_1/demo" for _, inside in binds)
    assert argv[argv.index("--chdir") + 1] == "/r/cfg/park"


@pytest.fixture
async def gateway(tmp_path):
    """A gateway in front of an upstream that answers with the credential it was sent."""
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"x-api-key": request.headers.get("x-api-key"), "path": request.path_qs})

    app = web.Application()
    app.router.add_post("/v1/messages", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    gw = await ModelGateway(tmp_path / "model.sock", new_run_token(), upstream,
                            UpstreamCredential(api_key="sk-platform-key")).start()
    yield gw
    await gw.close()
    await runner.cleanup()


async def _post(gw: ModelGateway, key: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(gw.socket_path))) as session:
        async with session.post("http://gateway/v1/messages?beta=true", json={}, headers={"x-api-key": key}) as reply:
            return reply.status, await reply.json()


async def test_the_gateway_forwards_with_the_platform_key_only_for_the_runs_token(gateway):
    # GIVEN the run's token  WHEN the CLI calls through the gateway  THEN upstream gets the platform's key
    status, seen = await _post(gateway, gateway.token)
    assert status == 200 and seen == {"x-api-key": "sk-platform-key", "path": "/v1/messages?beta=true"}
    # and any other key is refused before anything goes upstream
    status, refused = await _post(gateway, "sk-ant-api03-run-someone-else")
    assert status == 401 and refused["error"]["type"] == "authentication_error" and gateway.refused == 1


async def test_a_closed_gateway_takes_no_calls(gateway, tmp_path):
    await gateway.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await _post(gateway, gateway.token)


@pytest.fixture
async def metered_gateway(tmp_path):
    """A gateway with a $1 budget in front of the scripted model."""
    with ScriptedModel() as model:
        gw = await ModelGateway(tmp_path / "model.sock", new_run_token(), model.base_url,
                                UpstreamCredential(api_key="sk-platform-key"), Limits(max_cost_usd=1.0)).start()
        yield gw, model
        await gw.close()


async def _call(gw: ModelGateway, prompt: str, *, stream: bool) -> str:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 4096, "stream": stream,
            "messages": [{"role": "user", "content": prompt}]}
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(gw.socket_path))) as session:
        async with session.post("http://gateway/v1/messages", json=body, headers={"x-api-key": gw.token}) as reply:
            assert reply.status == 200
            return await reply.text()


@pytest.mark.parametrize("stream", [True, False])
async def test_the_gateway_meters_each_call_and_sends_none_upstream_past_the_budget(metered_gateway, stream):
    gw, model = metered_gateway
    # GIVEN one call that spends $2 of a $1 budget (the CLI itself was given no budget)
    await _call(gw, "[fake:cost usd=2 cli_budget=off]", stream=stream)
    assert gw.meter.cost_usd() == pytest.approx(2.0, rel=0.01) and gw.exhausted is None
    # WHEN the CLI asks for another call
    answer = await _call(gw, "[fake:cost usd=2 cli_budget=off] again", stream=stream)
    # THEN the gateway answers it itself, ending the turn, and upstream never sees it
    assert "budget is spent" in answer and "end_turn" in answer
    assert len(model.message_requests()) == 1 and gw.exhausted.startswith("maxCostUsd 1.00 exceeded")


def test_a_run_the_gateway_stopped_is_budget_exceeded_and_billed_what_it_metered(tmp_path):
    gw = ModelGateway(tmp_path / "s", "t", "", UpstreamCredential(), Limits(max_cost_usd=1.0))
    gw.meter.record("call-1", "claude-sonnet-4-5", {"output_tokens": 200_000})  # $3.00
    gw.exhausted = "maxCostUsd 1.00 exceeded"
    run = Confinement(AgentRequest(prompt="p", cwd=str(tmp_path)), gw)
    # A CLI that finished its turn but reported less than the calls cost (or crashed: nothing)
    reported = AgentOutcome(status="completed", usage={}, cost_usd=0.5, duration_ms=1, num_turns=2, session_id=None)
    settled = run.settle(reported)
    assert settled.status == "budget_exceeded" and "stopped by the gateway" in settled.error
    assert settled.cost_usd == pytest.approx(3.0)
    crashed = AgentOutcome(status="failed", usage={}, cost_usd=0.0, duration_ms=1, num_turns=0, session_id=None,
                           error="Claude Code exited with code -9 before finishing")
    gw.exhausted = None
    assert run.settle(crashed).cost_usd == pytest.approx(3.0) and run.settle(crashed).status == "failed"
