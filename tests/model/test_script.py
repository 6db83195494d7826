"""How a request's conversation picks the scripted reply: no state, only the messages sent."""

from __future__ import annotations

from typing import Any

from cloutagent_dev.model.reply import Text, ToolUse
from cloutagent_dev.model.script import answer

REMINDER = {"type": "text", "text": "<system-reminder>\nAttribution ...\n</system-reminder>\n"}
ENVIRONMENT = {"role": "system", "content": "# Environment\n - Primary working directory: /work/here\n"}


def body(*messages: dict[str, Any], tools: tuple[str, ...] = ("Bash", "Read", "Write")) -> dict[str, Any]:
    """A request shaped like the CLI's: the prompt, its environment message, then the exchange."""
    return {"model": "claude-opus-5-5", "system": [{"type": "text", "text": "You are..."}],
            "tools": [{"name": name} for name in tools], "messages": list(messages), "stream": True}


def prompt(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [REMINDER, {"type": "text", "text": text}]}


def said(*blocks: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": b.text} if isinstance(b, Text) else
               {"type": "tool_use", "id": b.id, "name": b.name, "input": b.input} for b in blocks]
    return {"role": "assistant", "content": content}


def result(text: str, is_error: bool = False, tool_use_id: str = "toolu_1") -> dict[str, Any]:
    return {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool_use_id, "content": text, "is_error": is_error}]}


def texts(reply) -> list[str]:
    return [b.text for b in reply.blocks if isinstance(b, Text)]


def test_progress_is_read_from_the_replies_already_in_the_conversation():
    # GIVEN a bash directive then an env directive, at three points of the same turn
    first = body(prompt('[fake:bash command="echo hi"] [fake:env name=HOME]'), ENVIRONMENT)
    call_one = answer(first)
    second = body(*first["messages"], said(*call_one.blocks), result("hi"))
    call_two = answer(second)
    third = body(*second["messages"], said(*call_two.blocks), result("is set"))
    # THEN each request gets the next call of the plan
    assert [b.input["command"] for b in call_one.blocks] == ["echo hi"]
    assert call_two.blocks[0].name == "Bash" and "${HOME+x}" in call_two.blocks[0].input["command"]
    assert texts(answer(third)) == ["Environment variable HOME is set."]


def test_a_denied_env_check_says_why():
    first = body(prompt("[fake:env name=SECRET_X]"), ENVIRONMENT)
    check = answer(first)
    denied = body(*first["messages"], said(*check.blocks), result("Permission denied by policy", is_error=True))
    assert texts(answer(denied)) == ["Environment variable SECRET_X could not be checked: Permission denied by policy"]


def test_an_invalid_env_name_is_refused_without_a_tool_call():
    reply = answer(body(prompt("[fake:env name=1BAD-NAME]")))
    assert texts(reply) == ["'1BAD-NAME' is not a valid environment variable name."]
    assert reply.stop_reason == "end_turn"


def test_a_text_only_call_in_the_middle_gets_a_harmless_tool_call():
    reply = answer(body(prompt("[fake:big bytes=12] [fake:bash command=ls]")))
    assert [b.text for b in reply.blocks if isinstance(b, Text)] == ["The quick br"]
    assert [(b.name, b.input["command"]) for b in reply.blocks if isinstance(b, ToolUse)] == [("Bash", "true")]
    assert reply.stop_reason == "tool_use"


def test_without_bash_the_chain_uses_a_tool_that_does_not_exist():
    reply = answer(body(prompt("[fake:stream n=1] [fake:stream n=1]"), tools=("Read",)))
    assert [b.name for b in reply.blocks if isinstance(b, ToolUse)] == ["ScriptedModelContinue"]


def test_the_closing_text_echoes_the_last_tool_result():
    first = body(prompt("[fake:bash command=pwd]"))
    call = answer(first)
    after = body(*first["messages"], said(*call.blocks), result("/work/here"))
    reply = answer(after)
    assert texts(reply) == ["Done. The last tool call returned:\n/work/here"]
    assert reply.stop_reason == "end_turn"


def test_a_follow_up_prompt_starts_its_own_directives():
    # GIVEN an interrupted first turn and a new prompt merged with the interruption marker
    first = body(prompt("[fake:sleep seconds=30]"), ENVIRONMENT)
    follow_up = {"role": "user", "content": [{"type": "text", "text": "[Request interrupted by user]\n"},
                                              {"type": "text", "text": "[fake:stream n=2]"}]}
    request = body(*first["messages"], said(Text("Sleeping for 30 seconds.")), follow_up)
    # THEN the new prompt's first call is answered
    assert texts(answer(request)) == ["Streaming message 1 of 2.", "Streaming message 2 of 2."]


def test_the_clis_own_nudges_do_not_count_as_a_new_prompt():
    nudge = {"role": "user", "content": [
        {"type": "text", "text": "[Your previous response had no visible output. Please continue.]"}]}
    reply = answer(body(prompt("[fake:error]"), ENVIRONMENT, nudge))
    assert reply.blocks == [] and reply.stop_reason == "stop_sequence"


def test_earlier_history_shows_in_the_default_reply():
    history = [prompt("hello"), said(Text("Hi")), {"role": "user", "content": "again"}]
    reply = answer(body(*history))
    assert texts(reply)[0].startswith("Resumed session with 2 earlier transcript entries.")


def test_the_default_reply_lists_files_only_with_a_listing_tool():
    with_bash = answer(body(prompt("hello")))
    without = answer(body(prompt("hello"), tools=("Read", "Write")))
    assert [b.input for b in with_bash.blocks if isinstance(b, ToolUse)] == [{"command": "ls", "description": "List files"}]
    assert without.stop_reason == "end_turn" and len(without.blocks) == 1


def test_write_paths_are_made_absolute_against_the_clis_working_directory():
    reply = answer(body(prompt('[fake:write path=docs/notes.md text="a \\"b\\""]'), ENVIRONMENT))
    (write,) = reply.blocks
    assert write.name == "Write" and write.input == {"file_path": "/work/here/docs/notes.md", "content": 'a "b"'}


def test_any_tool_call_with_json_input():
    reply = answer(body(prompt('[fake:tool name=Read input={"file_path": "/etc/hostname", "limit": 1}]')))
    assert [(b.name, b.input) for b in reply.blocks] == [("Read", {"file_path": "/etc/hostname", "limit": 1})]


def test_tokens_spread_over_calls_and_cost_prices_to_the_amount():
    tokens = answer(body(prompt("[fake:tokens n=1000 messages=3]")))
    assert texts(tokens) == ["Token chunk 1 of 3."] and tokens.usage["output_tokens"] == 333
    one_call = answer(body(prompt("[fake:cost usd=0.5 messages=4 cli_budget=off]")))
    assert texts(one_call) == [f"Cost chunk {i} of 4." for i in range(1, 5)]
    # claude-opus-5-5: $4 input, $20 output per million tokens
    assert abs(3 * 4 + one_call.usage["output_tokens"] * 20 - 500_000) <= 20


def test_say_answers_with_its_text_as_given_and_ends_the_turn():
    # GIVEN a say directive whose quoted text holds Markdown, markup and escaped newlines
    said_text = r'[fake:say text="# Title\n\n- one\n<script>alert(1)</script>"]'
    # WHEN the model answers it
    reply = answer(body(prompt(said_text)))
    # THEN one call answers with exactly that text, newlines unescaped, and the turn ends
    assert texts(reply) == ["# Title\n\n- one\n<script>alert(1)</script>"]
    assert reply.stop_reason == "end_turn"


def test_the_clis_tiny_probe_calls_get_a_one_word_answer():
    probe = {"model": "claude-sonnet-4-5", "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]}
    reply = answer(probe)
    assert texts(reply) == ["OK"] and reply.usage["output_tokens"] == 1


def test_malformed_requests_still_get_a_reply():
    odd_bodies = [
        {"model": "x", "messages": "nope", "tools": "bad", "system": 5},
        {"model": "x", "messages": [None, 3, {"role": "user", "content": [1, {"type": "text", "text": None}]}]},
        {"model": "x", "messages": [{"role": "user", "content": [{"type": "tool_result", "content": [{"type": "text"}]}]}]},
    ]
    for odd in odd_bodies:
        assert answer(odd).stop_reason in ("end_turn", "tool_use")
