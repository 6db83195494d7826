"""``cloutagent-fake-claude``: a stand-in ``claude`` that speaks the CLI's stream-json protocol.

claude-agent-sdk spawns it exactly as it spawns Claude Code (``cli_path``), so tests and the
local stack exercise the real SDK without an Anthropic account. The prompt's ``[fake:…]``
directives pick the scenario; see docs/fake-claude.md.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading

from .cli_args import CliArgs, parse_args
from .control import TurnControl, answer
from .frames import CLAUDE_CODE_VERSION
from .session import FakeSession, Output, environment, start_session
from .turn import run_turn


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.has("--version") or args.has("-v"):
        print(f"{CLAUDE_CODE_VERSION} (Claude Code)")
        return 0
    problem = _unsupported_formats(args)
    if problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 1
    session = start_session(args, environment(), os.getcwd(), Output(sys.stdout.buffer))
    control, inbox = TurnControl(), queue.Queue()
    reader = threading.Thread(target=_read_stdin, args=(session, control, inbox), daemon=True)
    reader.start()
    return _serve(session, control, inbox)


def _unsupported_formats(args: CliArgs) -> str | None:
    # The real CLI has a text mode too; the SDK never uses it, so the fake refuses it loudly.
    if args.value("--output-format") != "stream-json" or args.value("--input-format") != "stream-json":
        return "the fake CLI only speaks --input-format stream-json --output-format stream-json"
    if not args.has("--verbose"):
        return "When using --print, --output-format=stream-json requires --verbose"
    return None


def _serve(session: FakeSession, control: TurnControl, inbox: queue.Queue) -> int:
    """Run turns until stdin ends and the queue drains; exit 1 if the last result was an error.

    Like the CLI, a turn already received still runs to its result after stdin closes: the
    SDK's one-shot ``query()`` closes stdin right after writing the prompt.
    """
    last_failed = False
    while (user := inbox.get()) is not None:
        try:
            last_failed = run_turn(session, control, user)
        finally:
            control.finish_turn()
    return 1 if last_failed else 0


def _read_stdin(session: FakeSession, control: TurnControl, inbox: queue.Queue) -> None:
    # Control requests are answered here, at once, so an interrupt reaches a busy turn.
    for raw in sys.stdin.buffer:
        frame = _parse(raw)
        if frame is None:
            continue
        if frame.get("type") == "control_request":
            session.output.send(answer(frame, session, control))
        elif frame.get("type") == "user":
            control.user_message_arrived()
            inbox.put(frame)
        # control_response, keep_alive and anything newer need no reply from the fake.
    inbox.put(None)


def _parse(raw: bytes) -> dict | None:
    line = raw.decode("utf-8", errors="replace").strip()
    if not line:
        return None
    try:
        frame = json.loads(line)
    except json.JSONDecodeError:
        print(f"fake-claude: ignoring a line that is not JSON: {line[:80]!r}", file=sys.stderr)
        return None
    return frame if isinstance(frame, dict) else None


if __name__ == "__main__":
    sys.exit(main())
