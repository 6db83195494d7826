"""The command line of the fake ``claude``: every flag claude-agent-sdk's transport can pass.

Flags the fake does not act on are still parsed, so a new SDK flag shows up as an "unknown
flag" note on stderr instead of silently shifting the meaning of the arguments after it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

# Flags that take a value, as passed by SubprocessCLITransport._build_command.
_VALUE_FLAGS = {
    "--output-format", "--input-format", "--system-prompt", "--system-prompt-file",
    "--append-system-prompt", "--tools", "--allowedTools", "--disallowedTools",
    "--max-turns", "--max-budget-usd", "--task-budget", "--model", "--fallback-model",
    "--betas", "--permission-prompt-tool", "--permission-mode", "--resume", "--session-id",
    "--settings", "--add-dir", "--mcp-config", "--resume-session-at", "--resume-drops-turn",
    "--setting-sources", "--plugin-dir", "--thinking", "--max-thinking-tokens",
    "--thinking-display", "--effort", "--json-schema",
}
_BOOL_FLAGS = {
    "--verbose", "--continue", "--include-partial-messages", "--include-hook-events",
    "--strict-mcp-config", "--fork-session", "--session-mirror", "--replay-user-messages",
    "--print", "-p", "--dangerously-skip-permissions", "--version", "-v",
}


@dataclass
class CliArgs:
    values: dict[str, list[str]] = field(default_factory=dict)
    switches: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)

    def value(self, flag: str) -> str | None:
        found = self.values.get(flag)
        return found[-1] if found else None

    def has(self, flag: str) -> bool:
        return flag in self.switches

    def number(self, flag: str, kind: type = int) -> float | int | None:
        raw = self.value(flag)
        return kind(raw) if raw not in (None, "") else None

    def names(self, flag: str) -> list[str] | None:
        """A comma-separated tool list; None when the flag is absent."""
        raw = self.value(flag)
        if raw is None:
            return None
        return [name.strip() for name in raw.split(",") if name.strip()]


def parse_args(argv: list[str]) -> CliArgs:
    """Parse argv the way the CLI does: "--flag value" and "--flag=value" both bind."""
    args = CliArgs()
    position = 0
    while position < len(argv):
        token = argv[position]
        position += 1
        flag, has_inline, inline = token.partition("=")
        if flag in _VALUE_FLAGS:
            if has_inline:
                value = inline
            else:
                # The next token is the value even when empty or dash-led ("--system-prompt ''").
                value = argv[position] if position < len(argv) else ""
                position += 1
            args.values.setdefault(flag, []).append(value)
        elif token in _BOOL_FLAGS:
            args.switches.add(token)
        else:
            args.unknown.append(token)
    for token in args.unknown:
        print(f"fake-claude: ignoring unknown argument {token!r}", file=sys.stderr)
    return args
