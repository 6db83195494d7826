"""The real CLI runs the tools the scripted model asks for: files change, results come back."""

from __future__ import annotations

import json

from claude_agent_sdk import ProcessError, ResultMessage


async def test_bash_directive_runs_for_real(options, cli, tmp_path):
    # GIVEN bypassPermissions (IS_SANDBOX=1, since tests may run as root)
    work = tmp_path / "bash"
    # WHEN the model asks for a Bash command that writes and reads a file
    run = await cli('[fake:bash command="echo hi > probe.txt && cat probe.txt"]', options(cwd=work))
    # THEN the file exists, the tool result says hi, and the closing text echoes it
    assert (work / "probe.txt").read_text() == "hi\n"
    assert [r.content for r in run.tool_results()] == ["hi"]
    assert run.result.subtype == "success" and run.result.result == "Done. The last tool call returned:\nhi"
    assert run.error is None


async def test_write_directive_resolves_a_relative_path_in_the_cwd(options, cli, tmp_path):
    # GIVEN acceptEdits, which is all Write inside the working directory needs
    work = tmp_path / "write"
    run = await cli('[fake:write path=notes.md text="hello\\nworld"]', options(cwd=work, permission_mode="acceptEdits"))
    assert (work / "notes.md").read_text() == "hello\nworld"
    (write,) = run.tool_uses()
    assert write.name == "Write" and write.input["file_path"] == str(work / "notes.md")
    assert run.result.subtype == "success"


async def test_env_says_whether_variables_are_set_never_their_values(options, cli, scripted_model):
    # GIVEN one variable set, one set but empty, one absent, in the CLI's environment
    env = {"CLOUT_PROBE_SET": "s3cr3t-value-42", "CLOUT_PROBE_EMPTY": ""}
    prompt = "[fake:env name=CLOUT_PROBE_SET] [fake:env name=CLOUT_PROBE_EMPTY] [fake:env name=CLOUT_PROBE_NONE]"
    # WHEN the model checks them with real Bash calls
    run = await cli(prompt, options(env=env))
    # THEN it reports each state, and the value never reaches the model or the caller
    verdicts = [t for t in run.texts() if t.startswith("Environment variable")]
    assert verdicts == ["Environment variable CLOUT_PROBE_SET is set.",
                        "Environment variable CLOUT_PROBE_EMPTY is set but empty.",
                        "Environment variable CLOUT_PROBE_NONE is not set."]
    assert "s3cr3t-value-42" not in json.dumps(scripted_model.requests)
    assert "s3cr3t-value-42" not in repr(run.messages)


async def test_env_reports_a_denied_check(options, cli):
    # GIVEN the default permission mode with no one to approve: the CLI refuses the check
    run = await cli("[fake:env name=HOME]", options(permission_mode="default"))
    (verdict,) = run.texts()
    assert verdict.startswith("Environment variable HOME could not be checked: ")
    assert run.result.subtype == "success"


async def test_crash_kills_the_cli_mid_run_without_a_result(options, cli):
    # GIVEN bypassPermissions, so the Bash call that SIGKILLs the CLI is allowed
    run = await cli("[fake:crash code=3]", options())
    # THEN the stream ends with no result and the SDK reports the dead process
    assert run.texts() == ["Crashing the CLI now."]
    assert not any(isinstance(m, ResultMessage) for m in run.messages)
    assert isinstance(run.error, ProcessError) and run.error.exit_code == -9


async def test_default_reply_and_resume_show_the_earlier_conversation(options, cli, tmp_path):
    # GIVEN a first session with the default reply (text, Bash ls, closing text)
    work = tmp_path / "resume"
    (work / "README.md").parent.mkdir(parents=True)
    (work / "README.md").write_text("# x\n")
    first = await cli("hello", options(cwd=work))
    assert first.texts()[0] == "I'll take a look at the project first."
    assert [r.content for r in first.tool_results()] == ["README.md"]
    # WHEN it is resumed
    second = await cli("hello again", options(cwd=work, resume=first.result.session_id))
    # THEN the model saw the earlier messages (prompt, reply with tool call, result, closing)
    assert second.texts()[0].startswith("Resumed session with 4 earlier transcript entries.")
    assert second.result.session_id == first.result.session_id
