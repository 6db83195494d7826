"""Short, stack-trace-free descriptions of what went wrong, for ``AgentOutcome.error``."""

from __future__ import annotations

from claude_agent_sdk import (
    ClaudeSDKError,
    CLIConnectionError,
    CLIJSONDecodeError,
    CLINotFoundError,
    ProcessError,
    ResultMessage,
)

MAX_ERROR_CHARS = 300


def describe_error(error: BaseException) -> str:
    """What a client may be told about an exception; the details belong in the log."""
    if isinstance(error, ProcessError) and error.exit_code is not None:
        return f"Claude Code exited with code {error.exit_code} before finishing"
    if isinstance(error, CLINotFoundError):
        return "Claude Code CLI not found"
    if isinstance(error, CLIJSONDecodeError):
        return "Claude Code sent a message that could not be read"
    if isinstance(error, CLIConnectionError):
        return shorten(f"could not talk to Claude Code: {error}")
    if isinstance(error, ClaudeSDKError):
        return shorten(f"Claude Code failed: {error}")
    return f"internal error ({type(error).__name__})"


def describe_result(result: ResultMessage) -> str:
    """The CLI's own account of an error result: its errors, else its text, else its subtype."""
    if result.errors:
        return shorten("; ".join(str(error) for error in result.errors))
    if result.result and result.result.strip():
        return shorten(result.result.strip())
    return result.subtype


def shorten(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"
