"""The fake claude's wire protocol, spoken to directly (no SDK), for what the SDK rarely sends."""

from __future__ import annotations

import json
import subprocess

FLAGS = ["--output-format", "stream-json", "--verbose", "--system-prompt", "", "--input-format", "stream-json"]


def _converse(fake_claude: str, frames: list[dict], *extra: str, env: dict | None = None, cwd=None):
    stdin = "".join(json.dumps(frame) + "\n" for frame in frames)
    done = subprocess.run([fake_claude, *FLAGS, *extra], input=stdin, capture_output=True, text=True,
                          timeout=30, env=env, cwd=cwd)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _control(request_id: str, subtype: str, **fields) -> dict:
    return {"type": "control_request", "request_id": request_id, "request": {"subtype": subtype, **fields}}


def _user(text: str) -> dict:
    return {"type": "user", "message": {"role": "user", "content": text}, "parent_tool_use_id": None,
            "session_id": "default"}


def _responses(frames: list[dict]) -> dict[str, dict]:
    return {f["response"]["request_id"]: f["response"] for f in frames if f["type"] == "control_response"}


def test_version_flag(fake_claude):
    done = subprocess.run([fake_claude, "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "2.1.329 (Claude Code)"


def test_refuses_stream_json_without_verbose(fake_claude):
    done = subprocess.run([fake_claude, "--output-format", "stream-json", "--input-format", "stream-json"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "--verbose" in done.stderr


def test_every_control_request_gets_a_matching_response(fake_claude):
    # GIVEN the control requests the SDK can send, plus one it cannot
    frames = [
        _control("init", "initialize", hooks=None), _control("idle-interrupt", "interrupt"),
        _control("mode", "set_permission_mode", mode="acceptEdits"), _control("model", "set_model", model="opus"),
        _control("mcp", "mcp_status"), _control("ctx", "get_context_usage"),
        _control("toggle", "mcp_toggle", serverName="x", enabled=False), _control("bogus", "no_such_thing"),
    ]
    # WHEN they are sent and stdin closes
    code, out = _converse(fake_claude, frames)
    responses = _responses(out)
    # THEN each is answered in kind, and the CLI exits cleanly
    assert code == 0 and set(responses) == {f["request_id"] for f in frames}
    assert responses["init"]["subtype"] == "success" and responses["init"]["response"]["commands"]
    assert responses["idle-interrupt"]["subtype"] == "success"
    assert responses["mcp"]["response"] == {"mcpServers": []}
    assert responses["toggle"]["subtype"] == "error" and responses["bogus"]["subtype"] == "error"


def test_a_turn_finishes_after_stdin_closes(fake_claude):
    # GIVEN the one-shot pattern: prompt written, stdin closed at once
    code, out = _converse(fake_claude, [_control("i", "initialize", hooks=None), _user("hi")], "--model", "opus")
    # THEN the turn still runs to its result, with the model asked for
    assert code == 0 and out[-1]["type"] == "result" and out[-1]["subtype"] == "success"
    init = next(f for f in out if f.get("subtype") == "init")
    assert init["model"] == "opus" and init["session_id"] == out[-1]["session_id"]


def test_an_error_result_makes_the_exit_code_non_zero(fake_claude):
    code, out = _converse(fake_claude, [_user("[fake:error subtype=error_max_turns]")])
    assert code == 1 and out[-1]["is_error"] is True and out[-1]["subtype"] == "error_max_turns"


def test_disallowed_tools_leave_the_default_reply_without_them(fake_claude):
    code, out = _converse(fake_claude, [_user("hi")], "--disallowedTools", "Bash,Glob")
    tools = [b["name"] for f in out if f["type"] == "assistant" for b in f["message"]["content"] if b["type"] == "tool_use"]
    assert tools == ["Read"]


def test_session_mirror_writes_transcript_frames_under_the_config_dir(fake_claude, tmp_path):
    # GIVEN --session-mirror and a config dir
    env = {"PATH": "/usr/bin:/bin", "CLAUDE_CONFIG_DIR": str(tmp_path)}
    code, out = _converse(fake_claude, [_user("hi")], "--session-mirror", env=env, cwd=tmp_path)
    mirrors = [f for f in out if f["type"] == "transcript_mirror"]
    session_id = out[-1]["session_id"]
    # THEN every conversation frame is mirrored, chained, to <config>/projects/<key>/<id>.jsonl
    assert code == 0 and len(mirrors) == 5
    assert all(m["filePath"].startswith(f"{tmp_path}/projects/") for m in mirrors)
    assert mirrors[0]["filePath"].endswith(f"/{session_id}.jsonl")
    entries = [m["entries"][0] for m in mirrors]
    assert [e["parentUuid"] for e in entries[1:]] == [e["uuid"] for e in entries[:-1]]
