"""Horovod collectives on 1 rank (in this process) and on 2 and 3 ranks under mpiexec.

Expected values are recomputed here with NumPy from each rank's known inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf
import gpugraph.horovod as hvd
from gpugraph.horovod import basics

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "workers"))

from collectives_worker import rank_input  # noqa: E402
from hvd_launch import run_ranks  # noqa: E402


@pytest.fixture
def one_rank() -> Iterator[tf.Graph]:
    """hvd.init() in this process (MPI's singleton: one rank), a fresh graph; shut down after."""
    hvd.init()
    g = tf.Graph()
    with g.as_default():
        yield g
    hvd.shutdown()


def _run(*fetches: Any) -> Any:
    with tf.Session() as s:
        out = s.run(list(fetches))
    return out[0] if len(out) == 1 else out


# --- one rank, no mpiexec ---
def test_size_and_rank_need_init_first() -> None:
    hvd.shutdown()
    assert not hvd.is_initialized()
    for fn in (hvd.size, hvd.rank, hvd.local_rank, hvd.local_size):
        with pytest.raises(ValueError, match=r"Horovod has not been initialized; use hvd.init\(\)."):
            fn()


def test_one_process_is_rank_zero_of_one(one_rank: tf.Graph) -> None:
    assert (hvd.size(), hvd.rank(), hvd.local_size(), hvd.local_rank()) == (1, 0, 1, 0)
    assert hvd.is_initialized() and hvd.mpi_threads_supported() in (True, False)
    hvd.init()  # a second init does nothing
    assert hvd.size() == 1


def test_one_rank_collectives_return_the_input(one_rank: tf.Graph) -> None:
    x = rank_input(0)
    got = _run(hvd.allreduce(x), hvd.allreduce(x, op=hvd.Sum), hvd.allgather(x), hvd.broadcast(x, 0),
               *hvd.grouped_allreduce([x, x[0]]))
    for value, want in zip(got, [x, x, x, x, x, x[0]]):
        np.testing.assert_array_equal(value, want)
        assert value.dtype == np.float32


def test_op_names_follow_horovod(one_rank: tf.Graph) -> None:
    x = tf.constant([1.0], name="x")
    with tf.name_scope("scope"):
        assert hvd.allreduce(x).op.name == "scope/HorovodAllreduce_x_0"
        assert hvd.allgather(x).op.name == "scope/HorovodAllgather_x_0"
        assert hvd.broadcast(x, 0).op.name == "scope/HorovodBroadcast_x_0"
        assert hvd.allgather(x, ignore_name_scope=True).op.name == "HorovodAllgather_x_0"
    assert hvd.allreduce(x).op.type == "HorovodAllreduce"


def test_allgather_shape_keeps_all_but_the_first_dimension(one_rank: tf.Graph) -> None:
    assert hvd.allgather(tf.zeros([3, 4, 5])).shape.as_list() == [None, 4, 5]
    with pytest.raises(ValueError, match="rank >= 1"):
        hvd.allgather(tf.constant(1.0))


def test_average_and_op_cannot_both_be_given(one_rank: tf.Graph) -> None:
    with pytest.raises(ValueError, match="The op parameter supersedes average"):
        hvd.allreduce(tf.constant([1.0]), average=True, op=hvd.Sum)
    with pytest.raises(NotImplementedError, match="Adasum"):
        hvd.allreduce(tf.constant([1.0]), op=hvd.Adasum)


def test_broadcast_from_a_rank_that_does_not_exist_fails_naming_the_op(one_rank: tf.Graph) -> None:
    y = hvd.broadcast(tf.constant([1.0]), 3, name="bcast_from_3")
    with pytest.raises(tf.errors.InvalidArgumentError, match="bcast_from_3.*root_rank 3 is not a rank"):
        _run(y)


def test_one_rank_gradients(one_rank: tf.Graph) -> None:
    x = tf.constant(rank_input(0))
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    grads = tf.gradients([tf.reduce_sum(hvd.allreduce(x, op=hvd.Sum) * w), tf.reduce_sum(hvd.allgather(x) * w),
                          tf.reduce_sum(hvd.broadcast(x, 0) * w)], x)[0]
    np.testing.assert_allclose(_run(grads), 3 * w)


def test_fp16_compression_puts_float16_on_the_wire(one_rank: tf.Graph) -> None:
    x = tf.constant([1.0001, 2.0], tf.float32)
    y = hvd.allreduce(x, compression=hvd.Compression.fp16)
    wire = [op for op in tf.get_default_graph().get_operations() if op.type == "HorovodAllreduce"][0]
    assert wire.inputs[0].dtype == tf.float16 and y.dtype == tf.float32
    np.testing.assert_array_equal(_run(y), np.array([1.0001, 2.0], np.float16).astype(np.float32))
    ints = hvd.allreduce(tf.constant([1, 2]), op=hvd.Sum, compression=hvd.Compression.fp16)
    assert ints.dtype == tf.int32  # only float tensors are compressed


def test_missing_mpi4py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"gpugraph\[mpi\]"):
        basics.import_mpi()


# --- several ranks under mpiexec ---
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_on_several_ranks(n: int, tmp_path: Path) -> None:
    results = run_ranks(n, "collectives_worker.py", tmp_path)
    inputs = [rank_input(r) for r in range(n)]
    total = np.sum(inputs, axis=0)
    gather = np.concatenate([np.full((r + 1, 2), float(r), np.float32) for r in range(n)])
    w = np.arange(gather.size, dtype=np.float32).reshape(gather.shape)
    f16 = [(x * np.float32(1.001)).astype(np.float16) for x in inputs]
    f16_avg = (np.sum(f16, axis=0, dtype=np.float16) * np.float16(1 / n)).astype(np.float32)
    for r, res in enumerate(results):
        assert (res["rank"], res["size"], res["local_size"], res["local_rank"]) == (r, n, n, r)
        np.testing.assert_allclose(res["average"], total / n, rtol=1e-6)
        np.testing.assert_allclose(res["sum"], total, rtol=1e-6)
        np.testing.assert_allclose(res["average_flag_false"], total, rtol=1e-6)
        np.testing.assert_array_equal(res["max"], np.max(inputs, axis=0))
        np.testing.assert_array_equal(res["int_sum"], [sum(range(1, n + 1)), 10 * sum(range(1, n + 1))])
        np.testing.assert_allclose(res["scaled"], total * 2 * 0.25, rtol=1e-6)
        assert res["fp16_wire_dtype"] == "float16" and res["dtypes"]["fp16"] == "float32"
        np.testing.assert_allclose(res["fp16"], f16_avg, rtol=2e-3)
        np.testing.assert_array_equal(res["gather"], gather)
        np.testing.assert_array_equal(res["bcast"], inputs[n - 1])
        assert res["dtypes"]["int_sum"] == "int32" and res["dtypes"]["average"] == "float32"
        # d/dx_r of sum_k sum(S * x_k), S = sum of the x: S (direct) + S (through the allreduce)
        np.testing.assert_allclose(res["grad_sum"], 2 * total, rtol=1e-6)
        np.testing.assert_allclose(res["grad_average"], np.ones_like(total), rtol=1e-6)
        start = sum(range(1, r + 1))
        np.testing.assert_allclose(res["grad_gather"], n * w[start:start + r + 1])
        np.testing.assert_allclose(res["grad_bcast"], np.full_like(total, 3.0 * n if r == 0 else 0.0))
        # fusion: 24+24 bytes of float32 fit 56 bytes, the third float32 and the float64 go alone
        want_grouped = [np.full(6, sum(range(n)) + n * k, np.float32) for k in range(3)]
        for got, want in zip(res["grouped"], want_grouped + [np.full(2, sum(range(n)), np.float64)]):
            np.testing.assert_array_equal(got, want)
        assert res["grouped_calls"] == 3 and res["unfused_calls"] == 4
        assert res["mismatch"] == ("mismatched: Mismatched allreduce tensor shapes: rank 0 sent a tensor of shape "
                                   "[1], but rank 1 sent a tensor of shape [2].")


def test_a_host_output_is_reused_only_once_nothing_else_holds_it():
    from gpugraph.horovod import engine

    like = np.zeros(1000, np.float32)
    first = engine._host_output("HorovodAllreduce_test", like, np)
    held = first  # the caller keeps the result
    second = engine._host_output("HorovodAllreduce_test", like, np)
    assert second is not held
    view = second[:10]  # a view keeps its base alive
    third = engine._host_output("HorovodAllreduce_test", like, np)
    assert third is not second and third is not held
    del view, first, held, second
    address = third.__array_interface__["data"][0]
    del third  # the caller dropped the result: the next run writes into the same memory
    fourth = engine._host_output("HorovodAllreduce_test", like, np)
    assert fourth.__array_interface__["data"][0] == address
    assert engine._host_output("HorovodAllreduce_test", np.zeros(7, np.float32), np).shape == (7,)
    engine.release()
