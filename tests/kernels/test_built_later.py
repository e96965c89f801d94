"""Host kernels built once a plan wants them: not before the third call, once for all callers, and never
without a compiler or where it fails (the callers' NumPy paths run)."""

from __future__ import annotations

import ctypes
import threading
from typing import Iterator

import numpy as np
import pytest

from gpugraph.compiler.fused_step import COMPILE_AFTER
from gpugraph.fusion import compiled
from gpugraph.kernels import host_xent, leading_sums
from gpugraph.kernels.built_later import BuiltLater

SOURCE = 'extern "C" long long twice(long long x) { return 2 * x; }\n'


@pytest.fixture(autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GPUGRAPH_KERNEL_CACHE", str(tmp_path_factory.mktemp("built-later")))
    yield
    leading_sums._LOOPS.reset()
    host_xent._KERNELS.reset()


@pytest.mark.skipif(not compiled.available(), reason="no host C++ compiler")
def test_built_on_the_third_call_once_for_all_threads() -> None:
    built = BuiltLater(lambda: SOURCE, ["twice"], [[ctypes.c_longlong]], [ctypes.c_longlong])
    assert [built.functions() for _ in range(COMPILE_AFTER - 1)] == [None] * (COMPILE_AFTER - 1)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(built.functions())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s is seen[0] for s in seen) and seen[0][0](21) == 42


def test_without_a_compiler_nothing_is_built_and_numpy_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "available", lambda: False)
    for kernel in (leading_sums._LOOPS, host_xent._KERNELS):
        kernel.reset()
        monkeypatch.setattr(kernel, "calls", COMPILE_AFTER)
    x = np.ones((300, 40), np.float32)
    assert leading_sums.leading_sum(x, 1) is None
    assert host_xent.sparse_xent(x, np.zeros(300, np.int32)) is None
    assert leading_sums._LOOPS.functions() is None  # and it does not try again


def test_a_compiler_that_fails_leaves_numpy_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(functions: object) -> object:
        raise RuntimeError("the C++ compiler rejected a fused region")

    monkeypatch.setattr(compiled, "available", lambda: True)
    monkeypatch.setattr(compiled, "load", refuse)
    built = BuiltLater(lambda: SOURCE, ["twice"], [[ctypes.c_longlong]], [ctypes.c_longlong])
    monkeypatch.setattr(built, "calls", COMPILE_AFTER)
    assert built.functions() is None and built.functions() is None
