"""Test helper: a BuiltLater kernel set built on its next call, into a fresh cache folder, and forgotten after."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gpugraph.compiler.fused_step import COMPILE_AFTER
from gpugraph.kernels.built_later import BuiltLater


def built_on_first_call(kernels: BuiltLater, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For a fixture: ``yield from`` it."""
    monkeypatch.setenv("GPUGRAPH_KERNEL_CACHE", str(folder))
    kernels.reset()
    monkeypatch.setattr(kernels, "calls", COMPILE_AFTER)  # the next call builds
    yield
    kernels.reset()
