"""Per-process state of the fake ``claude``: who it is, where it writes, what it mirrors."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Mapping

from .cli_args import CliArgs
from .frames import DEFAULT_MODEL, DEFAULT_TOOLS, new_uuid, session_state_frame, transcript_entry
from .plan import PlanContext


class Output:
    """NDJSON on stdout; the reader thread (control responses) and the turn share it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, frame: dict) -> None:
        line = json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._stream.write(line.encode("utf-8"))
            self._stream.flush()


@dataclass
class Transcript:
    """Where this session's transcript lives and the uuid the next entry hangs from."""

    path: Path
    earlier_entries: int = 0  # what a resume found on disk
    last_uuid: str | None = None

    @classmethod
    def locate(cls, cwd: str, session_id: str, env: Mapping[str, str]) -> "Transcript":
        # Imported late: the SDK takes a second to import and most runs never need it.
        from claude_agent_sdk import project_key_for_directory

        config_dir = env.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
        path = Path(config_dir) / "projects" / project_key_for_directory(cwd) / f"{session_id}.jsonl"
        transcript = cls(path)
        transcript._read_existing()
        return transcript

    def _read_existing(self) -> None:
        # Read-only: the fake never writes under the user's config dir.
        if not self.path.is_file():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                self.earlier_entries += 1
                self.last_uuid = json.loads(line).get("uuid") or self.last_uuid


@dataclass
class FakeSession:
    session_id: str
    cwd: str
    model: str
    tools: list[str]
    permission_mode: str
    env: Mapping[str, str]
    output: Output
    max_turns: int | None = None
    max_budget_usd: float | None = None
    reports_state: bool = False
    mirror: bool = False
    replay_user_messages: bool = False
    resumed: bool = False
    transcript: Transcript | None = None
    api_key_source: str = "none"

    def send(self, frame: dict) -> None:
        self.output.send(frame)
        self.record(frame)

    def record(self, frame: dict) -> None:
        """Add a conversation frame to the transcript, mirrored to the SDK with --session-mirror."""
        if self.mirror and self.transcript is not None and frame["type"] in ("user", "assistant"):
            self._mirror(self.transcript, frame)

    def state(self, state: str) -> None:
        if self.reports_state:
            self.output.send(session_state_frame(self, state))

    def plan_context(self) -> PlanContext:
        resumed = self.transcript.earlier_entries if self.resumed and self.transcript else None
        return PlanContext(self.model, self.tools, self.env, resumed)

    def _mirror(self, transcript: Transcript, frame: dict) -> None:
        entry = transcript_entry(self, frame, transcript.last_uuid)
        transcript.last_uuid = entry["uuid"]
        self.output.send({"type": "transcript_mirror", "filePath": str(transcript.path), "entries": [entry]})


def start_session(args: CliArgs, env: Mapping[str, str], cwd: str, output: Output) -> FakeSession:
    """A new session, or the resumed one when --resume names it (unless --fork-session)."""
    resume = args.value("--resume")
    resumed = bool(resume) and not args.has("--fork-session")
    session_id = args.value("--session-id") or (resume if resumed else None) or new_uuid()
    session = FakeSession(
        session_id=session_id, cwd=cwd, model=args.value("--model") or DEFAULT_MODEL,
        tools=_tools(args), permission_mode=args.value("--permission-mode") or "default",
        env=env, output=output, max_turns=args.number("--max-turns"),
        max_budget_usd=args.number("--max-budget-usd", float),
        reports_state=env.get("CLAUDE_CODE_SDK_READS_SESSION_STATE") == "1",
        mirror=args.has("--session-mirror"), replay_user_messages=args.has("--replay-user-messages"),
        resumed=resumed, api_key_source="ANTHROPIC_API_KEY" if env.get("ANTHROPIC_API_KEY") else "none",
    )
    if session.mirror or resumed:
        session.transcript = Transcript.locate(cwd, session_id, env)
    return session


def _tools(args: CliArgs) -> list[str]:
    base = args.names("--tools")
    tools = DEFAULT_TOOLS if base is None or base == ["default"] else base
    denied = set(args.names("--disallowedTools") or [])
    return [tool for tool in tools if tool not in denied]


def environment() -> Mapping[str, str]:
    """The process environment; the one place the fake reads it."""
    return os.environ
