"""CUDA-graph replay of GPU segments, over the fake CuPy (which records captured kernels and replays them
on the captured buffers, as CUDA does): results equal eager runs bit for bit, one launch per segment."""

from __future__ import annotations


import numpy as np
import pytest

import gpugraph as tf
from gpugraph.runtime.graph_replay import GraphSegment

from fake_cupy import FakeCuda, make_fake_cupy
from fake_gpu import one_fake_gpu

MiB = 1 << 20


@pytest.fixture
def gpu(monkeypatch):
    """One GPU as NVML and the fake CuPy see it."""
    state = FakeCuda(n_devices=1, total_memory=64 * MiB)
    monkeypatch.delenv("GPUGRAPH_CUDA_GRAPHS", raising=False)
    with one_fake_gpu(monkeypatch, make_fake_cupy(state), 64 * MiB):
        tf.reset_default_graph()
        yield state


def mlp_training(steps: int, config=None, change=None):
    """Losses and final weights of a small MLP trained with Adam on fixed batches."""
    tf.reset_default_graph()
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    hidden = tf.layers.dense(x, 8, activation=tf.nn.relu, name="hidden")
    logits = tf.layers.dense(hidden, 3, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16)) for _ in range(steps)]
    losses = []
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for k, (xs, ys) in enumerate(batches):
            if change is not None:
                change(sess, k)
            losses.append(sess.run([train, loss], {x: xs, y: ys})[1])
        weights = sess.run(tf.trainable_variables())
        replay = list(sess._runs.values())
    return np.array(losses), weights, replay


def no_graphs():
    config = tf.ConfigProto()
    config.gpu_options.cuda_graphs = False
    return config


def segments_of(compiled_runs):
    return [s.fn for run in compiled_runs if run.plan.replay_steps for s in run.plan.replay_steps
            if isinstance(s.fn, GraphSegment)]


def training_segments(compiled_runs):
    return [s for s in segments_of(compiled_runs) if any(op.type == "ApplyAdam" for op in s.ops)]


def test_training_with_replayed_graphs_equals_eager_training_bit_for_bit(gpu):
    eager_losses, eager_weights, _ = mlp_training(6, config=no_graphs())
    assert gpu.graph_launches == 0
    losses, weights, runs = mlp_training(6)
    np.testing.assert_array_equal(losses, eager_losses)
    for w, e in zip(weights, eager_weights):
        np.testing.assert_array_equal(w, e)
    (segment,) = training_segments(runs)  # the training step is one segment between the feeds' uploads and the fetch
    assert segment.launches == 5 and not segment.broken  # run 1 eager; run 2 captures and launches; 3-6 replay
    assert {op.type for op in segment.ops} >= {"MatMul", "ApplyAdam", "SparseSoftmaxCrossEntropyWithLogits"}


def test_other_work_between_replays_never_gets_the_graphs_memory(gpu):
    """Blocks a capture freed (temporaries inside ops) stay the graph's: other runs allocate elsewhere (the
    fake CuPy fails a replay that writes to memory given to another array)."""
    side = {}

    def other_work(sess, k):
        if k == 0:
            kernel = [v for v in tf.trainable_variables() if v.op.name == "hidden/kernel"][0]
            side["op"] = tf.reduce_sum(tf.nn.softmax(kernel * 3.0) + tf.exp(kernel))
        side.setdefault("values", []).append(sess.run(side["op"]))
    eager_losses, _, _ = mlp_training(6, config=no_graphs(), change=other_work)
    eager_side = side.pop("values")
    losses, _, runs = mlp_training(6, change=other_work)
    np.testing.assert_array_equal(losses, eager_losses)
    np.testing.assert_array_equal(side["values"], eager_side)
    assert training_segments(runs)[0].launches == 5


def test_a_replayed_step_is_one_launch_and_allocates_nothing(gpu):
    kernels, blocks = [], []

    def count(sess, k):
        kernels.append(gpu.kernel_launches)
        blocks.append(gpu.pools[0].used_bytes() if k else 0)
    mlp_training(6, change=count)
    per_step = np.diff(kernels)
    assert per_step[-1] < per_step[0] / 3  # a replayed step launches its graph, not its kernels
    # with the feeds in persistent buffers and the segment in its own pool, steady steps hold no new blocks
    assert blocks[-1] == blocks[-2] == blocks[-3]


def test_a_replaced_variable_makes_the_next_run_eager_and_then_capture_again(gpu):
    def restore(sess, k):
        if k == 3:  # as Saver.restore of another shape of storage would: a new array behind the variable
            v = [v for v in tf.trainable_variables() if v.op.name == "hidden/kernel"][0]
            cell = sess.cell(v.op)
            cell.value = cell.value.copy()
    eager_losses, _, _ = mlp_training(8, config=no_graphs(), change=restore)
    losses, _, runs = mlp_training(8, change=restore)
    np.testing.assert_array_equal(losses, eager_losses)
    (segment,) = training_segments(runs)
    assert segment.captures == 2 and not segment.broken


def test_random_ops_split_segments_and_keep_their_draws(gpu):
    def dropout_net(config):
        tf.reset_default_graph()
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 5], name="x")
        h = tf.nn.relu(tf.layers.dense(x, 7, name="a"))
        h = tf.nn.dropout(h, keep_prob=0.5)
        out = tf.reduce_sum(tf.layers.dense(h, 2, name="b"))
        xs = np.arange(20, dtype=np.float32).reshape(4, 5) / 10
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            values = [sess.run(out, {x: xs}) for _ in range(4)]
            runs = list(sess._runs.values())
        return values, runs
    eager, _ = dropout_net(no_graphs())
    replayed, runs = dropout_net(None)
    np.testing.assert_array_equal(replayed, eager)
    assert len(set(np.round(eager, 6))) > 1  # new draws each run
    steps = runs[-1].plan.replay_steps
    kinds = [s.kind for s in steps]
    random_at = [i for i, s in enumerate(steps) if s.op.type == "RandomUniform"]
    assert kinds.count("graph") >= 1 and random_at and kinds[random_at[0]] == "op"


def test_a_segment_that_syncs_with_the_host_runs_op_by_op(gpu):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None], name="x")
    kept = tf.boolean_mask(x * 2.0, x > 0.0)  # its size needs a read on the host
    total = tf.reduce_sum(tf.exp(kept) + 1.0)
    xs = np.array([-1.0, 0.5, 2.0, -3.0, 1.0], np.float32)
    with tf.Session() as sess:
        values = [sess.run(total, {x: xs * k}) for k in (1, 2, 3, 4)]
        segments = segments_of(sess._runs.values())
    expected = [np.sum(np.exp((xs * k)[xs * k > 0] * 2.0) + 1.0, dtype=np.float32) for k in (1, 2, 3, 4)]
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert all(not s.broken or s.launches == 0 for s in segments)


def test_graphs_off_by_the_session_option_or_the_environment(gpu, monkeypatch):
    mlp_training(4, config=no_graphs())
    assert gpu.graph_launches == 0
    monkeypatch.setenv("GPUGRAPH_CUDA_GRAPHS", "0")
    _, _, runs = mlp_training(4)
    assert gpu.graph_launches == 0 and not segments_of(runs)


@pytest.mark.parametrize("copied", [True, False])
def test_outputs_a_later_step_may_keep_are_copies_of_the_graphs_buffers(gpu, copied):
    """A replay writes the buffers it was captured with: an output kept past the run (a queue's element)
    must be a copy, or the next replay changes it behind its holder."""
    from gpugraph.runtime.graph_replay import Member

    with tf.Session() as sess:
        backend = sess.backend_of("/device:GPU:0")
        cupy = backend.xp
        x = backend.to_device(np.arange(4, dtype=np.float32))
        members = [Member(tf.no_op().node_def and tf.get_default_graph().get_operations()[-1],
                          lambda a: a * 2.0, (0,), (1,)),
                   Member(tf.get_default_graph().get_operations()[-1], lambda b: b + 1.0, (1,), (2,))]
        segment = GraphSegment(backend, members, 3, (2,), cells=(), copied=frozenset({2} if copied else ()))
        kept = []
        for k in range(4):
            with backend.activate():
                x[...] = cupy.asarray(np.full(4, k, np.float32))
            kept.append(segment(x))
        values = [backend.to_host(v) for v in kept]
    assert segment.launches == 3
    if copied:
        for k, v in enumerate(values):
            np.testing.assert_array_equal(v, np.full(4, 2.0 * k + 1.0))
    else:  # the hazard the copies prevent: every replayed result is the same buffer, now the last run's
        np.testing.assert_array_equal(values[1], np.full(4, 7.0))


def test_with_graphs_off_feeds_still_upload_into_buffers_kept_from_run_to_run(gpu):
    from gpugraph.runtime.graph_replay import PersistentUpload

    x = tf.placeholder(tf.float32, [None, 6], name="x")
    w = tf.Variable(np.arange(18, dtype=np.float32).reshape(6, 3) / 10)
    y = tf.nn.relu(tf.matmul(x, w) - 1.0)
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((16, 6)).astype(np.float32) for _ in range(4)]
    with tf.Session(config=no_graphs()) as sess:
        sess.run(tf.global_variables_initializer())
        got = [sess.run(y, {x: b}) for b in batches]
        plan = list(sess._runs.values())[-1].plan
        uploads = [s.fn for s in plan.replay_steps if isinstance(s.fn, PersistentUpload)]
        kept = [u.buffer for u in uploads]
        sess.run(y, {x: batches[0]})
        assert len(uploads) == 1 and all(u.buffer is k for u, k in zip(uploads, kept))  # the same device array
        weights = sess.run(w)
    assert gpu.graph_launches == 0
    for b, g in zip(batches, got):  # each run read its own feed, not an earlier one left in the buffer
        np.testing.assert_allclose(g, np.maximum(b @ weights - 1, 0), rtol=1e-5, atol=1e-6)
