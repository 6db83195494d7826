"""`[fake:stream n=… delay_ms=…]` offers a fixed rate: block i is written at start + i × delay,
however long writing the earlier blocks took (no drift from sleeping after each write)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from cloutagent_dev.model import sse
from cloutagent_dev.model.conversation import Conversation
from cloutagent_dev.model.directives import parse_directives
from cloutagent_dev.model.text_actions import stream


class FakeClock:
    """time.monotonic/time.time and asyncio.sleep on a clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(sse, "time", SimpleNamespace(monotonic=fake.monotonic, time=fake.time))
    monkeypatch.setattr(sse, "asyncio", SimpleNamespace(sleep=fake.sleep))
    return fake


def _reply(prompt: str):
    conversation = Conversation(model="claude-test", prompt=prompt, calls_answered=0, earlier_messages=0)
    (call,) = stream(parse_directives(prompt)[0], conversation)
    return call(conversation)


async def _written_at(clock: FakeClock, prompt: str, slow_writes: dict[int, float]) -> tuple[float, list[float]]:
    """When each stamped block was written; writing block i's first delta takes slow_writes[i] s."""
    stamps: list[float] = []

    async def write(chunk: bytes) -> None:
        match = re.search(rb'Streaming message (\d+) of \d+\. written_at=([\d.]+)', chunk)
        if match:
            stamps.append(float(match[2]))
            clock.now += slow_writes.get(int(match[1]), 0.0)

    started = clock.now
    await sse.stream_reply(_reply(prompt), "claude-test", write)
    return started, stamps


async def test_blocks_are_written_on_a_fixed_schedule(clock):
    # GIVEN a paced stream of 10 blocks, 20 ms apart, whose writes are instant
    started, stamps = await _written_at(clock, "[fake:stream n=10 delay_ms=20 stamp=1]", {})
    # THEN block i is written i × 20 ms after the start
    assert stamps == pytest.approx([started + i * 0.020 for i in range(1, 11)])


async def test_a_slow_write_does_not_delay_the_blocks_after_it(clock):
    # GIVEN the same stream, where writing block 3 takes 70 ms (three and a half periods)
    started, stamps = await _written_at(clock, "[fake:stream n=10 delay_ms=20 stamp=1]", {3: 0.070})
    # THEN the blocks that fell due meanwhile are written at once, and the rest keep the schedule
    assert stamps[:3] == pytest.approx([started + i * 0.020 for i in (1, 2, 3)])
    assert stamps[3:6] == pytest.approx([started + 0.130] * 3)
    assert stamps[6:] == pytest.approx([started + i * 0.020 for i in range(7, 11)])
