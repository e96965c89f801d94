"""Array backends: one object per device kind. NumPy always exists; CuPy where a CUDA device answers."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, ContextManager

import numpy as np

logger = logging.getLogger("gpugraph")

CPU_DEVICE = "/device:CPU:0"


class Backend:
    """What the plan compiler needs of a device: its array module, host transfers and memory facts.

    The base class is the NumPy (host) backend: transfers are no-ops because host and device are one.
    """

    __slots__ = ("name", "xp", "device")

    def __init__(self, name: str, xp: Any, device: str = CPU_DEVICE):
        self.name = name
        self.xp = xp
        self.device = device

    @property
    def is_host(self) -> bool:
        """True when arrays of this backend are NumPy arrays in host memory (no transfer needed)."""
        return self.device.startswith("/device:CPU:")

    def to_device(self, host_array: Any) -> Any:
        return self.xp.asarray(host_array)

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        """NumPy work is synchronous; a CUDA backend waits on its stream here."""

    def activate(self) -> ContextManager[Any]:
        """Context in which this backend's kernels run (CUDA: its device and stream)."""
        return contextlib.nullcontext()

    def memory_stats(self) -> dict[str, int | None]:
        """``used``: bytes held by live arrays; ``limit``: allocation cap (None: none); ``total``: device memory."""
        return {"used": 0, "limit": None, "total": None}

    def is_out_of_memory(self, exc: BaseException) -> bool:
        return isinstance(exc, MemoryError)

    def release_memory(self) -> None:
        """Give cached device memory back (Session.close); nothing to do on the host."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} on {self.device}>"


NUMPY = Backend("numpy", np)


def check_device_dtype(dtype: np.dtype, device: str) -> None:
    """CUDA arrays hold numbers and booleans only: strings and objects stay on the host."""
    if dtype.kind in "OUSVMm":
        raise TypeError(f"arrays of dtype {dtype} cannot be placed on {device}")


def default_backend() -> Backend:
    return NUMPY


def cupy_available() -> tuple[bool, str]:
    """``(True, "")`` when CuPy imports and sees a CUDA device, else ``(False, why)``. Never raises."""
    try:
        import cupy
    except ModuleNotFoundError as e:
        if e.name in ("cupy", None):
            return False, "cupy is not installed"
        return False, f"cupy failed to import: {e}"
    except Exception as e:  # a broken install: missing CUDA libraries, wrong wheel for the driver...
        return False, f"cupy failed to import: {type(e).__name__}: {e}"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # no driver, driver too old, CUDA_VISIBLE_DEVICES hides every device
        return False, f"no CUDA device: {cuda_error_text(e)}"
    if count <= 0:
        return False, "no CUDA device: cupy reports 0 devices"
    return True, ""


_INSUFFICIENT_DRIVER = 35  # cudaErrorInsufficientDriver: also what CUDA says when there is no driver at all


def nvidia_driver_present() -> bool:
    """Whether the CUDA driver library (installed with the NVIDIA driver) can be loaded."""
    import ctypes

    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def cuda_error_text(error: BaseException) -> str:
    """CUDA's message, except that "driver version is insufficient" without any driver says so."""
    insufficient = getattr(error, "status", None) == _INSUFFICIENT_DRIVER or "cudaErrorInsufficientDriver" in str(error)
    if insufficient and not nvidia_driver_present():
        return "no NVIDIA driver found (libcuda.so.1 cannot be loaded); install the NVIDIA driver to use a GPU"
    return str(error)


_fallback_lock = threading.Lock()
_fallback_logged = False


def note_numpy_fallback(why: str) -> bool:
    """Log, once per process, that gpugraph runs on NumPy because the GPU backend is off. True if it logged."""
    global _fallback_logged
    with _fallback_lock:
        if _fallback_logged:
            return False
        _fallback_logged = True
    # a warning, so that a plain script (no logging set up) shows it too
    logger.warning("gpugraph: GPU backend off (%s); running on NumPy", why)
    return True
