"""The Philox kernels (kernels/philox_*.cu) compiled for the CPU equal the NumPy path of gpugraph.ops.philox.

The CUDA source CuPy would build is compiled by the host C++ compiler (host_compiled.py) and run on NumPy
buffers; the NumPy path is itself checked against TensorFlow's numbers in tests/ops/test_philox_random.py.
float results must be equal bit for bit. double normals use the double log/sin/cos of two different
libraries (the C library here, NumPy's own on the other side), so they agree to a few ulp only.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from host_compiled import HostElementwiseKernel, compiler, host_kernel

from gpugraph import kernels
from gpugraph.ops import philox

KEYS = [(0x12345678, 0x9ABCDEF0), (87654321, 0)]
COUNTERS = [
    0,
    7 << 64,  # seed2 = 7, as a fresh op's stream
    (1 << 64) - 5,  # the draw's blocks cross from the low 64 bits into the upper half
    (0xFFFFFFFF << 64) | ((1 << 64) - 3),  # the carry runs on from word 2 into word 3
    (1 << 128) - 2,  # the counter wraps around 2**128
]
SIZES = [1, 7, 513]


def stream_args(key: tuple[int, int], counter: int) -> list[int]:
    return [*key, *((counter >> s) & 0xFFFFFFFF for s in (0, 32, 64, 96))]


SCALARS = ("key0", "key1", "ctr0", "ctr1", "ctr2", "ctr3")


def run_host(name: str, t_dtype: type, key: tuple[int, int], counter: int, n: int, *extra: object) -> np.ndarray:
    src = kernels.load(name)
    scalars = SCALARS + tuple(p.name for p in src.inputs[6:])
    out = np.zeros(n, t_dtype)
    host_kernel(src, t_dtype, scalars)(*stream_args(key, counter), *extra, out)
    return out


def assert_equal_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def test_the_host_compiler_is_there() -> None:
    assert compiler()


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("key", KEYS)
def test_uniform_float_and_double(key: tuple[int, int], counter: int) -> None:
    for dtype in (np.float32, np.float64):
        for n in SIZES:
            want = philox.uniform(np, key, counter, n, np.dtype(dtype))
            assert_equal_bits(run_host("philox_uniform", dtype, key, counter, n, False), want)


def test_uniform_half_is_the_float_of_ten_mantissa_bits() -> None:
    key, counter = KEYS[0], COUNTERS[2]
    got = run_host("philox_uniform", np.float32, key, counter, 513, True)
    want = philox.uniform(np, key, counter, 513, np.dtype(np.float16))
    np.testing.assert_array_equal(got * 1024, np.round(got * 1024))  # exactly k / 1024: the half's value
    assert_equal_bits(got.astype(np.float16), want)


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("key", KEYS)
def test_uniform_int32_and_int64(key: tuple[int, int], counter: int) -> None:
    ranges = {np.int32: [(0, 10), (-7, 1000), (-2**31, 2**31 - 1)],
              np.int64: [(0, 10), (-5, 2**40), (-2**63, 2**63 - 1)]}
    for dtype, pairs in ranges.items():
        for lo, hi in pairs:
            for n in SIZES:
                want = philox.uniform_int(np, key, counter, n, np.asarray(lo, dtype), np.asarray(hi, dtype),
                                          np.dtype(dtype))
                got = run_host("philox_uniform_int", dtype, key, counter, n, lo, hi)
                assert_equal_bits(got, want)
                assert got.min() >= lo and got.max() < hi


def _assert_few_ulp(got: np.ndarray, want: np.ndarray) -> None:
    ulp = np.spacing(np.maximum(np.abs(want), 1.0))
    assert np.all(np.abs(got - want) <= 4 * ulp), np.max(np.abs(got - want) / ulp)


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("key", KEYS)
def test_normal(key: tuple[int, int], counter: int) -> None:
    for n in SIZES:
        assert_equal_bits(run_host("philox_normal", np.float32, key, counter, n),
                          philox.normal(np, key, counter, n, np.dtype(np.float32)))
        _assert_few_ulp(run_host("philox_normal", np.float64, key, counter, n),
                        philox.normal(np, key, counter, n, np.dtype(np.float64)))


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("key", KEYS)
def test_truncated_normal(key: tuple[int, int], counter: int) -> None:
    for n in SIZES:
        got = run_host("philox_truncated_normal", np.float32, key, counter, n)
        assert_equal_bits(got, philox.truncated_normal(np, key, counter, n, np.dtype(np.float32)))
        assert np.all(np.abs(got) < 2)
        _assert_few_ulp(run_host("philox_truncated_normal", np.float64, key, counter, n),
                        philox.truncated_normal(np, key, counter, n, np.dtype(np.float64)))


def test_truncated_normal_group_reads_on_into_its_next_block() -> None:
    """A group whose first block has two normals outside (-2, 2) takes its last picks from the next block."""
    key = (3, 4)
    ids = np.arange(5000, dtype=np.uint64)[:, None]
    outside = (np.abs(philox._normal_candidates(np, key, 0, ids, False)) >= 2).sum(axis=1)
    block = int(np.flatnonzero(outside >= 2)[0])
    got = run_host("philox_truncated_normal", np.float32, key, block, 4)
    walk = philox._normal_candidates(np, key, block, np.arange(2, dtype=np.uint64)[None, :], False)[0]
    assert np.abs(walk[:4]).max() >= 2
    np.testing.assert_array_equal(got, walk[np.abs(walk) < 2][:4])


class _HostCupy(SimpleNamespace):
    """NumPy under the name of a device module that builds kernels: drives philox's device branch."""


def _host_cupy() -> _HostCupy:
    return _HostCupy(ElementwiseKernel=HostElementwiseKernel, empty=np.empty, asarray=np.asarray,
                     uint64=np.uint64, float16=np.float16, float32=np.float32)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_device_branch_launches_the_kernels_with_the_stream(dtype: type) -> None:
    xp = _host_cupy()
    key, counter, n = KEYS[0], COUNTERS[3], 301
    dt = np.dtype(dtype)
    assert_equal_bits(philox.uniform(xp, key, counter, n, dt), philox.uniform(np, key, counter, n, dt))
    for draw in (philox.normal, philox.truncated_normal):
        got, want = draw(xp, key, counter, n, dt), draw(np, key, counter, n, dt)
        if dtype == np.float64:
            _assert_few_ulp(got, want)
        else:
            assert_equal_bits(got, want)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_device_branch_of_uniform_int_takes_device_bounds(dtype: type) -> None:
    xp = _host_cupy()
    key, counter, n = KEYS[1], COUNTERS[2], 300
    lo, hi = np.asarray(-3, dtype), np.asarray(50, dtype)  # 0-d arrays, as the op passes them
    assert_equal_bits(philox.uniform_int(xp, key, counter, n, lo, hi, np.dtype(dtype)),
                      philox.uniform_int(np, key, counter, n, lo, hi, np.dtype(dtype)))
