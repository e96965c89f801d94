"""Host BLAS products: the same bits whatever the machine's load, and small ones never waiting for a core.

OpenBLAS's result depends on how many threads it splits a product across, so the count must not follow
the machine's load: a product runs on ``fixed_threads()`` threads (the running session's
``intra_op_parallelism_threads``, else every usable core, as TF1's default), or on one thread under
``SMALL_PRODUCT_MACS`` multiply-adds (2^24 by default: 256x256x256 is the smallest on the full count). A
product split across a core another process holds waits for the scheduler (an RNN step's 0.15 ms product
took 3 to 35 ms on a shared 2-core machine): products under the threshold, the many small ones of an RNN
step, never do; larger ones may, on a machine in use (``intra_op_parallelism_threads=1`` keeps them on
one thread). ``GPUGRAPH_SINGLE_THREAD_MACS=N`` sets the threshold (0: every product on the fixed count).
Needs threadpoolctl (without it, the BLAS's setting is left alone); only NumPy arrays.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable

from gpugraph.ops.xp_compat import on_host

ENV_SINGLE_THREAD_MACS = "GPUGRAPH_SINGLE_THREAD_MACS"


def _threshold(text: str) -> int:
    try:
        return int(text) if text.strip() else 1 << 24
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
_run_threads = 0  # intra_op_parallelism_threads of the session runs in progress; 0: none set one


def default_threads() -> int:
    """Threads a large product uses by default: every usable core, whatever the load (the count decides
    the values)."""
    return _CORES


def set_run_threads(threads: int) -> None:
    """The session's count for the runs in progress (0 when they end): large products use it."""
    global _run_threads
    _run_threads = threads


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
                    controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
                except Exception:  # not installed, or a BLAS it cannot drive: leave the BLAS as it is
                    controllers = []
                found = [_direct(c) for c in controllers]
                _libs = _scanned = found
                _scanned_modules = len(sys.modules)
    return _libs


class OpenBLASCalls:
    """A pthreads OpenBLAS's own thread-count functions, called straight through ctypes. threadpoolctl's
    controller takes a lock and checks which Python thread may set the count on every call: a product
    switched to one thread and back paid 8 us for it, now about 1 (an MLP step switches three times)."""

    __slots__ = ("controller", "get_num_threads", "set_num_threads")

    def __init__(self, controller: Any, get_num_threads: Any, set_num_threads: Any):
        self.controller = controller  # threadpoolctl's, for what it reports
        self.get_num_threads = get_num_threads
        self.set_num_threads = set_num_threads

    def __getattr__(self, name: str) -> Any:  # what threadpoolctl reports: filepath, version, ...
        return getattr(self.controller, name)


def _direct(controller: Any) -> Any:
    """``OpenBLASCalls`` for a pthreads OpenBLAS whose functions are found under the names threadpoolctl
    looks for; else the controller itself (an OpenMP build limits per thread, through OpenMP)."""
    pthreads = getattr(controller, "threading_layer", "") == "pthreads"
    if getattr(controller, "internal_api", None) != "openblas" or not pthreads:
        return controller
    import ctypes

    try:
        library = ctypes.CDLL(controller.filepath, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_LOCAL)
    except OSError:
        return controller
    for prefix in ("", "scipy_"):  # NumPy's and SciPy's wheels rename OpenBLAS's symbols
        for suffix in ("", "64_"):
            get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.argtypes, get.restype = [], ctypes.c_int
                set_.argtypes, set_.restype = [ctypes.c_int], None
                return OpenBLASCalls(controller, get, set_)
    return controller


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
    controlled = [lib for lib, _ in counts if type(lib) is not OpenBLASCalls]  # threadpoolctl's turn to hand over
    if controlled:
        _clear_control(force=True)
    for lib, n in counts:
        lib.set_num_threads(n)
    if controlled and not keep_turn:
        _clear_control()


def is_small_product(macs: int) -> bool:
    """Whether a product of ``macs`` multiply-adds runs as it is, whatever the BLAS thread settings."""
    return macs <= _ONE_THREAD_ANYWAY


def sized_product(xp: Any, macs: int, product: Callable[[], Any]) -> Any:
    """``product()`` of ``macs`` multiply-adds (host products only), on ``fixed_threads()`` BLAS threads, or
    one under ``SMALL_PRODUCT_MACS``: a count that the machine's load does not change, since OpenBLAS's
    result depends on its thread count."""
    if not on_host(xp) or macs <= _ONE_THREAD_ANYWAY:
        return product()
    limit = 1 if macs < SMALL_PRODUCT_MACS else fixed_threads()
    over = lower_blas_threads(limit)  # no context manager: a small product's switch and back, 2.9 us
    try:
        return product()
    finally:
        if over:
            set_blas_threads(over)


def lower_blas_threads(limit: int) -> list[tuple[Any, int]]:
    """Each BLAS over ``limit`` threads set to ``limit``; returns what to restore (library, its count)."""
    over = [(lib, n) for lib in blas_libs() if (n := lib.get_num_threads()) and n > limit]
    if over:
        set_blas_threads([(lib, limit) for lib, _ in over], keep_turn=True)
    return over


def fixed_threads() -> int:
    """The threads a product may use: the running session's ``intra_op_parallelism_threads``, else every
    usable core (as TF1's default), whatever the load."""
    return _run_threads or default_threads()


class blas_threads:  # noqa: N801 - a context manager used like a function
    """Inside, the host BLAS runs on at most ``limit`` threads (its own count restored after)."""

    __slots__ = ("limit", "over")

    def __init__(self, limit: int):
        self.limit = limit
        self.over: list[tuple[Any, int]] = []

    def __enter__(self) -> None:
        self.over = lower_blas_threads(self.limit)

    def __exit__(self, *exc: Any) -> None:
        if self.over:
            set_blas_threads(self.over)
