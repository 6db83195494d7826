"""Writers on one project within a process take turns, one at a time and in the order they came:
one that waits is never overtaken by one that arrived later, however many keep arriving."""

from __future__ import annotations

import threading
import time

from cloutagent.adapters.dynamo.events import ProjectWriters


def _queued(writers: ProjectWriters, key: tuple[str, str]) -> int:
    with writers._guard:
        return len(writers._queues.get(key, ()))


def _wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiting_writers_get_the_turn_in_the_order_they_came():
    writers, order = ProjectWriters(), []
    release = threading.Event()

    def first() -> None:
        with writers.turn("t", "p"):
            release.wait(5)
            order.append("first")

    def later(name: str) -> None:
        with writers.turn("t", "p"):
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    _wait_until(lambda: ("t", "p") in writers._queues)
    for i in range(8):  # each one queued before the next arrives
        threads.append(threading.Thread(target=later, args=(f"w{i}",)))
        threads[-1].start()
        _wait_until(lambda: _queued(writers, ("t", "p")) == i + 1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first"] + [f"w{i}" for i in range(8)]
    assert writers._queues == {}  # nothing kept once nobody writes


def test_a_waiting_writer_is_not_overtaken_by_writers_arriving_all_the_time():
    writers, holder_may_go, stop = ProjectWriters(), threading.Event(), threading.Event()
    got_it = threading.Event()
    latecomers_before = []

    def holder() -> None:
        with writers.turn("t", "p"):
            holder_may_go.wait(5)

    def waiter() -> None:
        with writers.turn("t", "p"):
            got_it.set()

    def latecomer() -> None:  # keeps arriving, as joins do under a busy room
        while not stop.is_set():
            with writers.turn("t", "p"):
                if not got_it.is_set():
                    latecomers_before.append(1)

    first = threading.Thread(target=holder)
    first.start()
    _wait_until(lambda: ("t", "p") in writers._queues)
    patient = threading.Thread(target=waiter)
    patient.start()
    _wait_until(lambda: _queued(writers, ("t", "p")) == 1)
    crowd = [threading.Thread(target=latecomer) for _ in range(4)]
    for thread in crowd:
        thread.start()
    holder_may_go.set()
    assert got_it.wait(5)
    stop.set()
    for thread in [first, patient, *crowd]:
        thread.join(5)
    assert latecomers_before == []  # the turn went to the one that waited first


def test_different_projects_do_not_wait_for_each_other():
    writers = ProjectWriters()
    with writers.turn("t", "p1"):
        done = threading.Event()

        def other() -> None:
            with writers.turn("t", "p2"):
                done.set()

        threading.Thread(target=other).start()
        assert done.wait(2)
