"""Splitting frames over 32 KB into ordered chunks (clients put them back together).

A chunk frame carries a slice of the original frame's JSON text; joining the slices of one
``id`` in ``index`` order gives back the original frame, which the client then handles as usual.
"""

from __future__ import annotations

import json
from typing import Any

from cloutagent.protocol.frames import MAX_OUTBOUND_FRAME_BYTES

# Room for the chunk envelope and JSON escaping of the slice (worst case ~6x for control chars
# is avoided by slicing the already-escaped text and sending it as a JSON string: quotes and
# backslashes double at most).
_SLICE_CHARS = (MAX_OUTBOUND_FRAME_BYTES - 512) // 2


def encode_frame(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def split_frame(frame: dict[str, Any], chunk_id: str) -> list[str]:
    """Return the frame as one text, or as chunk frames if it is over the outbound cap."""
    text = encode_frame(frame)
    if len(text.encode("utf-8")) <= MAX_OUTBOUND_FRAME_BYTES:
        return [text]
    # Slice by characters; 4-byte UTF-8 chars are bounded by _SLICE_CHARS * 4 < cap only if
    # we leave room, so shrink slices until every encoded chunk fits.
    size = _SLICE_CHARS
    while True:
        parts = [text[i : i + size] for i in range(0, len(text), size)]
        chunks = [
            encode_frame({"type": "chunk", "id": chunk_id, "index": i, "count": len(parts), "payload": p})
            for i, p in enumerate(parts)
        ]
        if all(len(c.encode("utf-8")) <= MAX_OUTBOUND_FRAME_BYTES for c in chunks):
            return chunks
        size //= 2

