"""cloutagent.heap: a process's start is kept out of full collections, later garbage is not."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest


def _in_fresh_process(code: str) -> str:
    """Run ``code`` in a new interpreter: freezing is process-wide and cannot be undone here."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_hold_stops_automatic_collection_until_settle():
    out = _in_fresh_process("""
        import gc
        from cloutagent import heap
        heap.hold()
        held = gc.isenabled()
        heap.settle()
        print(held, gc.isenabled())
    """)
    assert out == "False True"


def test_settle_keeps_what_exists_out_of_collections():
    out = _in_fresh_process("""
        import gc
        from cloutagent import heap
        kept = [[i] for i in range(10_000)]
        heap.settle()
        frozen = gc.get_freeze_count()
        tracked_after = sum(len(gc.get_objects(g)) for g in range(3))
        print(frozen >= 10_000, tracked_after < 10_000)
    """)
    assert out == "True True"


def test_garbage_made_after_settle_is_still_collected():
    out = _in_fresh_process("""
        import gc, weakref
        from cloutagent import heap
        heap.settle()
        class Node: pass
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        print(gone() is None)
    """)
    assert out == "True"


def test_collect_young_frees_recent_cycles_instead_of_freezing_them():
    out = _in_fresh_process("""
        import gc, weakref
        from cloutagent import heap
        class Node: pass
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        heap.settle(collect=1)
        print(gone() is None)
    """)
    assert out == "True"


def test_the_executor_starts_without_collections():
    """The executor holds collection from its first import (main.execute and pool.py settle)."""
    out = _in_fresh_process("""
        import gc, sys
        try:
            import cloutagent_executor.__main__
        except SystemExit:  # no ids in this environment: main() refuses to start
            pass
        print(gc.isenabled())
    """)
    assert out == "False"


def test_importing_the_local_moto_leaves_collection_alone():
    """Tests import moto_serve's patches: only its main() may hold collection."""
    out = _in_fresh_process("""
        import gc
        import cloutagent_dev.moto_serve
        print(gc.isenabled(), gc.get_freeze_count())
    """)
    assert out == "True 0"


def test_no_test_leaves_this_process_without_collection():
    assert gc.isenabled()
