"""Host allocator settings: keep freed NumPy buffers in the process for the next step to reuse.

glibc's malloc hands memory at the top of its heap back to the kernel once more than its trim threshold
is free, and serves blocks of 128 KiB and up from fresh mmaps until its adaptive threshold has risen.
A training step frees most of what it allocated (a loop's kept per-iteration values, its gradients), so
the next step takes every page again as a page fault: in a virtual machine that made a 64x512 float32
bias-add 100 us instead of 10 us, a third of an LSTM step. Fixed thresholds (glibc's own upper bounds)
keep those pages mapped; blocks of 32 MiB and up still come from mmap and go straight back.

``GPUGRAPH_KEEP_HOST_MEMORY=0`` leaves the allocator as it is.
"""

from __future__ import annotations

import ctypes
import os

ENV_KEEP_HOST_MEMORY = "GPUGRAPH_KEEP_HOST_MEMORY"

# mallopt parameters (malloc.h) and the values set
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_SETTINGS = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 128 << 20), (_M_TOP_PAD, 16 << 20))

_applied: bool | None = None  # None: not tried yet in this process


def keep_freed_host_memory() -> bool:
    """Set glibc's malloc thresholds, once per process; False without glibc or when turned off."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get(ENV_KEEP_HOST_MEMORY, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in _SETTINGS)
