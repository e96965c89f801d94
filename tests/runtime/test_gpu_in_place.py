"""Fused kernels writing over dying inputs on the GPU path, over the CuPy stand-in: an eager training step
takes fewer pool blocks than with GPUGRAPH_IN_PLACE=0, and training (eager, or replayed as CUDA graphs)
gives the same losses and weights bit for bit."""

from __future__ import annotations

import fake_cuda_pool
import numpy as np
import pytest
from test_graph_replay import gpu  # noqa: F401 - one GPU as NVML and the CuPy stand-in see it

import gpugraph as tf
from gpugraph.compiler.memory_plan import ENV_IN_PLACE


@pytest.fixture
def blocks_taken(monkeypatch):
    """Pool blocks handed out so far (each array the device makes takes one)."""
    taken = [0]
    real = fake_cuda_pool.Pool._alloc

    def counted(self, nbytes):
        taken[0] += 1
        return real(self, nbytes)
    monkeypatch.setattr(fake_cuda_pool.Pool, "_alloc", counted)
    return taken


def dense(h, width: int, name: str, style: str, relu: bool = True):
    """tf.layers.dense (BiasAdd), or the tutorials' tf.matmul(h, w) + b (whose gradient reads the product's
    shape: a stand-in does)."""
    if style == "layers":
        return tf.layers.dense(h, width, activation=tf.nn.relu if relu else None, name=name)
    w = tf.Variable(tf.truncated_normal([int(h.shape[-1]), width], stddev=0.1), name=name + "_w")
    z = tf.matmul(h, w) + tf.Variable(tf.zeros([width]), name=name + "_b")
    return tf.nn.relu(z) if relu else z


def train(steps: int, graphs: bool, taken=None, style: str = "layers"):
    """Losses, weights and pool blocks per steady step of an MLP 64-128-128-10 with Adam (batch 512)."""
    tf.reset_default_graph()
    tf.set_random_seed(5)
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    h = dense(dense(x, 128, "h1", style), 128, "h2", style)
    logits = dense(h, 10, "logits", style, relu=False)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    step = tf.train.AdamOptimizer(0.01).minimize(loss)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((512, 64)).astype(np.float32), rng.integers(0, 10, 512)) for _ in range(steps)]
    config = tf.ConfigProto()
    config.gpu_options.cuda_graphs = graphs
    losses, counts = [], []
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for xs, ys in batches:
            counts.append(taken[0] if taken else 0)
            losses.append(sess.run([step, loss], {x: xs, y: ys})[1])
        counts.append(taken[0] if taken else 0)
        weights = sess.run(tf.trainable_variables())
    return np.array(losses), weights, np.diff(counts)


def test_an_eager_step_takes_fewer_blocks_in_place_with_the_same_training(gpu, blocks_taken, monkeypatch):
    monkeypatch.setenv(ENV_IN_PLACE, "0")
    losses_apart, weights_apart, apart = train(5, graphs=False, taken=blocks_taken)
    monkeypatch.setenv(ENV_IN_PLACE, "1")
    losses, weights, in_place = train(5, graphs=False, taken=blocks_taken)
    # two bias + ReLU kernels over their dying products, two ReLU gradients over their dying inputs
    assert in_place[-1] <= apart[-1] - 4 and in_place[-2] <= apart[-2] - 4
    np.testing.assert_array_equal(losses, losses_apart)
    for w, v in zip(weights, weights_apart):
        np.testing.assert_array_equal(w, v)


@pytest.mark.parametrize("style", ["layers", "matmul"])
def test_replayed_training_in_place_equals_eager_training_bit_for_bit(gpu, style):
    eager_losses, eager_weights, _ = train(6, graphs=False, style=style)
    before = gpu.graph_launches
    losses, weights, _ = train(6, graphs=True, style=style)
    assert gpu.graph_launches - before == 5  # one graph a step from the second on: stand-ins split nothing
    np.testing.assert_array_equal(losses, eager_losses)
    for w, v in zip(weights, eager_weights):
        np.testing.assert_array_equal(w, v)
