"""LiveFanout reads the room once for a burst, again after a join, and never holds a batch for a routine re-read."""

from __future__ import annotations

import asyncio
import time

from cloutagent.domain.models import Event
from cloutagent_executor.broadcast import LiveFanout


class SlowRoom:
    """A room whose read takes a while (moto or DynamoDB under load)."""

    def __init__(self):
        self.reads = 0

    def subscribers(self, tenant_id, project_id):
        self.reads += 1
        time.sleep(0.2)
        return ["c1"]


class Outbox:
    def __init__(self):
        self.sent = []

    def send(self, connection_ids, frames):
        self.sent.append((list(connection_ids), len(frames)))

    def busy(self):
        return False

    async def drained(self):
        pass

    @property
    def poster(self):
        return self

    async def close(self):
        pass


def _events(first: int, count: int) -> list[Event]:
    return [Event(project_id="p_1", seq=s, event="x", ts="t", data={}) for s in range(first, first + count)]


async def test_batches_stored_while_the_first_room_read_is_in_flight_wait_for_it_instead_of_reading_again():
    room, outbox = SlowRoom(), Outbox()
    fanout = LiveFanout(room, outbox, "t_1", "p_1")
    fanout.after_stored(_events(2, 3))
    fanout.after_stored(_events(5, 3))  # the log moved on by this run alone: the room cannot have changed
    fanout.after_stored(_events(8, 3))
    await fanout.close()
    assert room.reads == 1 and fanout.room_reads == 1
    assert outbox.sent == [(["c1"], 1)] * 3  # every batch went to the room that read found, in order


async def test_a_gap_in_the_run_s_seqs_still_reads_the_room_again():
    room, outbox = SlowRoom(), Outbox()
    fanout = LiveFanout(room, outbox, "t_1", "p_1")
    fanout.after_stored(_events(2, 3))
    fanout.after_stored(_events(6, 1))  # seq 5 is someone else's: perhaps a member.joined
    await fanout.close()
    assert room.reads == 2


class ChangingRoom:
    """A room whose reads are told apart: read n answers [f"c{n}"], after ``delay`` seconds."""

    def __init__(self, delays):
        self.delays = list(delays)
        self.reads = 0

    def subscribers(self, tenant_id, project_id):
        self.reads += 1
        n = self.reads
        time.sleep(self.delays[n - 1] if n <= len(self.delays) else 0)
        return [f"c{n}"]


async def test_the_age_based_room_read_holds_up_no_batch(monkeypatch):
    monkeypatch.setattr("cloutagent_executor.broadcast.ROOM_MAX_AGE_SECONDS", 0.0)
    room, outbox = ChangingRoom([0, 0.3]), Outbox()
    fanout = LiveFanout(room, outbox, "t_1", "p_1")
    fanout.after_stored(_events(2, 1))  # reads the room: c1
    await asyncio.sleep(0.05)
    started = time.monotonic()
    fanout.after_stored(_events(3, 1))  # the room is "old": read again (0.3 s), in the background
    await asyncio.sleep(0.05)
    assert outbox.sent[-1] == (["c1"], 1) and time.monotonic() - started < 0.2  # sent at once, to the room known
    await asyncio.sleep(0.4)
    fanout.after_stored(_events(4, 1))  # that read is back: this batch goes to the room it found
    await fanout.close()
    assert outbox.sent[-1][0] == ["c2"] and room.reads == 2


async def test_a_join_read_is_never_replaced_by_an_older_age_based_read(monkeypatch):
    monkeypatch.setattr("cloutagent_executor.broadcast.ROOM_MAX_AGE_SECONDS", 0.0)
    # read 1: the first batch; read 2: age-based, slow, begun before the join; read 3: after the join
    room, outbox = ChangingRoom([0, 0.3, 0]), Outbox()
    fanout = LiveFanout(room, outbox, "t_1", "p_1")
    fanout.after_stored(_events(2, 1))
    await asyncio.sleep(0.05)
    fanout.after_stored(_events(3, 1))  # age-based read 2 starts
    await asyncio.sleep(0.05)  # ... and is on its way
    fanout.after_stored(_events(5, 1))  # seq 4 was someone's member.joined: read 3, waited for
    await asyncio.sleep(0.5)  # read 2 is back by now, and stale
    monkeypatch.setattr("cloutagent_executor.broadcast.ROOM_MAX_AGE_SECONDS", 60.0)
    fanout.after_stored(_events(6, 1))
    await fanout.close()
    assert [sent[0] for sent in outbox.sent[2:]] == [["c3"], ["c3"]]
