"""The C allocator's setting for a process that runs for months (glibc only; a no-op elsewhere)."""
from __future__ import annotations

import ctypes
import gc
import os
import sys

M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's <malloc.h>
MMAP_THRESHOLD = 256 * 1024


def pin_mmap_threshold(nbytes: int = MMAP_THRESHOLD) -> bool:
    """Serve every allocation of `nbytes` or more with its own mmap, returned to the OS on free.

    glibc raises its mmap threshold each time such a block is freed (up to 32 MB); from then on
    the few-MB buffers of each alert chart and candle frame come from the heap instead and leave
    holes it cannot give back. Measured with bench/daemon.py --telegram (charts on): the heap
    grew 63 -> 72 MB in 300 cycles, a quarter of it free; pinned, it stayed at 46-48 MB.
    A fixed threshold turns that adjustment off. MALLOC_MMAP_THRESHOLD_ in the environment, if
    an operator set it, wins. Returns True when the setting was applied.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc-like: nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, nbytes) == 1


def freeze_startup_objects() -> None:
    """What start-up built (markets, detectors, the candle book) lives as long as the daemon:
    it is kept out of the collector's full passes, which would otherwise pause a close's burst
    of hundreds of series for tens of milliseconds. Garbage is collected first, not frozen."""
    gc.collect()
    gc.freeze()
