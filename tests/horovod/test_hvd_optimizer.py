"""DistributedOptimizer and the initial broadcast: ranks training on equal shards end where one process
training on the whole batch ends (a NumPy MLP with hand-written backprop is the reference)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import gpugraph as tf
import gpugraph.horovod as hvd
from gpugraph.horovod.fusion import plan_buckets

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "workers"))

import train_worker as tw  # noqa: E402
from hvd_launch import run_ranks  # noqa: E402


def numpy_training(weights: dict[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
    """Full-batch gradient descent on the worker's MLP and squared error, in float64."""
    x, t = (a.astype(np.float64) for a in tw.full_batch())
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    for _ in range(steps):
        h = np.tanh(x @ w["w1"] + w["b1"])
        dy = 2 * (h @ w["w2"] + w["b2"] - t) / len(x)
        dz = (dy @ w["w2"].T) * (1 - h * h)
        grads = {"w2": h.T @ dy, "b2": dy.sum(0), "w1": x.T @ dz, "b1": dz.sum(0)}
        w = {k: w[k] - tw.LR * grads[k] for k in w}
    return w


@pytest.fixture
def one_rank() -> Iterator[tf.Graph]:
    hvd.init()
    g = tf.Graph()
    with g.as_default():
        yield g
    hvd.shutdown()


def test_ranks_on_equal_shards_match_one_process_on_the_full_batch(tmp_path: Path) -> None:
    results = run_ranks(2, "train_worker.py", tmp_path)
    start = tw.initial_weights(0)
    want = numpy_training(start, tw.STEPS)
    for res in results:
        assert res["optimizer_name"] == "DistributedGradientDescentOptimizer"
        assert res["collective_ops"] == ["HorovodGroupedAllreduce"]
        assert res["allreduce_calls_per_step"] == 1  # four gradients, one fusion bucket
        for k in start:  # both broadcasts replace rank 1's own initial values by rank 0's
            np.testing.assert_array_equal(res["after_broadcast"][k], start[k])
            np.testing.assert_array_equal(res["after_hook"][k], start[k])
            np.testing.assert_allclose(res["trained"][k], want[k], rtol=1e-5, atol=1e-6)
    assert not np.allclose(tw.initial_weights(1)["w1"], start["w1"])


def test_one_rank_distributed_optimizer_is_the_plain_optimizer(one_rank: tf.Graph) -> None:
    xs, ts = tw.full_batch()
    weights, loss = tw.model(0, tf.constant(xs), tf.constant(ts))
    train = hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(tw.LR)).minimize(loss)
    assert not [op for op in one_rank.get_operations() if op.type.startswith("Horovod")]  # no collective at size 1
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        got = sess.run(weights)
    want = numpy_training(tw.initial_weights(0), 3)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6)


def test_distributed_optimizer_arguments(one_rank: tf.Graph) -> None:
    base = tf.train.GradientDescentOptimizer(0.1)
    opt = hvd.DistributedOptimizer(base, name="dist")
    assert opt.get_name() == "dist" and opt.get_slot_names() == base.get_slot_names()
    with pytest.raises(ValueError, match="doesn't inherit from either legacy TensorFlow or Keras optimizer"):
        hvd.DistributedOptimizer(object())
    with pytest.raises(ValueError, match="backward_passes_per_step>1"):
        hvd.DistributedOptimizer(base, backward_passes_per_step=2)


def test_broadcast_global_variables_is_one_op_assigning_each_variable(one_rank: tf.Graph) -> None:
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(3, name="b")
    op = hvd.broadcast_global_variables(0)
    assert isinstance(op, tf.Operation)
    names = sorted(o.name for o in one_rank.get_operations() if o.type == "HorovodBroadcast")
    assert names == ["HorovodBroadcast_a_0", "HorovodBroadcast_b_0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(op)
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
        assert sess.run(b) == 3


@pytest.mark.parametrize(("nbytes", "dtypes", "threshold", "want"), [
    ([8, 8, 8], ["f", "f", "f"], 64, [[0, 1, 2]]),
    ([8, 8, 8], ["f", "f", "f"], 16, [[0, 1], [2]]),
    ([8, 8, 8], ["f", "f", "f"], 0, [[0], [1], [2]]),  # HOROVOD_FUSION_THRESHOLD=0: no fusion
    ([8, 100, 8], ["f", "f", "f"], 64, [[0, 2], [1]]),  # a tensor past the threshold goes alone
    ([8, 8, 8, 8], ["f", "d", "f", "d"], 64, [[0, 2], [1, 3]]),  # buckets hold one dtype
])
def test_fusion_buckets(nbytes: list[int], dtypes: list[str], threshold: int, want: list[list[int]]) -> None:
    assert plan_buckets(nbytes, dtypes, threshold) == want


def test_fusion_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    hvd.shutdown()
    monkeypatch.setenv("HOROVOD_FUSION_THRESHOLD", "1024")
    hvd.init()
    try:
        assert hvd.basics.fusion_threshold() == 1024
    finally:
        hvd.shutdown()
    monkeypatch.delenv("HOROVOD_FUSION_THRESHOLD")
    hvd.init()
    try:
        assert hvd.basics.fusion_threshold() == 64 * 1024 * 1024
    finally:
        hvd.shutdown()
