"""A process with one GPU as NVML and the CuPy stand-in see it: what sessions made inside use."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

import pytest
from fake_nvml import NvmlGpu, make_pynvml

from gpugraph.runtime import device_setup
from gpugraph.runtime.gpu_manager import GpuManager, set_gpu_manager


@contextlib.contextmanager
def one_fake_gpu(monkeypatch: pytest.MonkeyPatch, cupy: Any, memory: int) -> Iterator[None]:
    """``cupy`` (a stand-in module) as CuPy and a GPU of ``memory`` bytes as NVML's; sessions must run on
    it (GPUGRAPH_DEVICE=gpu), over backends made for this stand-in only."""
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml([NvmlGpu("NVIDIA H200", "GPU-0a1b2c3d-0000", memory)]))
    monkeypatch.setenv("GPUGRAPH_DEVICE", "gpu")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    previous = device_setup.set_device_provider(None)
    previous_manager = set_gpu_manager(GpuManager())
    try:
        yield
    finally:
        set_gpu_manager(previous_manager)
        device_setup.set_device_provider(previous)
