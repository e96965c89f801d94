"""Test-wide setup: tests marked ``gpu`` run only where CuPy imports and a CUDA device answers."""

from __future__ import annotations

import pytest


def cuda_device_available() -> bool:
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # cupy missing, no driver, or no device
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items or cuda_device_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (cupy with at least one GPU)")
    for item in gpu_items:
        item.add_marker(skip)
