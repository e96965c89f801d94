"""Host BLAS threads sized to the work: small matrix products run on one thread.

OpenBLAS splits a product across its threads in fixed shares and waits for every share. For a small
product (an RNN step's 64x156 by 156x512) a second thread saves about 50 us on an idle machine, but when
another process holds that core the product waits for the scheduler: 3 to 35 ms instead of 0.15 ms, which
made a training step ten times slower on a shared 2-core machine. Products under ``SMALL_PRODUCT_MACS``
multiply-adds (about half a millisecond on one core) run single-threaded; larger ones keep the BLAS's
own thread count. On a machine of one's own, ``GPUGRAPH_SINGLE_THREAD_MACS=0`` keeps every product
threaded (about 10% faster for an LSTM step on an idle 2-core machine). Needs threadpoolctl (without it,
the BLAS's setting is left alone); only NumPy arrays.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

from gpugraph.ops.xp_compat import on_host

ENV_SINGLE_THREAD_MACS = "GPUGRAPH_SINGLE_THREAD_MACS"


def _threshold(text: str) -> int:
    try:
        return int(text) if text.strip() else 1 << 25
    except ValueError:
        raise ValueError(f"{ENV_SINGLE_THREAD_MACS} must be a whole number of multiply-adds, got {text!r}") from None


SMALL_PRODUCT_MACS = _threshold(os.environ.get(ENV_SINGLE_THREAD_MACS, ""))
_ONE_THREAD_ANYWAY = 1 << 18  # OpenBLAS runs a product this small on one thread itself: no switching cost

_lock = threading.Lock()
_libs: list[Any] | None = None  # threadpoolctl's controllers of the loaded BLAS libraries; None: not looked up


def _blas_libs() -> list[Any]:
    global _libs
    if _libs is None:
        with _lock:
            if _libs is None:
                try:
                    from threadpoolctl import ThreadpoolController
                    _libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
                except Exception:  # not installed, or a BLAS it cannot drive: leave the BLAS as it is
                    _libs = []
    return _libs


def sized_product(xp: Any, macs: int, product: Callable[[], Any]) -> Any:
    """``product()``, on one BLAS thread when it is a small host product of ``macs`` multiply-adds."""
    if not on_host(xp) or macs >= SMALL_PRODUCT_MACS or macs <= _ONE_THREAD_ANYWAY:
        return product()
    threaded = [(lib, n) for lib in _blas_libs() if (n := lib.get_num_threads()) and n > 1]
    if not threaded:
        return product()
    for lib, _ in threaded:
        lib.set_num_threads(1)
    try:
        return product()
    finally:
        for lib, n in threaded:
            lib.set_num_threads(n)
