"""Host BLAS threads sized to the work and to the machine.

OpenBLAS splits a product across its threads in fixed shares and waits for every share: when another
process holds a core, a product split across it waits for the scheduler (an RNN step's 0.15 ms product
took 3 to 35 ms on a shared 2-core machine). So products run on at most ``large_product_threads()``: the
running session's ``intra_op_parallelism_threads``, or by default all usable cores while other processes
leave them idle and all but one otherwise (see gpugraph/runtime/host_threads.py). On an idle machine a
second thread halves even a 256x256x256 product (371 -> 207 us here; 27 -> 16 us for 256x256x10).
``GPUGRAPH_SINGLE_THREAD_MACS=N`` runs products under N multiply-adds on one thread whatever the load
(0, the default: none). Needs threadpoolctl (without it, the BLAS's setting is left alone); only NumPy
arrays.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable

from gpugraph.ops.xp_compat import on_host

ENV_SINGLE_THREAD_MACS = "GPUGRAPH_SINGLE_THREAD_MACS"


def _threshold(text: str) -> int:
    try:
        return int(text) if text.strip() else 0
    except ValueError:
        raise ValueError(f"{ENV_SINGLE_THREAD_MACS} must be a whole number of multiply-adds, got {text!r}") from None


SMALL_PRODUCT_MACS = _threshold(os.environ.get(ENV_SINGLE_THREAD_MACS, ""))
_ONE_THREAD_ANYWAY = 1 << 18  # OpenBLAS runs a product this small on one thread itself: no switching cost

_lock = threading.Lock()
_libs: list[Any] | None = None  # threadpoolctl's controllers of the loaded BLAS libraries; None: not looked up


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, as a container's cpuset sets it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_CORES = usable_cores()
DEFAULT_THREADS = max(1, _CORES - 1)  # on a machine in use; why: gpugraph/runtime/host_threads.py
_run_threads = 0  # intra_op_parallelism_threads of the session runs in progress; 0: none set one
SAMPLE_SECONDS = 0.5  # how often the load of other processes is read again


class _OthersLoad:
    """Whether other processes left this machine's cores idle lately: the machine's busy CPU time
    (/proc/stat) less this process's own (``time.process_time``), over the last ``SAMPLE_SECONDS``."""

    def __init__(self) -> None:
        self.when: float | None = None
        self.busy = self.own = 0.0
        self.idle = False

    def others_idle(self) -> bool:
        now = time.monotonic()
        if self.when is not None and now - self.when < SAMPLE_SECONDS:
            return self.idle
        busy, own = machine_busy_seconds(), time.process_time()
        if busy is None:
            return False  # not Linux: the rule for a busy machine
        if self.when is not None:
            others = (busy - self.busy) - (own - self.own)  # CPU-seconds of other processes meanwhile
            self.idle = others < 0.5 * (now - self.when)  # less than half a core on average
        self.when, self.busy, self.own = now, busy, own
        return self.idle


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_seconds() -> float | None:
    """CPU-seconds all cores have spent busy since boot (user, nice, system, irq, softirq, steal); None
    where /proc/stat cannot be read."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields) - idle) / _CLOCK_TICKS


_others = _OthersLoad()
_others.others_idle()  # the first sample, at import: the first large product, later, has an interval to judge


def default_threads() -> int:
    """Threads for a large product by default: all usable cores while other processes leave the machine
    idle, else all but one (``DEFAULT_THREADS``), so a core another process takes stalls no product."""
    return max(DEFAULT_THREADS, _CORES) if _others.others_idle() else DEFAULT_THREADS


def set_run_threads(threads: int) -> None:
    """The session's count for the runs in progress (0 when they end): large products use it."""
    global _run_threads
    _run_threads = threads


def large_product_threads() -> int:
    return _run_threads or default_threads()


_scanned: list[Any] | None = None  # the last scan's list, and how many modules were loaded then
_scanned_modules = -1


def blas_libs() -> list[Any]:
    """threadpoolctl's controllers of the loaded BLAS libraries (none without threadpoolctl). Scanned
    again when modules were imported since (SciPy brings a BLAS of its own); a steady loop imports none."""
    global _libs, _scanned, _scanned_modules
    loaded = len(sys.modules)
    if _libs is None or (_libs is _scanned and loaded != _scanned_modules):
        with _lock:
            if _libs is None or (_libs is _scanned and loaded != _scanned_modules):
                try:
                    from threadpoolctl import ThreadpoolController
                    found = list(ThreadpoolController().select(user_api="blas").lib_controllers)
                except Exception:  # not installed, or a BLAS it cannot drive: leave the BLAS as it is
                    found = []
                _libs = _scanned = found
                _scanned_modules = len(sys.modules)
    return _libs


def _no_turns(force: bool = False) -> None:
    pass


try:  # threadpoolctl lets one Python thread at a time set OpenBLAS's process-wide count, ignoring the others
    from threadpoolctl import OpenBLASController
    _clear_control: Callable[..., None] = getattr(OpenBLASController, "clear_controlling_thread", _no_turns)
except ImportError:
    _clear_control = _no_turns


def set_blas_threads(counts: list[tuple[Any, int]], keep_turn: bool = False) -> None:
    """Sets each (library, thread count), from whichever Python thread runs the session; the turn to set
    is handed back unless ``keep_turn`` (a set that will be undone soon from the same thread)."""
    _clear_control(force=True)
    for lib, n in counts:
        lib.set_num_threads(n)
    if not keep_turn:
        _clear_control()


def is_small_product(macs: int) -> bool:
    """Whether a product of ``macs`` multiply-adds runs as it is, whatever the BLAS thread settings."""
    return macs <= _ONE_THREAD_ANYWAY


def sized_product(xp: Any, macs: int, product: Callable[[], Any]) -> Any:
    """``product()`` of ``macs`` multiply-adds, on one BLAS thread when small, at most
    ``large_product_threads()`` otherwise (host products only)."""
    if not on_host(xp) or macs <= _ONE_THREAD_ANYWAY:
        return product()
    limit = 1 if macs < SMALL_PRODUCT_MACS else _run_threads or default_threads()
    over = [(lib, n) for lib in blas_libs() if (n := lib.get_num_threads()) and n > limit]
    if not over:
        return product()
    set_blas_threads([(lib, limit) for lib, _ in over], keep_turn=True)
    try:
        return product()
    finally:
        set_blas_threads(over)
