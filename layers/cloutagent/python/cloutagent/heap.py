"""Garbage collection for processes that start big and then must answer fast.

The executor, and the local stack's gateway and moto, import boto3, pydantic and friends: a few
hundred thousand objects that live as long as the process. CPython's full (generation 2)
collection walks every one of them, and under load one comes every few seconds: 50-140 ms with
the GIL held each time, a pause every watcher of a run sees (``make bench``, paced relay: p99
133-168 ms with them; without them 79-205 ms, the rest being the machine's noise). And while a process starts it makes almost nothing but such objects,
so collections then only cost time.

- ``hold()`` stops automatic collection while a process starts;
- ``settle()`` moves what exists into the permanent generation (``gc.freeze``), which collections
  skip, and turns collection back on. What is made later is collected as usual; a frozen object
  is still freed when its last reference goes (freezing only hides it from the cycle collector).
  By default it does not collect first: after ``hold()`` that walks the whole start (110-165 ms
  in the executor, on the way to a run's first event) to find the ~5 000 objects in cycles an
  executor's start drops, which it then keeps until it exits (one run).
"""

from __future__ import annotations

import gc


def hold() -> None:
    """No automatic collection until ``settle()``: what a start makes lives on."""
    gc.disable()


def settle(*, collect: int | None = None) -> None:
    """What exists now lives as long as the process: keep full collections from walking it.

    ``collect`` first collects up to that generation: 2 for a process whose start may leave
    cycles behind and can afford one full collection (the local stack: a start of seconds); 1 for
    one that settles again and again while collecting as usual (then the young generations are
    small, and their garbage is not kept)."""
    if collect is not None:
        gc.collect(collect)
    gc.freeze()
    gc.enable()
