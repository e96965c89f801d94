"""Each test here builds into its own default graph; tests/kernels' NVRTC and host-compiler helpers are importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "ops"))
sys.path.insert(0, str(TESTS / "kernels"))

from op_testing import graph, run  # noqa: E402,F401 - graph is an autouse fixture


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Host-compiled regions go to a fresh cache folder, not the user's."""
    folder = tmp_path_factory.mktemp("fused-kernels")
    old = os.environ.get("GPUGRAPH_KERNEL_CACHE")
    os.environ["GPUGRAPH_KERNEL_CACHE"] = str(folder)
    yield folder
    if old is None:
        del os.environ["GPUGRAPH_KERNEL_CACHE"]
    else:
        os.environ["GPUGRAPH_KERNEL_CACHE"] = old
