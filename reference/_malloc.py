"""glibc's heap thresholds, pinned for training loops.

A training step allocates and frees the same few large arrays every step (activations,
gradients: 4.8 MB a step for an MLP 784-512-512-10 at batch 128). glibc returns the free top of
its heap to the system when it exceeds M_TRIM_THRESHOLD, and the next step's arrays then come
back as fresh pages, faulted in and zeroed by the kernel. Whether that happens every step
depends on what the process allocated before: on a 2-core AMD EPYC, a fit epoch of that MLP
after a Keras fit in the same process took 262k-291k minor page faults (0.5-0.8 s of system
time in a 4-5.5 s epoch); alone, or with the thresholds pinned, 9-708.

`pin_thresholds()` sets the two thresholds to the ceilings glibc's own adaptive policy climbs
to once a large array has been freed (M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD twice that), so
the heap keeps up to 64 MiB of free top instead of handing it back every step. It is called by
the training loops (fit, evaluate, predict, *_on_batch), once per process, and does nothing
where the C library is not glibc. Setting either value turns glibc's adaptive thresholds off for
the process (mallopt(3)); REFERENCE_KEEP_MALLOC=1 in the environment leaves them alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_MMAP_CEILING = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit glibc
_DONE: list[bool] = []


def pin_thresholds() -> bool:
    """Pin glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (once per process); whether it did."""
    if _DONE:
        return _DONE[0]
    done = False
    if (
        platform.system() == "Linux"
        and platform.libc_ver()[0] == "glibc"
        and os.environ.get("REFERENCE_KEEP_MALLOC") != "1"
    ):
        try:
            mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        except (OSError, AttributeError):
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_CEILING))
            done = bool(mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_CEILING)) and done
    _DONE.append(done)
    return done
