"""Frames over 32 KB are split into chunks no bigger than 32 KB that reassemble exactly."""

import json

from hypothesis import given, settings, strategies as st

from cloutagent.protocol.chunks import split_frame
from cloutagent_client.chunks import ChunkAssembler
from cloutagent.protocol.frames import MAX_OUTBOUND_FRAME_BYTES, event_frame


def test_a_small_frame_is_sent_as_is():
    frame = event_frame("x", "p", 1, "t", {"a": 1})
    assert [json.loads(t) for t in split_frame(frame, "p:1")] == [frame]


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=0, max_size=150_000), st.sampled_from(["", "\"\\", "\x00\x1f", "😀", "ü"]))
def test_any_frame_round_trips_through_chunks_of_at_most_32_kb(text, salt):
    frame = event_frame("execution.message", "p", 7, "t", {"text": text + salt * 5000})
    chunks = split_frame(frame, "p:7")
    assert all(len(c.encode("utf-8")) <= MAX_OUTBOUND_FRAME_BYTES for c in chunks)
    assembler = ChunkAssembler()
    out = [assembler.feed(json.loads(c)) for c in chunks]
    assert [o for o in out if o is not None] == [frame]


def test_chunks_reassemble_even_when_interleaved_with_other_frames():
    big = event_frame("m", "p", 1, "t", {"text": "x" * 100_000})
    other = event_frame("m", "p", 2, "t", {"text": "small"})
    chunks = [json.loads(c) for c in split_frame(big, "p:1")]
    assembler = ChunkAssembler()
    results = [assembler.feed(chunks[0]), assembler.feed(other), *[assembler.feed(c) for c in chunks[1:]]]
    assert [r for r in results if r is not None] == [other, big]
