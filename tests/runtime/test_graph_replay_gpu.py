"""On a CUDA device: CUDA-graph replay, grouped optimizer updates and reduction epilogues on the real
CuPy give what the same runs give without them, bit for bit (or, for a reduction, NumPy's sum)."""

from __future__ import annotations

import numpy as np
import pytest
from test_graph_replay import mlp_training, no_graphs, training_segments

import gpugraph as tf

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def on_the_gpu(monkeypatch):
    monkeypatch.setenv("GPUGRAPH_DEVICE", "gpu")
    monkeypatch.delenv("GPUGRAPH_CUDA_GRAPHS", raising=False)
    monkeypatch.delenv("GPUGRAPH_GROUP_UPDATES", raising=False)


def test_replayed_training_equals_op_by_op_training_on_the_device() -> None:
    eager_losses, eager_weights, _ = mlp_training(8, config=no_graphs())
    losses, weights, runs = mlp_training(8)
    np.testing.assert_array_equal(losses, eager_losses)
    for w, e in zip(weights, eager_weights):
        np.testing.assert_array_equal(w, e)
    (segment,) = training_segments(runs)
    assert not segment.broken and segment.captures == 1 and segment.launches == 7  # captured on the 2nd run


def test_grouped_updates_equal_updates_one_by_one_on_the_device(monkeypatch) -> None:
    grouped_losses, grouped, _ = mlp_training(5, config=no_graphs())
    monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "0")
    losses, alone, _ = mlp_training(5, config=no_graphs())
    np.testing.assert_array_equal(grouped_losses, losses)
    for a, b in zip(grouped, alone):
        np.testing.assert_array_equal(a, b)


def test_a_reduction_epilogue_on_the_device_sums_as_numpy() -> None:
    rng = np.random.default_rng(0)
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 300])
    g = tf.placeholder(tf.float32, [None, 300])
    bias_grad = tf.reduce_sum(tf.nn.relu(x) * g, axis=0)
    row_mean = tf.reduce_mean(tf.exp(x * 0.1) - x, axis=1)
    xs, gs = rng.standard_normal((500, 300)).astype(np.float32), rng.standard_normal((500, 300)).astype(np.float32)
    with tf.Session() as sess:
        got_sum, got_mean = sess.run([bias_grad, row_mean], {x: xs, g: gs})
    np.testing.assert_allclose(got_sum, (np.maximum(xs, 0) * gs).sum(axis=0, dtype=np.float64), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got_mean, (np.exp(xs * 0.1) - xs).mean(axis=1, dtype=np.float64), rtol=1e-5)
