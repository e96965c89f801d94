"""Matrix products on the host: cut into a fixed number of parts on one BLAS thread each (the same bits
whatever the load), small ones on one thread when asked, the BLAS's setting restored after."""

from __future__ import annotations

from typing import Any

import os
import sys
import time

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
    monkeypatch.setattr(host_blas._others, "others_idle", lambda: False)  # in use: parts one after another
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
def test_a_product_is_cut_into_the_default_count_of_parts_on_one_thread_each(
        blas: _FakeBlas, cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """No single-thread threshold unless asked for: the result's rows in ``default_threads()`` parts, each
    a product on one BLAS thread, the BLAS's own count back after."""
    monkeypatch.setattr(host_blas, "SMALL_PRODUCT_MACS", host_blas._threshold(""))
    monkeypatch.setattr(host_blas, "default_threads", lambda: cores)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((70, 600)), rng.standard_normal((80, 600))  # 3.36M multiply-adds
    got, seen = _product(a, b, blas, transpose_b=True)
    np.testing.assert_allclose(got, a @ b.T, rtol=1e-10)
    assert seen == [1] * cores and blas.threads == 4 and blas.history == [4, 1, 4]
    small = rng.standard_normal((70, 60))  # 336,000: one part
    assert _product(small, small.T, blas)[1] == [1]
    large = rng.standard_normal((300, 300))  # 27M: OpenBLAS splits it, on the default count
    assert _product(large, large, blas)[1] == [min(cores, 4)]


@pytest.mark.parametrize("shape_a, shape_b", [((128, 256), (256, 256)), ((64, 156), (156, 512)),
                                              ((5, 2000), (2000, 300)), ((3, 4000), (4000, 300))])
def test_a_split_product_has_the_same_bits_whether_the_machine_is_busy_or_idle(
        shape_a: tuple[int, int], shape_b: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenBLAS's result depends on its thread count; the parts' does not depend on where they run."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a).astype(np.float32), rng.standard_normal(shape_b).astype(np.float32)
    results = []
    for idle in (True, False, True):
        monkeypatch.setattr(host_blas._others, "others_idle", lambda idle=idle: idle)
        results.append(host_blas.split_product(np, a, b))
    assert results[0].dtype == np.float32 and results[0].shape == (shape_a[0], shape_b[1])
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()
    np.testing.assert_allclose(results[0], a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-3)


def test_a_split_product_of_integers_or_mismatched_shapes_is_numpys() -> None:
    a, b = np.arange(600 * 500).reshape(600, 500), np.arange(500 * 3).reshape(500, 3)
    np.testing.assert_array_equal(host_blas.split_product(np, a, b), a @ b)
    with pytest.raises(ValueError, match="matmul"):
        host_blas.split_product(np, np.ones((600, 500)), np.ones((400, 3)))


def test_threshold_from_the_environment() -> None:
    assert host_blas._threshold("") == 0
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


def test_others_load_is_the_machines_busy_time_less_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other processes' CPU time over the last interval decides: this process's own threads never count."""
    clock = {"now": 100.0, "busy": 1000.0, "own": 10.0}
    monkeypatch.setattr(host_blas.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(host_blas.time, "process_time", lambda: clock["own"])
    monkeypatch.setattr(host_blas, "machine_busy_seconds", lambda: clock["busy"])
    load = host_blas._OthersLoad()
    assert load.others_idle() is False  # no interval yet: the rule for a machine in use

    def after(seconds: float, busy: float, own: float) -> bool:
        clock["now"] += seconds
        clock["busy"] += busy
        clock["own"] += own
        return load.others_idle()
    assert after(1.0, busy=2.0, own=1.9) is True  # two cores busy, all but 0.1 s of it this process's own
    assert after(1.0, busy=2.0, own=1.0) is False  # another process held a core
    assert after(0.1, busy=0.0, own=0.0) is False  # within SAMPLE_SECONDS: the last answer stands
    assert after(1.0, busy=0.3, own=0.0) is True  # others used 0.3 of a core: under half of one
    monkeypatch.setattr(host_blas, "machine_busy_seconds", lambda: None)
    assert after(1.0, busy=0.0, own=0.0) is False  # no /proc/stat: the rule for a machine in use


def test_machine_busy_seconds_reads_proc_stat() -> None:
    first = host_blas.machine_busy_seconds()
    if first is None:  # not Linux
        assert not os.path.exists("/proc/stat")
        return
    burn = time.process_time() + 0.1
    while time.process_time() < burn:
        pass
    # at least this process's own busy time, less a few of the kernel's 10 ms ticks (and float rounding:
    # 32242.53 - 32242.49 is 0.0399..., not 0.04)
    assert host_blas.machine_busy_seconds() - first >= 0.07


def test_blas_libraries_are_scanned_again_after_an_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library imported later (SciPy loads a BLAS of its own) is controlled too; no import, no new scan."""
    import types

    monkeypatch.setattr(host_blas, "_libs", None)
    first = host_blas.blas_libs()
    assert host_blas.blas_libs() is first  # nothing imported since: the same scan
    monkeypatch.setitem(sys.modules, "a_module_imported_since", types.ModuleType("a_module_imported_since"))
    again = host_blas.blas_libs()
    assert again is not first and [c.filepath for c in again] == [c.filepath for c in first]
