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


def split(fn: Callable[[int, int], None], n: int, block: int, min_split: int) -> None:
    """fn(start, stop) over [0, n) in blocks of `block`, the range cut into one contiguous
    part per worker: the caller runs the first part while the pool runs the others, so each
    part costs one task. Below `min_split` elements the caller does it all."""
    parts = workers() if n >= min_split else 1
    cuts = [n * i // parts for i in range(parts + 1)]

    def run(a: int, b: int) -> None:
        for start in range(a, b, block):
            fn(start, min(start + block, b))

    futures = [pool().submit(run, a, b) for a, b in zip(cuts[1:-1], cuts[2:], strict=True)]
    try:
        run(cuts[0], cuts[1])
    finally:
        for f in futures:
            f.result()
