"""The NCCL path of the engine: CuPy arrays are reduced on the device with NCCL, on the current stream.

Without a GPU, a stand-in ``cupy`` for one rank: arrays are NumPy arrays whose class lives in module "cupy"
(so the engine takes the device path), ``data.ptr`` is their address, and ``cupy.cuda.nccl`` copies between
addresses as NCCL does for a single rank. The real NCCL runs in the ``gpu`` test.
"""

from __future__ import annotations

import ctypes
import sys
import types
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf
import gpugraph.horovod as hvd
from gpugraph import errors
from gpugraph.horovod import engine


class DeviceArray(np.ndarray):
    """A 'device' array: NumPy memory, CuPy's class module and ``data.ptr``."""

    __module__ = "cupy"

    @property
    def data(self) -> Any:  # CuPy's MemoryPointer: the device address
        return types.SimpleNamespace(ptr=self.ctypes.data)


def _wrap(value: Any) -> Any:
    return value.view(DeviceArray) if isinstance(value, np.ndarray) else value


class DeviceNumpy(types.ModuleType):
    """NumPy whose array results are DeviceArrays."""

    def __getattr__(self, name: str) -> Any:
        fn = getattr(np, name)
        return (lambda *a, **k: _wrap(fn(*a, **k))) if callable(fn) else fn


class FakeNccl(types.ModuleType):
    """cupy.cuda.nccl for one rank: collectives copy ``count`` elements between device addresses."""

    NCCL_UNIQUE_ID_BYTES = 128
    NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64, NCCL_INT8, NCCL_UINT8 = 6, 7, 8, 0, 1
    NCCL_INT32, NCCL_UINT32, NCCL_INT64, NCCL_UINT64 = 2, 3, 4, 5
    NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN = 0, 1, 2, 3
    SIZES = {6: 2, 7: 4, 8: 8, 0: 1, 1: 1, 2: 4, 3: 4, 4: 8, 5: 8}

    class NcclError(RuntimeError):
        pass

    def __init__(self) -> None:
        super().__init__("cupy.cuda.nccl")
        self.calls: list[tuple] = []
        self.comms: list[Any] = []
        nccl = self

        class NcclCommunicator:
            def __init__(self, ndev: int, uid: tuple, rank: int):
                assert (ndev, rank, len(uid)) == (1, 0, nccl.NCCL_UNIQUE_ID_BYTES)
                nccl.comms.append(self)

            def allReduce(self, send: int, recv: int, count: int, dtype: int, op: int, stream: int) -> None:  # noqa: N802
                nccl.calls.append(("allReduce", count, dtype, op, stream))
                ctypes.memmove(recv, send, count * nccl.SIZES[dtype])

            def broadcast(self, send: int, recv: int, count: int, dtype: int, root: int, stream: int) -> None:
                nccl.calls.append(("broadcast", count, dtype, root, stream))
                ctypes.memmove(recv, send, count * nccl.SIZES[dtype])

            def destroy(self) -> None:
                nccl.calls.append(("destroy",))

        self.NcclCommunicator = NcclCommunicator

    def get_unique_id(self) -> tuple:
        return tuple(range(-64, 64))

    def groupStart(self) -> None:  # noqa: N802
        self.calls.append(("groupStart",))

    def groupEnd(self) -> None:  # noqa: N802
        self.calls.append(("groupEnd",))


STREAM = 0xC0FFEE


@pytest.fixture
def fake_nccl(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNccl]:
    nccl = FakeNccl()
    cuda = types.SimpleNamespace(nccl=nccl, Device=lambda: types.SimpleNamespace(id=0),
                                 get_current_stream=lambda: types.SimpleNamespace(ptr=STREAM))
    cupy = types.ModuleType("cupy")
    cupy.cuda = cuda
    cuda_module = types.ModuleType("cupy.cuda")
    cuda_module.nccl = nccl
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupy.cuda", cuda_module)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", nccl)
    hvd.init()
    yield nccl
    hvd.shutdown()


def test_device_arrays_go_through_nccl_on_the_current_stream(fake_nccl: FakeNccl) -> None:
    xp = DeviceNumpy("device_numpy")
    x = _wrap(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = engine.allreduce(x, xp, reduce_op="Max", what="r")
    assert isinstance(y, DeviceArray) and y is not x
    np.testing.assert_array_equal(y, x)
    assert fake_nccl.calls[-1] == ("allReduce", 6, FakeNccl.NCCL_FLOAT32, FakeNccl.NCCL_MAX, STREAM)

    g = engine.allgather(_wrap(np.arange(4, dtype=np.int64).reshape(2, 2)), xp, what="g")
    np.testing.assert_array_equal(g, np.arange(4).reshape(2, 2))
    assert fake_nccl.calls[-3:] == [("groupStart",), ("broadcast", 4, FakeNccl.NCCL_INT64, 0, STREAM),
                                    ("groupEnd",)]

    b = engine.broadcast(_wrap(np.array([1.5, 2.5], np.float64)), xp, root_rank=0, what="b")
    np.testing.assert_array_equal(b, [1.5, 2.5])
    assert fake_nccl.calls[-1] == ("broadcast", 2, FakeNccl.NCCL_FLOAT64, 0, STREAM)
    assert len(fake_nccl.comms) == 1  # one communicator per process and device, made at the first collective

    with pytest.raises(errors.InvalidArgumentError, match="NCCL cannot carry tensors of dtype complex64"):
        engine.allreduce(_wrap(np.zeros(2, np.complex64)), xp, reduce_op="Sum", what="c")
    hvd.shutdown()
    assert fake_nccl.calls[-1] == ("destroy",)


@pytest.mark.gpu
def test_real_nccl_with_one_rank() -> None:
    hvd.init()
    try:
        with tf.Graph().as_default(), tf.device("/device:GPU:0"):
            x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
            outs = [hvd.allreduce(x, op=hvd.Sum), hvd.allgather(x), hvd.broadcast(x, 0),
                    *hvd.grouped_allreduce([x, x * 2])]
            before = dict(engine.CALLS)
            with tf.Session() as sess:
                got = sess.run(outs)
        want = np.arange(6, dtype=np.float32).reshape(2, 3)
        for value, expected in zip(got, [want, want, want, want, 2 * want]):
            np.testing.assert_array_equal(value, expected)
        assert engine.CALLS["allreduce"] > before.get("allreduce", 0)
        assert engine._nccl_comms  # the collectives ran through NCCL
    finally:
        hvd.shutdown()
