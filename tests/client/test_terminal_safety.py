"""The CLI never hands a terminal the service's control or formatting characters: names, the
agent's words and tool output show them as visible escapes (the agent is untrusted)."""

from __future__ import annotations

import io
import re

from cloutagent_client.cli.output import Output, display_width, shown
from cloutagent_client.cli.render import Style, event_line, message, steering_line


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0 or c in "\u202e\u2066\u200b"]


def test_a_table_shows_a_hostile_name_as_escapes_and_keeps_its_columns():
    buffer = io.StringIO()
    Output(json_mode=False, stdout=buffer).table(
        [{"projectId": "p_1", "name": "\x1b]0;owned\x07demo\u202egpj.exe"}, {"projectId": "p_2", "name": "web"}],
        [("ID", "projectId"), ("NAME", "name")])
    text = buffer.getvalue()
    assert not _raw_controls(text)
    assert "\\x1b]0;owned\\x07demo\\u202egpj.exe" in text and len(text.splitlines()) == 3


def test_the_agent_s_words_keep_their_lines_but_not_their_escape_sequences():
    data = {"kind": "text", "role": "assistant", "text": "done\n\x1b[2J\x1b[H\tnext \x9b31m"}
    rendered = message(data, Style(color=True))
    assert not _raw_controls(rendered)  # Style adds no colour to assistant text
    assert rendered == "done\n\\x1b[2J\\x1b[H\tnext \\x9b31m"


def test_tool_output_and_steering_lines_are_made_safe_too_while_the_cli_keeps_its_own_colours():
    style = Style(color=True)
    result = event_line({"seq": 3, "ts": "2026-12-02T07:00:00Z", "event": "execution.message",
                         "data": {"kind": "tool_result", "content": "ok\x07\x1b[8m hidden"}}, style)
    follow_up = steering_line({"event": "execution.input", "data": {"by": "mallory\x1b[8m", "text": "hi"}}, style)
    for line in (result, follow_up):
        ours = line.replace("\x1b[2m", "").replace("\x1b[0m", "").replace("\x1b[31m", "").replace("\x1b[33m", "")
        assert not _raw_controls(ours), repr(line)


def test_ordinary_text_in_any_script_is_untouched():
    for text in ("web app", "Café ☕", "日本語", "👩\u200d💻 team", "مشروع"):
        assert shown(text) == text


def test_table_columns_line_up_with_wide_characters_and_emoji():
    buffer = io.StringIO()
    Output(json_mode=False, stdout=buffer).table(
        [{"name": "日本語のプロジェクト", "state": "idle"}, {"name": "café ☕", "state": "running"},
         {"name": "web", "state": "idle"}], [("NAME", "name"), ("STATE", "state")])
    lines = buffer.getvalue().splitlines()
    # the CJK name takes 20 terminal columns, the cup 2: STATE starts at column 22 on every line
    assert lines == ["NAME" + " " * 18 + "STATE", "日本語のプロジェクト  idle", "café ☕" + " " * 15 + "running",
                     "web" + " " * 19 + "idle"]
    assert display_width("👩\u200d💻") == 4 and display_width("e\u0301") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_agent_s_markdown_is_rendered_and_a_pipe_gets_the_text_as_is(monkeypatch):
    from cloutagent_client.cli.render import TerminalMarkdown

    monkeypatch.setenv("NO_COLOR", "1")  # compare words, not colours
    screen = _Terminal()
    TerminalMarkdown.for_stream(screen).render("# Release notes\n\n- fixed the **login**\n\n```\nmake test\n```\n")
    shown_text = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())  # rich's own bold and underline
    assert "Release notes" in shown_text and "# Release" not in shown_text and "**" not in shown_text
    assert "• fixed the login" in shown_text and "make test" in shown_text
    assert TerminalMarkdown.for_stream(io.StringIO()) is None  # not a terminal: plain text
    assert TerminalMarkdown.for_stream(_Terminal(), json_mode=True) is None
