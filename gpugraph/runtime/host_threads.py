"""Host threads of a session's runs: TF1's ``ConfigProto.intra_op_parallelism_threads``.

N > 0: a run of the session runs its host BLAS work (and a py_func's) on N threads, small matrix
products aside (one thread, gpugraph/ops/host_blas.py); the BLAS's own count is back when the run ends.
0, TF1's "pick a default": every usable core for large products. The count decides the values (OpenBLAS's
result depends on how a product is split), so it never follows the machine's load. Small products (under
2^24 multiply-adds) run on one thread: a BLAS product splits into fixed shares and waits for the
slowest, so a core taken by another process stalls it, and an RNN step is made of many small products
(on this project's shared 2-core machine, 3 to 35 ms for a 0.15 ms product while other work held the
cores; bench/RESULTS.md).
``inter_op_parallelism_threads`` is accepted and has no effect: a run executes its steps one after
another on the calling thread.

The BLAS thread count is process-wide: runs that overlap in time (sessions used from several threads)
share the count set by the first of them, restored when the last one ends. Needs threadpoolctl;
without it (or with a BLAS it cannot drive) the BLAS is left as it is.
"""

from __future__ import annotations

import threading
from typing import Any

from gpugraph.ops import host_blas
from gpugraph.ops.host_blas import blas_libs, set_blas_threads, usable_cores

__all__ = ["BlasThreads", "default_intra_op_threads", "intra_op_threads", "run_threads", "usable_cores"]


def default_intra_op_threads() -> int:
    """The count 0 stands for: every usable core, whatever the load."""
    return host_blas.default_threads()


def intra_op_threads(session_or_config: Any) -> int:
    """The host threads a run of this session (or of a session made with this ConfigProto) may use."""
    config = getattr(session_or_config, "_config", session_or_config)
    requested = getattr(config, "intra_op_parallelism_threads", 0) if config is not None else 0
    return requested if requested > 0 else default_intra_op_threads()


class BlasThreads:
    """Context manager: inside, the host BLAS runs on ``threads`` threads; its own count after."""

    __slots__ = ("threads",)

    def __init__(self, threads: int):
        if threads < 1:
            raise ValueError(f"intra_op_parallelism_threads must be at least 1 here, got {threads}")
        self.threads = threads

    def __enter__(self) -> BlasThreads:
        _enter(self.threads)
        return self

    def __exit__(self, *exc: Any) -> None:
        _exit()


def run_threads(config: Any) -> BlasThreads | None:
    """What a session made with ``config`` wraps each run in: None for the default, 0 (nothing to do)."""
    requested = getattr(config, "intra_op_parallelism_threads", 0) if config is not None else 0
    return BlasThreads(requested) if requested > 0 else None


# --- process-wide: the counts found when the first of overlapping runs began, and how many runs are in ---
_lock = threading.Lock()
_runs_in = 0
_found: list[tuple[Any, int]] = []  # (BLAS library, its own thread count)
_changed = False  # whether a run set a count, so the last one out restores them


def _enter(threads: int) -> None:
    global _runs_in, _found, _changed
    with _lock:
        _runs_in += 1
        if _runs_in > 1 and host_blas._run_threads:
            return  # an overlapping run set the process-wide count already
        if _runs_in == 1:
            _found = [(lib, n) for lib in blas_libs() if (n := lib.get_num_threads())]
        host_blas.set_run_threads(threads)
        wanted = [(lib, threads) for lib, n in _found if n != threads]
        if wanted:
            set_blas_threads(wanted, keep_turn=True)
            _changed = True


def _exit() -> None:
    global _runs_in, _changed
    with _lock:
        _runs_in -= 1
        if _runs_in:
            return
        host_blas.set_run_threads(0)
        if _changed:
            set_blas_threads(_found)
            _changed = False
