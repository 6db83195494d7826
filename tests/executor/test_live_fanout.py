"""LiveFanout reads the room once for a burst, even while that first read is still on its way."""

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
