"""Elementwise NumPy work split over a few threads.

NumPy releases the GIL inside its ufunc loops, so independent blocks of an elementwise
computation run in parallel on threads: reference.random's Philox blocks and the optimizers'
updates of large variables. The result never depends on the split: every element is computed
by the same operations either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_POOL: list = []


def workers() -> int:
    """The threads worth using: the usable cores, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


def pool():
    """A small thread pool, made on first use."""
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(workers(), thread_name_prefix="reference"))
    return _POOL[0]


def map_blocks(fn: Callable[[int, int], None], n: int, block: int) -> None:
    """fn(start, stop) for blocks of `block` covering [0, n), on the pool when there are
    several (each block a task: for work whose blocks cost much more than a task)."""
    starts = range(0, n, block)
    if len(starts) > 1:
        list(pool().map(lambda a: fn(a, min(a + block, n)), starts))
    else:
        for a in starts:
            fn(a, min(a + block, n))
