"""Directives that make the CLI run real tools: Bash, Write, any tool, env checks, the crash."""

from __future__ import annotations

import os
import posixpath
import re

from .calls import Call, fixed
from .conversation import Conversation
from .directives import Directive
from .reply import Reply, Text, ToolUse, usage

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bash(directive: Directive, conversation: Conversation) -> list[Call]:
    """A Bash call with the command as given; the closing text echoes its output."""
    command = directive.text("command", "true")
    return [fixed(lambda: Reply([ToolUse("Bash", {"command": command, "description": "Run a command"})], usage(30)))]


def write(directive: Directive, conversation: Conversation) -> list[Call]:
    """A Write call; the tool wants an absolute path, so a relative one is joined to the CLI's cwd."""
    path = directive.text("path", "notes.md")
    if not posixpath.isabs(path):
        path = posixpath.join(conversation.cwd or os.getcwd(), path)
    text = directive.text("text", "")
    return [fixed(lambda: Reply([ToolUse("Write", {"file_path": path, "content": text})], usage(30)))]


def tool(directive: Directive, conversation: Conversation) -> list[Call]:
    """Any tool call: ``name=NAME input={json object}`` (a tool the CLI lacks comes back as an error)."""
    name = directive.text("name")
    tool_input = directive.params.get("input", {})
    if not name or not isinstance(tool_input, dict):
        return [fixed(lambda: Reply([Text("[fake:tool] needs name=NAME and input={...}.")], usage(10)))]
    return [fixed(lambda: Reply([ToolUse(name, dict(tool_input))], usage(30)))]


def env(directive: Directive, conversation: Conversation) -> list[Call]:
    """A real Bash call that says whether the variable is set (never its value), then the verdict."""
    name = directive.text("name")
    if not _ENV_NAME.match(name):
        return [fixed(lambda: Reply([Text(f"{name!r} is not a valid environment variable name.")], usage(15)))]
    command = (f'if [ -z "${{{name}+x}}" ]; then echo "is not set"; '
               f'elif [ -z "${name}" ]; then echo "is set but empty"; else echo "is set"; fi')
    check = ToolUse("Bash", {"command": command, "description": f"Check whether {name} is set"})
    return [fixed(lambda: Reply([check], usage(40))), lambda c: _env_verdict(name, c)]


def _env_verdict(name: str, conversation: Conversation) -> Reply:
    result = conversation.last_result
    if result is None or result.is_error:
        reason = (result.text if result else "no tool result").strip().splitlines() or ["no output"]
        return Reply([Text(f"Environment variable {name} could not be checked: {reason[0][:300]}")], usage(20))
    output = result.text
    # "is set" is a substring of the other two answers, so it is tested last.
    state = next((s for s in ("is set but empty", "is not set", "is set") if s in output), None)
    if state is None:
        return Reply([Text(f"Environment variable {name} could not be checked: unexpected output")], usage(20))
    return Reply([Text(f"Environment variable {name} {state}.")], usage(15))


def crash(directive: Directive, conversation: Conversation) -> list[Call]:
    """A Bash call that SIGKILLs its parent, the CLI itself: the run ends with no result.

    Bash runs the command in ``bash -c`` spawned by the CLI, so ``$PPID`` is the CLI. The exit
    status is the kill signal's (``code`` cannot be chosen); the CLI must be allowed to run it.
    """
    kill = ToolUse("Bash", {"command": "kill -9 $PPID", "description": "Stop the agent process"})
    return [fixed(lambda: Reply([Text("Crashing the CLI now."), kill], usage(30))), _crash_survived]


def _crash_survived(conversation: Conversation) -> Reply:
    result = conversation.last_result
    reason = result.text.strip()[:300] if result else "no tool result"
    return Reply([Text(f"The crash did not happen: {reason}")], usage(20), terminal=True)
