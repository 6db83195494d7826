"""A batch of stored events on the wire: packed into as few frames under 32 KB as fit, in order;
only an event too big for a frame of its own is chunked."""

import json

from hypothesis import given, settings, strategies as st

from cloutagent.protocol.frames import MAX_OUTBOUND_FRAME_BYTES, event_frame
from cloutagent.services.fanout import frame_texts
from cloutagent_client.chunks import ChunkAssembler


def _events_of(texts: list[str]) -> list[dict]:
    """What a client makes of the texts: every event frame, in the order received."""
    assembler, out = ChunkAssembler(), []
    for text in texts:
        frame = assembler.feed(json.loads(text))
        if frame is not None:
            out += frame["events"] if frame["type"] == "events" else [frame]
    return out


def _batch(sizes: list[int], salt: str = "") -> list[dict]:
    return [event_frame("execution.message", "p_1", 10 + i, "t", {"text": (salt or "x") * n})
            for i, n in enumerate(sizes)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60_000), min_size=1, max_size=40),
       st.sampled_from(["", "\"", "😀", "ü"]))
def test_any_batch_arrives_whole_and_in_order_in_frames_under_the_cap(sizes, salt):
    frames = _batch(sizes, salt)
    texts = frame_texts("p_1", frames)
    assert all(len(t.encode("utf-8")) <= MAX_OUTBOUND_FRAME_BYTES for t in texts)
    assert _events_of(texts) == frames


def test_a_big_batch_of_small_events_is_packed_not_chunked():
    frames = _batch([200] * 1000)  # ~260 KB in all
    texts = frame_texts("p_1", frames)
    kinds = {json.loads(t)["type"] for t in texts}
    assert kinds == {"events"}  # no chunk: a chunk's escaped slice would need more posts
    total = sum(len(t.encode("utf-8")) for t in texts)
    assert len(texts) == -(-total // MAX_OUTBOUND_FRAME_BYTES) or len(texts) == -(-total // MAX_OUTBOUND_FRAME_BYTES) + 1
    assert _events_of(texts) == frames


def test_a_small_batch_is_one_frame_and_one_event_is_an_event_frame():
    assert [json.loads(t)["type"] for t in frame_texts("p_1", _batch([10, 10, 10]))] == ["events"]
    assert [json.loads(t)["type"] for t in frame_texts("p_1", _batch([10]))] == ["event"]
