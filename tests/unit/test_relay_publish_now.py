"""The relay's publish_now: stored after everything pushed before it, on its own, with its change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from cloutagent.domain.changes import ProjectChange
from cloutagent.errors import ExpectationFailed
from cloutagent_executor.relay import MAX_BATCH, EventRelay


@dataclass
class Stored:
    seq: int


class RecordingLog:
    """Keeps each append call; refuses a change whose expect says {"fail": True}."""

    def __init__(self):
        self.calls: list[tuple[list, ProjectChange | None]] = []
        self.seq = 0

    def append(self, tenant_id, project_id, events, last_seq=None, change=None):
        if change is not None and change.expect.get("fail"):
            raise ExpectationFailed(None)
        self.calls.append(([name for name, _ in events], change))
        stored = []
        for _ in events:
            self.seq += 1
            stored.append(Stored(self.seq))
        return stored


class RecordingFanout:
    def __init__(self):
        self.batches: list[list[int]] = []
        self.closed = False

    def after_stored(self, events):
        self.batches.append([e.seq for e in events])

    def busy(self):
        return False

    async def close(self):
        self.closed = True


def relay_of(log: RecordingLog, fanout: RecordingFanout | None = None) -> EventRelay:
    return EventRelay(log, fanout or RecordingFanout(), "t", "p", "x").start()


async def test_a_state_change_is_stored_after_the_messages_before_it_and_alone():
    log = RecordingLog()
    relay = relay_of(log)
    await relay.push({"kind": "text", "text": "one"})
    await relay.push({"kind": "text", "text": "two"})
    change = ProjectChange(set_fields={"state": "waiting"})
    await relay.publish_now([("permission.request", {}), ("project.state", {"state": "waiting"})], change)
    await relay.push({"kind": "text", "text": "three"})
    await relay.close()
    names = [names for names, _ in log.calls]
    assert names[-2:] == [["permission.request", "project.state"], ["execution.message"]]
    assert [n for batch in names[:-2] for n in batch] == ["execution.message", "execution.message"]
    assert log.calls[-2][1] is change and relay.stored == 5


async def test_a_refused_change_comes_back_to_the_caller_and_the_relay_goes_on():
    log = RecordingLog()
    relay = relay_of(log)
    with pytest.raises(ExpectationFailed):
        await relay.publish_now([("project.state", {})], ProjectChange(expect={"fail": True}))
    await relay.push({"kind": "text", "text": "after"})
    await relay.close()
    assert log.calls[-1][0] == ["execution.message"]


async def test_a_caller_that_stopped_waiting_does_not_break_the_relay():
    log = RecordingLog()
    relay = relay_of(log)
    waiting = asyncio.create_task(relay.publish_now([("project.state", {})], ProjectChange()))
    waiting.cancel()
    await relay.push({"kind": "text", "text": "after"})
    await relay.close()
    assert log.calls[-1][0] == ["execution.message"]


def test_a_huge_tool_input_reaches_the_room_as_a_preview():
    from cloutagent_executor.steering import MAX_INPUT_CHARS, shown_input

    small = {"command": "ls"}
    assert shown_input(small) is small
    shown = shown_input({"file_path": "/w/big.txt", "content": "x" * (MAX_INPUT_CHARS * 3)})
    assert shown["truncated"] is True and len(shown["preview"]) == MAX_INPUT_CHARS
    assert shown["chars"] > MAX_INPUT_CHARS * 3


async def test_every_stored_batch_goes_to_the_fanout_in_order_and_the_fanout_is_closed_last():
    log, fanout = RecordingLog(), RecordingFanout()
    relay = relay_of(log, fanout)
    for i in range(250):
        await relay.push({"kind": "text", "text": f"m{i}"})
    await relay.publish_now([("project.state", {"state": "waiting"})], ProjectChange())
    await relay.close()
    assert [seq for batch in fanout.batches for seq in batch] == list(range(1, 252))
    assert all(len(batch) <= MAX_BATCH for batch in fanout.batches) and fanout.closed


class BusyFanout(RecordingFanout):
    def busy(self):
        return True


async def test_while_delivery_is_busy_events_wait_for_it_and_travel_together():
    log, fanout = RecordingLog(), BusyFanout()
    relay = relay_of(log, fanout)
    await relay.push({"kind": "text", "text": "first"})
    await asyncio.sleep(0.025)  # longer apart than a trickle's linger: only busy delivery holds "first"
    for i in range(4):
        await relay.push({"kind": "text", "text": f"m{i}"})
        await asyncio.sleep(0.002)
    await relay.close()
    assert len(fanout.batches) <= 2 and sum(map(len, fanout.batches)) == 5


async def test_a_trickle_goes_out_event_by_event_without_waiting():
    log, fanout = RecordingLog(), RecordingFanout()
    relay = relay_of(log, fanout)
    for i in range(4):
        await relay.push({"kind": "text", "text": f"m{i}"})
        await asyncio.sleep(0.06)
    await relay.close()
    assert fanout.batches == [[1], [2], [3], [4]]


async def test_the_bench_trace_has_a_line_per_message_as_it_reaches_the_relay(tmp_path):
    from cloutagent_executor.relay import ArrivalTrace

    path = tmp_path / "trace.tsv"
    relay = EventRelay(RecordingLog(), RecordingFanout(), "t", "p", "x", ArrivalTrace(str(path))).start()
    await relay.push({"kind": "text", "text": "Streaming message 1 of 2. written_at=1.0"})
    await relay.push({"kind": "tool_use", "name": "Bash"})
    await relay.close()
    [line] = path.read_text().splitlines()
    stamp, text = line.split("\t")
    assert float(stamp) > 0 and text == "Streaming message 1 of 2. written_at=1.0"
