"""Matrix products on the host: small ones on one BLAS thread, large ones on a count the load does not
change (the same bits whatever the load), the BLAS's setting restored after."""

from __future__ import annotations

from typing import Any

import sys

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops import conv_ops, host_blas
from op_testing import graph  # noqa: F401 - graph: each test's fresh default graph (autouse)


class _FakeBlas:
    """Records the thread counts a product ran under."""

    def __init__(self, threads: int):
        self.threads, self.history = threads, [threads]

    def get_num_threads(self) -> int:
        return self.threads

    def set_num_threads(self, n: int) -> None:
        self.threads = n
        self.history.append(n)


@pytest.fixture
def blas(monkeypatch: pytest.MonkeyPatch) -> _FakeBlas:
    fake = _FakeBlas(4)
    monkeypatch.setattr(host_blas, "_libs", [fake])
    monkeypatch.setattr(host_blas, "default_threads", lambda: 4)  # a 4-core machine's default
    return fake


def _product(a: Any, b: Any, blas: _FakeBlas, **attrs: Any) -> tuple[Any, list[int]]:
    seen: list[int] = []
    real = np.matmul

    def spy(x: Any, y: Any, **kwargs: Any) -> Any:
        seen.append(blas.threads)
        return real(x, y, **kwargs)

    out = tf.matmul(tf.constant(a), tf.constant(b), **attrs)
    with tf.Session() as sess:
        np_matmul, np.matmul = np.matmul, spy
        try:
            got = sess.run(out)
        finally:
            np.matmul = np_matmul
    return got, seen


def test_small_product_runs_on_one_thread_and_restores(blas: _FakeBlas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", 1 << 25)  # GPUGRAPH_SINGLE_THREAD_MACS=33554432
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((70, 60)), rng.standard_normal((80, 60))  # 336,000 multiply-adds
    got, seen = _product(a, b, blas, transpose_b=True)
    np.testing.assert_allclose(got, a @ b.T, rtol=1e-12)
    assert seen == [1] and blas.threads == 4 and blas.history == [4, 1, 4]


def test_large_product_keeps_the_blas_threads(blas: _FakeBlas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", 2 * 300 * 40 * 50)  # exactly the threshold
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 300, 40)), rng.standard_normal((2, 40, 50))
    got, seen = _product(a, b, blas)
    np.testing.assert_allclose(got, np.einsum("bij,bjk->bik", a, b), rtol=1e-9, atol=1e-12)
    assert seen == [4] and blas.history == [4]
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", 2 * 300 * 40 * 50 + 1)  # one more: single-threaded
    assert _product(a, b, blas)[1] == [1]


def test_single_threaded_blas_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeBlas(1)
    monkeypatch.setattr(host_blas, "_libs", [fake])
    assert host_blas.sized_product(np, 1 << 20, lambda: "done") == "done"
    assert fake.history == [1]


def test_tiny_products_switch_nothing(blas: _FakeBlas) -> None:  # the BLAS runs them on one thread itself
    assert host_blas.sized_product(np, 1000, lambda: "done") == "done"
    assert blas.history == [4]


def test_restored_when_the_product_raises(blas: _FakeBlas) -> None:
    def fails() -> None:
        raise ValueError("shapes")

    with pytest.raises(ValueError, match="shapes"):
        host_blas.sized_product(np, 1 << 20, fails)
    assert blas.threads == 4


@pytest.mark.parametrize("cores", [1, 2, 3])
def test_by_default_a_large_product_runs_on_every_core_and_a_small_one_on_one(
        blas: _FakeBlas, cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", host_blas._threshold(""))
    monkeypatch.setattr(host_blas, "default_threads", lambda: cores)
    rng = np.random.default_rng(0)
    small = rng.standard_normal((70, 600))  # 2.9M multiply-adds, under 2^24
    got, seen = _product(small, small.T, blas)
    np.testing.assert_allclose(got, small @ small.T, rtol=1e-10)
    assert seen == [1] and blas.threads == 4
    large = rng.standard_normal((300, 300))  # 27M
    assert _product(large, large, blas)[1] == [cores]
    assert blas.threads == 4


def test_threshold_from_the_environment() -> None:
    assert host_blas._threshold("") == 1 << 24
    assert host_blas._threshold(" 0 ") == 0
    with pytest.raises(ValueError, match="GPUGRAPH_SINGLE_THREAD_MACS"):
        host_blas._threshold("many")


def test_convolution_products_are_sized_too(blas: _FakeBlas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", 1 << 25)  # small ones on one thread, when asked
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((10, 18, 18, 8)), rng.standard_normal((3, 3, 8, 16))
    attrs = dict(strides=(1, 1, 1, 1), padding="VALID", explicit_paddings=(), data_format="NHWC",
                 dilations=(1, 1, 1, 1))
    y = conv_ops._conv2d_impl(np, x, w, **attrs)  # 2.9M multiply-adds
    assert blas.history == [4, 1, 4]
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # [n, 16, 16, c, 3, 3]
    np.testing.assert_allclose(y, np.einsum("nhwcij,ijco->nhwo", windows, w), rtol=1e-10, atol=1e-10)
    conv_ops._bp_input_impl(np, w, y, input_sizes=x.shape, **attrs)  # nine products of 330K multiply-adds
    assert blas.history == [4, 1, 4, 1, 4]
    conv_ops._bp_filter_impl(np, x, y, filter_sizes=w.shape, **attrs)
    assert blas.history == [4, 1, 4, 1, 4, 1, 4] and blas.threads == 4


def test_blas_libraries_are_scanned_again_after_an_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library imported later (SciPy loads a BLAS of its own) is controlled too; no import, no new scan."""
    import types

    monkeypatch.setattr(host_blas, "_libs", None)
    first = host_blas.blas_libs()
    assert host_blas.blas_libs() is first  # nothing imported since: the same scan
    monkeypatch.setitem(sys.modules, "a_module_imported_since", types.ModuleType("a_module_imported_since"))
    again = host_blas.blas_libs()
    assert again is not first and [c.filepath for c in again] == [c.filepath for c in first]


def test_openblas_thread_count_is_set_through_its_own_functions() -> None:
    """The direct calls set the count threadpoolctl reads back, and report what it reports."""
    import threadpoolctl  # a dependency: the reference for what OpenBLAS runs on

    libs = [lib for lib in host_blas.blas_libs() if isinstance(lib, host_blas.OpenBLASCalls)]
    assert libs, "NumPy's OpenBLAS (pthreads) should be driven directly"
    for lib in libs:
        before = lib.get_num_threads()
        assert before == lib.controller.get_num_threads()
        try:
            lib.set_num_threads(1)
            assert lib.controller.get_num_threads() == 1
            reported = {c.filepath: c.num_threads for c in threadpoolctl.ThreadpoolController().lib_controllers}
            assert reported[lib.filepath] == 1
        finally:
            lib.set_num_threads(before)
        assert lib.controller.get_num_threads() == before


def test_a_small_product_runs_on_one_openblas_thread_through_its_own_functions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    libs = [lib for lib in host_blas.blas_libs() if isinstance(lib, host_blas.OpenBLASCalls)]
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(2)
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", 1 << 25)
    seen: list[list[int]] = []
    real = np.matmul

    def spy(x: Any, y: Any, **kwargs: Any) -> Any:
        seen.append([lib.controller.get_num_threads() for lib in libs])  # threadpoolctl's reading
        return real(x, y, **kwargs)

    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((70, 60)), rng.standard_normal((60, 80))  # 336,000 multiply-adds
    out = tf.matmul(tf.constant(a), tf.constant(b))
    try:
        with tf.Session() as sess:
            monkeypatch.setattr(np, "matmul", spy)
            got = sess.run(out)
            monkeypatch.setattr(np, "matmul", real)
        assert seen == [[1] * len(libs)]
        assert [lib.controller.get_num_threads() for lib in libs] == [2] * len(libs)
        np.testing.assert_allclose(got, a @ b, rtol=1e-12)
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)
