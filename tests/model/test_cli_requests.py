"""What the real CLI sends the model: system prompt, tools, headers; what it says at init."""

from __future__ import annotations

from pathlib import Path

import claude_agent_sdk


def bundled_cli_version() -> str:
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude.version"
    return bundled.read_text().split()[0]  # "2.1.332 (Claude Code)"


async def test_requests_show_the_system_prompt_tools_and_masked_key(options, cli, scripted_model):
    # GIVEN the claude_code preset with an appended marker, and Write disallowed
    prompt_options = options(system_prompt={"type": "preset", "preset": "claude_code", "append": "MARKER-7f3a"},
                             disallowed_tools=["Write"], permission_mode="default")
    run = await cli("[fake:stream n=1]", prompt_options)
    (request,) = scripted_model.message_requests()
    # THEN the model saw the preset with the marker, the tools without Write, and no credential
    assert "MARKER-7f3a" in request["system"] and "Claude" in request["system"]
    assert "Bash" in request["tools"] and "Write" not in request["tools"]
    assert request["headers"]["x-api-key"] == "[masked]"
    assert request["headers"]["user-agent"].startswith(f"claude-cli/{bundled_cli_version()}")
    assert request["messages"][0]["role"] == "user" and request["stream"] is True
    # AND the init message names the CLI's version and the tools it offers
    assert run.init.data["claude_code_version"] == bundled_cli_version()
    assert "Write" not in run.init.data["tools"]


async def test_tools_option_limits_what_the_model_is_offered(options, cli, scripted_model):
    # GIVEN only Read and Bash available, with Bash pre-approved
    await cli("[fake:stream n=1]", options(tools=["Read", "Bash"], allowed_tools=["Bash"], permission_mode="default"))
    (request,) = scripted_model.message_requests()
    # (a placeholder the CLI always adds keeps deferred tool loading active; it is never called)
    assert sorted(set(request["tools"]) - {"DeferredToolPlaceholder"}) == ["Bash", "Read"]


async def test_only_messages_calls_reach_the_model(options, cli, scripted_model):
    # GIVEN the environment the scripted model's cli_env sets (non-essential traffic off)
    await cli("hello", options())
    # THEN the CLI calls nothing but POST /v1/messages?beta=true (no side calls, no other routes)
    assert {(r["method"], r["path"]) for r in scripted_model.requests} == {("POST", "/v1/messages?beta=true")}


async def test_allowed_tools_only_pre_approve_while_disallowed_tools_are_withheld(options, cli, scripted_model, tmp_path):
    # GIVEN Bash disallowed (the CLI then offers Glob and Grep instead) and Read pre-approved
    work = tmp_path / "glob"
    work.mkdir()
    (work / "README.md").write_text("x")
    run = await cli("hello", options(cwd=work, allowed_tools=["Read"], disallowed_tools=["Bash"], permission_mode="default"))
    offered = set(scripted_model.message_requests()[0]["tools"])
    # THEN Bash is not offered, Read still is, and the default reply lists files with Glob
    assert "Bash" not in offered and {"Read", "Glob", "Write"} <= offered
    assert [t.name for t in run.tool_uses()] == ["Glob"]
    assert "README.md" in str(run.tool_results()[0].content)
