"""Pausing the cycle collector over a batch that allocates much and frees nothing cyclic.

Dedup's scoring builds hundreds of thousands of small acyclic values (tuples, frozensets,
prepared records, verdicts). The collector, run every few hundred allocations, walks the
young ones again and again for nothing: a fifth of a cold dedup's time (bench/dedup). No
memory is lost by pausing it: reference counting frees those values as usual, and what
cycles other code makes meanwhile are collected once the pause ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector paused while the block runs. Nested and concurrent pauses (two threads
    reclustering) count: it comes back when the last one ends, and only if it was on
    before the first began."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
