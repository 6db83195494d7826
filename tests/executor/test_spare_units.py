"""What a spare CLI can serve, and how it hands a run its secrets (spare.py)."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from cloutagent_executor.models import AgentRequest
from cloutagent_executor.settings import ExecutorSettings
from cloutagent_executor.spare import SpareCli, env_file_text, refusal

FRESH = AgentRequest(prompt="hi", cwd="/w/t_1/demo", model="claude-sonnet-4-5", system_prompt="Be brief.",
                     permission_mode="bypassPermissions", env={"TOKEN": "x"}, max_cost_usd=1.0)


def test_a_fresh_session_with_a_prompt_a_mode_a_model_secrets_and_limits_is_served():
    assert refusal(FRESH) is None


@pytest.mark.parametrize("field, value, why", [
    ("resume_session_id", "s-1", "resumes a session"),
    ("max_turns", 5, "caps turns"),
    ("project_settings", True, "settings files"),
    ("allowed_tools", ["Bash"], "allows or denies tools"),
    ("disallowed_tools", ["WebFetch"], "allows or denies tools"),
])
def test_what_the_cli_takes_only_at_start_up_sends_the_run_to_a_cli_of_its_own(field, value, why):
    assert why in refusal(replace(FRESH, **{field: value}))


def test_the_env_file_gives_bash_each_secret_exactly_whatever_it_holds(tmp_path):
    hostile = {"PLAIN": "abc", "QUOTES": "it's \"quoted\"", "SHELL_BITS": "$(touch pwned) `id` $HOME; rm -rf /",
               "LINES": "one\ntwo", "BACKSLASH": "a\\b"}
    env_file = tmp_path / "agent-env.sh"
    env_file.write_text(env_file_text(hostile))
    names = " ".join(f'"${name}"' for name in sorted(hostile))
    out = subprocess.run(["bash", "-c", f'. "$1"; printf "%s\\0" {names}', "bash", str(env_file)],
                         capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert out.split("\0")[:-1] == [hostile[name] for name in sorted(hostile)]
    assert not (tmp_path / "pwned").exists()


async def test_a_spare_removes_only_the_config_directory_it_made(scripted_model, tmp_path, monkeypatch):
    # GIVEN settings that name a config directory someone else owns (a developer's, say)
    for name, value in scripted_model.cli_env(IS_SANDBOX="1").items():
        monkeypatch.setenv(name, value)
    theirs = tmp_path / "their-claude-config"
    theirs.mkdir()
    (theirs / "settings.json").write_text("{}")
    settings = ExecutorSettings(claim_queue_url="http://127.0.0.1/claims", claude_config_dir=str(theirs),
                                workspace_root=str(tmp_path / "workspaces"))
    # WHEN a spare starts and is closed
    spare = await SpareCli.start(settings)
    made = spare.config_dir
    assert spare.alive and made != theirs
    await spare.close()
    # THEN its own directory is gone and theirs is untouched
    assert not made.exists() and (theirs / "settings.json").read_text() == "{}"
