"""Putting chunked frames back together: the client half of the protocol's chunking (docs/protocol.md).

A chunk frame carries a slice of the original frame's JSON text; joining the slices of one
``id`` in ``index`` order gives back the original frame, which the client then handles as usual.
"""

from __future__ import annotations

import json
from typing import Any


class ChunkAssembler:
    """Feed every frame, get back whole frames."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[int, str]] = {}

    def feed(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        if frame.get("type") != "chunk":
            return frame
        parts = self._parts.setdefault(frame["id"], {})
        parts[int(frame["index"])] = frame["payload"]
        if len(parts) < int(frame["count"]):
            return None
        del self._parts[frame["id"]]
        return json.loads("".join(parts[i] for i in range(int(frame["count"]))))
