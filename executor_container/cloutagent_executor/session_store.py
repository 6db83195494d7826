"""S3SessionStore: claude-agent-sdk transcripts mirrored to S3, so any task can resume a session.

Implements the SDK's SessionStore protocol, optional methods included. Key layout: see
session_keys. Appends are parts, never rewrites, so a retried batch costs one extra object;
``load`` drops entries whose ``uuid`` it has already seen, as the protocol asks.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any, Callable, TypeVar

import anyio.to_thread
from claude_agent_sdk import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
    fold_session_summary,
)

from .s3_objects import S3Objects
from .session_keys import KeyLayout, part_name

T = TypeVar("T")
_SUMMARY_ATTEMPTS = 5  # compare-and-swap retries when two writers fold the same summary


class S3SessionStore(SessionStore):
    def __init__(self, s3_client: Any, bucket: str, prefix: str = "sessions/") -> None:
        self._objects = S3Objects(s3_client, bucket)
        self._keys = KeyLayout(prefix if not prefix or prefix.endswith("/") else prefix + "/")
        self._last_stamp = 0

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        if not entries:
            return
        stamp = self._next_stamp()
        part = self._keys.parts(key["project_key"], key["session_id"], key.get("subpath")) + part_name(stamp)
        await self._run(self._objects.put, part, _to_jsonl(entries), "application/x-ndjson")
        if not key.get("subpath"):  # subagent transcripts never shape the session's summary
            await self._run(self._fold_summary, key, entries, stamp)

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        folder = self._keys.parts(key["project_key"], key["session_id"], key.get("subpath"))
        parts = await self._run(self._objects.list_keys, folder, direct_only=True)
        if not parts:
            return None
        bodies = await self._run(self._objects.get_many, parts)
        return _without_repeats(entry for body in bodies for entry in _from_jsonl(body))

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        keys = await self._run(self._objects.list_keys, self._keys.transcripts(project_key))
        latest: dict[str, int] = {}
        for s3_key in keys:
            owner = self._keys.main_part_owner(project_key, s3_key)
            if owner is not None:
                latest[owner[0]] = max(latest.get(owner[0], 0), owner[1])
        return [{"session_id": session_id, "mtime": mtime} for session_id, mtime in latest.items()]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        keys = await self._run(self._objects.list_keys, self._keys.summaries(project_key), direct_only=True)
        bodies = await self._run(self._objects.get_many, keys)
        return [json.loads(body) for body in bodies if body]

    async def delete(self, key: SessionKey) -> None:
        project_key, session_id, subpath = key["project_key"], key["session_id"], key.get("subpath")
        if subpath:
            doomed = await self._run(self._objects.list_keys, self._keys.parts(project_key, session_id, subpath),
                                     direct_only=True)
        else:  # the main transcript takes its subagent transcripts and summary with it
            doomed = await self._run(self._objects.list_keys, self._keys.session(project_key, session_id))
            doomed.append(self._keys.summary(project_key, session_id))
        await self._run(self._objects.delete, doomed)

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        project_key, session_id = key["project_key"], key["session_id"]
        keys = await self._run(self._objects.list_keys, self._keys.subkeys(project_key, session_id))
        return sorted({self._keys.subpath_of(project_key, session_id, s3_key) for s3_key in keys})

    def _fold_summary(self, key: SessionKey, entries: list[SessionStoreEntry], stamp: int) -> None:
        """Read-fold-write the summary sidecar, retrying if another writer got there first."""
        summary_key = self._keys.summary(key["project_key"], key["session_id"])
        for _ in range(_SUMMARY_ATTEMPTS):
            found = self._objects.get(summary_key)
            previous, etag = (json.loads(found[0]), found[1]) if found else (None, None)
            folded = fold_session_summary(previous, key, entries)
            # Storage write time, on the same clock as list_sessions' mtime (the part stamp).
            folded["mtime"] = max(stamp, previous["mtime"] if previous else 0)
            if self._objects.put_if_unchanged(summary_key, json.dumps(folded).encode(), etag):
                return
        raise RuntimeError(f"summary for session {key['session_id']} kept changing under us")

    def _next_stamp(self) -> int:
        # Strictly increasing within the process, so back-to-back appends keep their order.
        self._last_stamp = max(int(time.time() * 1000), self._last_stamp + 1)
        return self._last_stamp

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(call, *args, **kwargs))


def _to_jsonl(entries: list[SessionStoreEntry]) -> bytes:
    return "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries).encode()


def _from_jsonl(body: bytes) -> list[SessionStoreEntry]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def _without_repeats(entries: Any) -> list[SessionStoreEntry]:
    # A batch the SDK retried after a partial failure may be stored twice.
    seen: set[str] = set()
    kept: list[SessionStoreEntry] = []
    for entry in entries:
        uuid = entry.get("uuid") if isinstance(entry, dict) else None
        if isinstance(uuid, str):
            if uuid in seen:
                continue
            seen.add(uuid)
        kept.append(entry)
    return kept
