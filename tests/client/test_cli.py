"""``cloutagent`` as a user runs it: a child process against the real local stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid

import pytest

from tests.conftest import new_user

pytestmark = pytest.mark.e2e


class Cli:
    """Runs ``python -m cloutagent_client …`` with its own HOME (so its own config) and working directory."""

    def __init__(self, stack, home):
        self.stack = stack
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUTAGENT_")}
        self.env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "PYTHONUNBUFFERED": "1"})

    def argv(self, args, local=True):
        return [sys.executable, "-m", "cloutagent_client", *args, *(["--ready-file", str(self.stack.ready_file)] if local else [])]

    async def start(self, *args, local=True, stdin=None):
        return await asyncio.create_subprocess_exec(
            *self.argv(args, local), cwd=self.home, env=self.env, stdin=asyncio.subprocess.PIPE if stdin else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    async def __call__(self, *args, local=True, stdin=None, timeout=30):
        process = await self.start(*args, local=local, stdin=stdin)
        out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin else None), timeout)
        return process.returncode, out.decode(), err.decode()

    async def json(self, *args, local=True):
        code, out, err = await self(*args, "--json", local=local)
        assert code == 0, err
        return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def cli(stack, tmp_path):
    return Cli(stack, tmp_path)


def unique(name):
    """Project names are per test run: the dev tenant is shared by the whole session."""
    return f"{name}-{uuid.uuid4().hex[:6]}"


async def test_run_streams_the_agents_output_as_it_comes_and_exits_0(cli):
    # GIVEN a project made with the CLI
    name = unique("cli-live")
    [project] = await cli.json("projects", "create", name)
    # WHEN a run streams 12 messages 150 ms apart
    process = await cli.start("run", name, "[fake:stream n=12 delay_ms=150]")
    first = await asyncio.wait_for(process.stdout.readline(), 30)
    # THEN the first message is on the screen while the run is still going
    assert first.decode().strip() == "Streaming message 1 of 12." and process.returncode is None
    rest, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    lines = [first.decode().strip(), *rest.decode().splitlines()]
    assert lines == [f"Streaming message {i} of 12." for i in range(1, 13)]
    assert "■ completed" in err.decode() and "tokens · $0.0" in err.decode()
    # and the log of that run can be read back, as text or JSON lines
    code, text, _ = await cli("logs", project["projectId"], "--since", "1h", "--events", "execution.finished")
    assert code == 0 and "■ completed" in text
    events = await cli.json("logs", name, "--events", "execution.message")
    assert [e["data"]["text"] for e in events if e["data"]["kind"] == "text"] == lines


async def test_ctrl_c_cancels_the_run_and_exits_non_zero_with_its_status(cli):
    name = unique("cli-cancel")
    await cli.json("projects", "create", name)
    process = await cli.start("run", name, "[fake:sleep seconds=30]")
    # wait until the agent is busy (its model stalls mid-reply)
    while b"Sleeping for 30 seconds." not in await asyncio.wait_for(process.stdout.readline(), 30):
        pass
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 1
    assert "■ cancelled" in err.decode()
    [project] = [p for p in await cli.json("projects", "list") if p["name"] == name]
    assert project["state"] == "idle"


async def test_exit_codes_tell_scripts_what_went_wrong(cli, stack, ready):
    twin = unique("cli-twin")
    await cli.json("projects", "create", twin)
    await cli.json("projects", "create", twin)
    results = await asyncio.gather(
        cli("projects", "delete", "no-such-project"),                                   # not found
        cli("run", twin, "hi"),                                                         # ambiguous name
        cli("projects"),                                                                # no verb
        cli("projects", "list", local=False),                                           # not logged in
        cli("projects", "list", "--url", ready["wsUrl"], "--api-key", "cla_revoked", local=False),  # refused
        cli("logs", twin, "--since", "yesterday-ish"),                                  # bad --since
    )
    assert [code for code, _, _ in results] == [4, 2, 2, 3, 3, 2]
    assert "PROJECT_NOT_FOUND" in results[0][2] and "use the id" in results[1][2]


async def test_a_prompt_over_the_frame_limit_is_a_size_error_not_a_lost_connection(cli):
    name = unique("cli-big")
    await cli.json("projects", "create", name)
    code, out, err = await cli("run", name, "-", stdin="x" * 200_000)
    assert code == 2, err
    assert "MESSAGE_TOO_LARGE" in err and "at most 128 KB" in err and "CONNECTION_LOST" not in err


async def test_a_ready_file_left_by_a_stopped_stack_says_to_start_the_stack(cli, tmp_path):
    stale = tmp_path / "ready.json"
    stale.write_text(json.dumps({"wsUrl": "ws://127.0.0.1:9/", "apiKey": "cla_gone"}))
    code, _, err = await cli("projects", "list", "--ready-file", str(stale), local=False)
    assert code == 5 and "CONNECTION_FAILED" in err and "start it with `make dev`" in err, err


async def test_login_remembers_the_local_stack_and_projects_can_be_deleted_by_name(cli):
    code, out, _ = await cli("login")
    assert code == 0 and "Logged in" in out
    # no flags from here on: the saved login is used
    [me] = await cli.json("whoami", local=False)
    assert me["role"] == "owner"
    doomed = unique("cli-doomed")
    await cli.json("projects", "create", doomed)
    code, out, _ = await cli("projects", "delete", doomed, local=False)
    assert code == 0 and "deleted" in out
    assert doomed not in [p["name"] for p in await cli.json("projects", "list")]
    assert (await cli("logout", local=False))[0] == 0
    assert (await cli("whoami", local=False))[0] == 3


async def test_ci_credentials_come_from_the_environment_and_flags_beat_them(cli, ready):
    cli.env.update({"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_KEY": ready["apiKey"]})
    [me] = await cli.json("whoami", local=False)  # no flag, no file: the environment
    assert me["tenantId"] == ready["tenantId"]
    code, _, err = await cli("whoami", "--api-key", "cla_not-a-key", local=False)
    assert code == 3, err  # a flag beats the environment


async def test_logins_are_named_profiles_in_xdg_config_written_0600_and_the_environment_beats_them(cli, ready):
    # a key from stdin, never from argv, saved as profile "ci"
    code, out, err = await cli("login", "--url", ready["wsUrl"], "--with-token", "--profile", "ci",
                               stdin=ready["apiKey"] + "\n", local=False)
    assert code == 0, err
    config = cli.home / ".config" / "cloutagent" / "config.json"
    assert oct(config.stat().st_mode & 0o777) == "0o600" and ready["apiKey"] not in out
    assert json.loads(config.read_text())["profiles"]["ci"] == {"url": ready["wsUrl"], "apiKey": ready["apiKey"]}
    assert (await cli("whoami", local=False))[0] == 3  # no "default" profile
    [me] = await cli.json("whoami", "--profile", "ci", local=False)
    assert me["tenantId"] == ready["tenantId"]
    cli.env["CLOUTAGENT_PROFILE"] = "ci"
    assert (await cli("whoami", local=False))[0] == 0
    cli.env["CLOUTAGENT_API_KEY"] = "cla_revoked-or-wrong"
    assert (await cli("whoami", local=False))[0] == 3  # the environment beats the saved profile
    del cli.env["CLOUTAGENT_API_KEY"]
    assert (await cli("logout", local=False))[0] == 0
    assert json.loads(config.read_text())["profiles"] == {}


async def test_an_admin_runs_the_team_from_the_cli_alone(cli, ready, make_user):
    owner = make_user(prefix="cli-team-owner")  # a tenant of its own: the dev tenant is shared
    cli.env.update({"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_TOKEN": owner["token"]})
    email = f"colleague-{uuid.uuid4().hex[:8]}@example.com"
    [invited] = await cli.json("members", "invite", email, local=False)
    assert invited["email"] == email and invited["role"] == "member" and invited["status"] == "pending"
    # the colleague signs up, sees the invitation and accepts it, from the CLI too
    colleague = new_user(ready, email)
    assert colleague["tenantId"] is None  # no tenant until they accept
    cli.env["CLOUTAGENT_TOKEN"] = colleague["token"]
    [mine] = await cli.json("invitations", "list", local=False)
    code, out, err = await cli("invitations", "accept", mine["invitationId"], local=False)
    assert code == 0, err
    cli.env["CLOUTAGENT_TOKEN"] = owner["token"]
    code, out, err = await cli("members", "set-role", email, "viewer", local=False)
    assert code == 0 and "is now viewer" in out, err
    members = {m["email"]: m["role"] for m in await cli.json("members", "list", local=False)}
    assert members[email] == "viewer" and members[owner["email"]] == "owner"

    code, key, err = await cli("keys", "create", "ci-viewer", "--role", "viewer", local=False)
    key = key.strip()
    assert code == 0 and key.startswith("cla_") and "only time the key is shown" in err
    listed = {k["keyId"]: k for k in await cli.json("keys", "list", local=False)}
    [mine] = [k for k in listed.values() if k["name"] == "ci-viewer"]
    assert mine["role"] == "viewer" and mine["revokedAt"] is None and key not in json.dumps(listed)
    as_key = {"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_API_KEY": key}
    cli.env.pop("CLOUTAGENT_TOKEN")
    cli.env.update(as_key)
    [me] = await cli.json("whoami", local=False)
    assert me["role"] == "viewer"
    cli.env.pop("CLOUTAGENT_API_KEY")
    cli.env["CLOUTAGENT_TOKEN"] = owner["token"]
    code, out, err = await cli("keys", "revoke", "ci-viewer", local=False)
    assert code == 0 and mine["keyId"] in out, err
    cli.env.pop("CLOUTAGENT_TOKEN")
    cli.env.update(as_key)
    code, _, err = await cli("whoami", local=False)
    assert code == 3 and "UNAUTHORIZED" in err  # the revoked key's next handshake fails
    cli.env.pop("CLOUTAGENT_API_KEY")
    cli.env["CLOUTAGENT_TOKEN"] = owner["token"]
    code, out, err = await cli("members", "remove", email, local=False)
    assert code == 0 and email in out, err


async def test_version_names_the_client_distribution(cli):
    code, out, _ = await cli("--version", local=False)
    assert code == 0 and out.startswith("cloutagent ") and out.split()[1][0].isdigit()


async def test_secrets_and_usage(cli, sdk):
    client = await sdk()
    try:
        await client.request("secret.list", {"projectId": "p_probe"})
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "code", "") == "UNKNOWN_ACTION":
            pytest.skip("secret.* is not served by this stack yet")
    name = unique("cli-secrets")
    await cli.json("projects", "create", name)
    code, out, err = await cli("secrets", "set", name, "DEPLOY_TOKEN", stdin="s3cr3t\n")
    assert code == 0, err
    listed = await cli.json("secrets", "list", name)
    assert [s["name"] for s in listed] == ["DEPLOY_TOKEN"] and "s3cr3t" not in json.dumps(listed)
    assert (await cli("secrets", "delete", name, "DEPLOY_TOKEN"))[0] == 0
    assert await cli.json("secrets", "list", name) == []
    code, out, err = await cli("usage")
    assert code == 0, err
    # in words, not raw keys or Python values
    assert out.startswith("plan ") and "spend cap a month" in out and "spend " in out and "runs " in out
    assert not any(raw in out for raw in ("None", "False", "True", "spendUsd", "entitlements."))
    [both] = await cli.json("usage")
    assert "spendUsd" in both["usage"] and "entitlements" in both["plan"]  # scripts still get the fields
