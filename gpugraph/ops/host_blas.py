"""Host BLAS products: the same bits whatever the machine's load, and no wait for a busy core.

OpenBLAS's result depends on how many threads it splits a product across, and a product split across a
core another process holds waits for the scheduler (an RNN step's 0.15 ms product took 3 to 35 ms on a
shared 2-core machine). So a product of two matrices is cut by gpugraph into ``fixed_threads()`` row
parts, each computed on one BLAS thread (:func:`split_product`): the running session's
``intra_op_parallelism_threads``, else every usable core, as TF1's default. The parts run side by side
while other processes leave the cores idle over the last half second, and one after another otherwise:
the same values either way. Other products (batched, convolutions' sums of taps) run on
``fixed_threads()`` BLAS threads. ``GPUGRAPH_SINGLE_THREAD_MACS=N`` keeps products under N multiply-adds
on one thread (default 0: none). Needs threadpoolctl (without it, the BLAS's setting is left alone);
only NumPy arrays.
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
    """Threads a product may use by default: every usable core (the load decides only whether a split
    product's parts run side by side, never how it is split)."""
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
    """``product()`` of ``macs`` multiply-adds (host products only), on ``fixed_threads()`` BLAS threads, or
    one under ``SMALL_PRODUCT_MACS``: a count that the machine's load does not change, since OpenBLAS's
    result depends on its thread count. Two matrices go through :func:`split_product` instead."""
    if not on_host(xp) or macs <= _ONE_THREAD_ANYWAY:
        return product()
    limit = 1 if macs < SMALL_PRODUCT_MACS else fixed_threads()
    with blas_threads(limit):
        return product()


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
        limit = self.limit
        self.over = [(lib, n) for lib in blas_libs() if (n := lib.get_num_threads()) and n > limit]
        if self.over:
            set_blas_threads([(lib, limit) for lib, _ in self.over], keep_turn=True)

    def __exit__(self, *exc: Any) -> None:
        if self.over:
            set_blas_threads(self.over)


_SPLIT_KINDS = frozenset("fc")  # BLAS products; integer ones are NumPy's own loops


def split_product(xp: Any, a: Any, b: Any) -> Any:
    """``a @ b`` for two NumPy matrices, the same bits whatever the machine's load. From ``SPLIT_MACS`` to
    ``BLAS_SPLIT_MACS`` multiply-adds the result's rows are cut into ``fixed_threads()`` parts, each a
    product on one BLAS thread: while other processes leave the cores idle the parts run side by side, on
    a machine in use one after another here, so no part waits for a core another process holds (an RNN
    step's products are this size). Larger products run on ``fixed_threads()`` BLAS threads, smaller ones
    (or all under ``SMALL_PRODUCT_MACS``) on one."""
    matmul = xp.matmul
    if not on_host(xp):
        return matmul(a, b)
    m, k = a.shape
    n = b.shape[1]
    macs = m * k * n
    if macs <= _ONE_THREAD_ANYWAY or k != b.shape[0] or a.dtype.kind not in _SPLIT_KINDS \
            or b.dtype.kind not in _SPLIT_KINDS:
        return matmul(a, b)  # OpenBLAS runs a product this small on one thread itself; NumPy's errors
    if macs >= max(SMALL_PRODUCT_MACS, BLAS_SPLIT_MACS):  # long enough that OpenBLAS's own split pays
        with blas_threads(fixed_threads()):
            return matmul(a, b)
    parts = 1 if macs < max(SMALL_PRODUCT_MACS, SPLIT_MACS) else min(fixed_threads(), m)
    with blas_threads(1):
        if parts == 1:
            return matmul(a, b)
        out = xp.empty((m, n), xp.result_type(a.dtype, b.dtype))
        bounds = [m * p // parts for p in range(parts + 1)]
        work = [(a[bounds[p]:bounds[p + 1]], out[bounds[p]:bounds[p + 1]]) for p in range(parts)]
        if _others.others_idle():
            _helpers.run(matmul, b, work)
        else:
            for rows, part in work:
                matmul(rows, b, out=part)
        return out


SPLIT_MACS = 1 << 21  # a product under this (about 50 us on one core) is one part: handing parts over costs more
# From here OpenBLAS splits the product itself, on fixed_threads() threads: each thread packs only its share
# of the operands, where gpugraph's parts pack all of the other one (256x256x256: 200 us against 267).
BLAS_SPLIT_MACS = 1 << 24


class _Helpers:
    """Threads that each take a part of a product (NumPy's matmul lets the GIL go while BLAS works)."""

    def __init__(self) -> None:
        import queue

        self.tasks: Any = queue.SimpleQueue()
        self.started = 0

    def run(self, matmul: Any, b: Any, parts: list[tuple[Any, Any]]) -> None:
        """Every part but the first handed to a helper, the first here; back once all are done."""
        with _lock:
            while self.started < len(parts) - 1:
                threading.Thread(target=self._serve, name="gpugraph-blas", daemon=True).start()
                self.started += 1
        done = threading.Semaphore(0)
        failures: list[BaseException] = []
        for rows, part in parts[1:]:
            self.tasks.put((matmul, rows, b, part, done, failures))
        matmul(parts[0][0], b, out=parts[0][1])
        for _ in parts[1:]:
            done.acquire()
        if failures:
            raise failures[0]

    def _serve(self) -> None:
        while True:
            matmul, rows, b, part, done, failures = self.tasks.get()
            try:
                matmul(rows, b, out=part)
            except BaseException as e:  # handed back to the caller, which raises it
                failures.append(e)
            done.release()


_helpers = _Helpers()
