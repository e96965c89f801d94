"""The GPU code path end to end, on simulated GPUs: placement, transfers, resident variables
updated in place, placement logs, out-of-memory errors, memory given back on close."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.testing import simulated_gpus

SOFT = tf.ConfigProto(allow_soft_placement=True)


def linear_model(seed: int = 0):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(seed)
        X = tf.placeholder(tf.float32, shape=(None, 3), name="X")
        y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
        theta = tf.Variable(tf.random_uniform([3, 1], -1.0, 1.0), name="theta")
        with tf.name_scope("loss"):
            mse = tf.reduce_mean(tf.square(tf.matmul(X, theta) - y), name="mse")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(mse)
        init = tf.global_variables_initializer()
    return g, X, y, theta, mse, train, init


DATA_X = np.random.RandomState(1).randn(32, 3).astype(np.float32)
DATA_Y = (DATA_X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def train_steps(sess, X, y, mse, train, init, steps: int = 20) -> list[float]:
    sess.run(init)
    losses = []
    for _ in range(steps):
        _, loss = sess.run([train, mse], {X: DATA_X, y: DATA_Y})
        losses.append(float(loss))
    return losses


def test_training_on_a_gpu_keeps_variables_resident_updates_them_in_place_and_matches_the_host() -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with tf.Session(graph=g) as sess:
        host_losses = train_steps(sess, X, y, mse, train, init)
        host_theta = sess.run(theta)
    with simulated_gpus(1) as (gpu,):
        with tf.Session(graph=g) as sess:
            sess.run(init)
            cell = sess._cells[theta.op]
            assert cell.device == "/device:GPU:0"
            buffer = cell.value
            losses = [float(sess.run([train, mse], {X: DATA_X, y: DATA_Y})[1]) for _ in range(20)]
            assert cell.value is buffer  # updated in place on the device, never reallocated
            np.testing.assert_allclose(losses, host_losses, rtol=1e-6)
            np.testing.assert_allclose(sess.run(theta), host_theta, rtol=1e-6)
    assert losses[-1] < losses[0] / 10


def test_feeds_go_to_the_device_once_per_run_and_fetches_come_back_once() -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with simulated_gpus(1) as (gpu,), tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run([train, mse], {X: DATA_X, y: DATA_Y})  # builds the plan
        before_dev, before_host = gpu.transfers_to_device, gpu.transfers_to_host
        sess.run([train, mse], {X: DATA_X, y: DATA_Y})
        assert gpu.transfers_to_device - before_dev == 2  # X and y, once each
        assert gpu.transfers_to_host - before_host == 1  # the loss; train_op is an Operation
        assert gpu.bytes_to_device >= DATA_X.nbytes + DATA_Y.nbytes


def test_random_initializers_draw_on_the_gpu_the_values_of_the_host() -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        on_host = sess.run(theta)
    with simulated_gpus(1), tf.Session(graph=g) as sess:
        records = {r.node: r for r in sess.explain_placement(init)}
        assert records["random_uniform/RandomUniform"].device == "/device:GPU:0"
        assert records["random_uniform/RandomUniform"].reason == "default"
        assert records["theta/Assign"].device == "/device:GPU:0"  # the init run writes theta where it lives
        assert records["theta/Assign"].reason == "colocated with theta"
        sess.run(init)
        value = sess.run(theta)
        assert value.shape == (3, 1) and np.all(np.abs(value) <= 1.0)
        np.testing.assert_array_equal(value, on_host)  # the same seeds, the same Philox stream


def test_log_device_placement_prints_every_node_with_its_device_and_reason(capsys: pytest.CaptureFixture) -> None:
    g, X, y, theta, mse, train, init = linear_model()
    config = tf.ConfigProto(log_device_placement=True)
    with simulated_gpus(1), tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        sess.run(mse, {X: DATA_X, y: DATA_Y})
    err = capsys.readouterr().err
    assert "loss/mse: (Mean): /job:localhost/replica:0/task:0/device:GPU:0" in err
    assert "random_uniform/RandomUniform: (RandomUniform): /job:localhost/replica:0/task:0/device:GPU:0" in err


def test_explain_placement_returns_the_placement_without_running() -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with simulated_gpus(2) as gpus, tf.Session(graph=g) as sess:
        records = sess.explain_placement([train, mse], {X: DATA_X, y: DATA_Y})
        assert sess.plan_builds == 0 and gpus[0].transfers_to_device == 0
        by_node = {r.node: r for r in records}
        assert by_node["loss/mse"].device == "/device:GPU:0" and by_node["loss/mse"].reason == "default"
        assert by_node["GradientDescent/update_theta/ApplyGradientDescent"].reason == "colocated with theta"
        assert all(r.reason for r in records)
    with tf.Session(graph=g) as sess:  # module-level helper, same data
        records = tf.explain_placement(mse, {X: DATA_X, y: DATA_Y}, session=sess)
        assert {r.device for r in records} == {"/device:CPU:0"}


def test_explicit_gpu_that_does_not_exist_is_an_error_without_soft_placement_and_falls_back_with_it() -> None:
    g = tf.Graph()
    with g.as_default():
        with tf.device("/gpu:3"):
            a = tf.constant([1.0, 2.0]) * 2.0
    with simulated_gpus(1):
        with tf.Session(graph=g) as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="assigned to /device:GPU:3"):
                sess.run(a)
        with tf.Session(graph=g, config=SOFT) as sess:
            np.testing.assert_array_equal(sess.run(a), [2.0, 4.0])
            assert any(r.reason.startswith("soft placement") for r in sess.explain_placement(a))


def test_ops_pinned_to_two_gpus_exchange_values_through_the_host() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(4,), name="x")
        with tf.device("/gpu:0"):
            a = tf.square(x, name="a")
        with tf.device("/gpu:1"):
            b = tf.add(a, 1.0, name="b")
    with simulated_gpus(2) as gpus, tf.Session(graph=g) as sess:
        out = sess.run(b, {x: np.arange(4, dtype=np.float32)})
        np.testing.assert_array_equal(out, np.arange(4) ** 2 + 1)
        records = {r.node: r.device for r in sess.explain_placement(b, {x: np.zeros(4, np.float32)})}
        assert records["a"] == "/device:GPU:0" and records["b"] == "/device:GPU:1"
        assert gpus[1].transfers_to_device >= 1  # a's value crossed to GPU:1


def test_over_the_memory_budget_nodes_move_to_the_cpu_with_soft_placement_or_the_error_says_the_bytes() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(None, 64), name="x")
        big = tf.matmul(x, x, transpose_b=True, name="big")  # n x n
        out = tf.reduce_sum(big, name="total")
    feed = {x: np.ones((128, 64), np.float32)}
    with simulated_gpus(1, memory=32 << 10):  # 32 KiB: the 64 KiB n x n product cannot fit
        with tf.Session(graph=g, config=SOFT) as sess:
            assert float(sess.run(out, feed)) == 128 * 128 * 64
            reasons = {r.node: r.reason for r in sess.explain_placement(out, feed)}
            assert "over memory budget" in " ".join(reasons.values())
        with tf.Session(graph=g) as sess, pytest.raises(tf.errors.ResourceExhaustedError, match="bytes"):
            sess.run(out, feed)


def test_running_out_of_device_memory_at_run_time_names_the_node_and_the_session_survives() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(256,), name="x")
        y = tf.multiply(x, 2.0, name="double")
    with simulated_gpus(1, memory=1 << 20) as (gpu,), tf.Session(graph=g) as sess:
        feed = {x: np.ones(256, np.float32)}
        assert sess.run(y, feed)[0] == 2.0
        gpu.allocate(gpu.memory_budget - gpu.used_bytes - 100, "another job")  # the device fills up
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            sess.run(y, feed)
        message = str(info.value)
        assert "/device:GPU:0" in message and "OOM" in message
        gpu.release(gpu._reserved)
        assert sess.run(y, feed)[0] == 2.0  # usable again once memory is back


def test_close_gives_the_device_memory_back() -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with simulated_gpus(1) as (gpu,):
        sess = tf.Session(graph=g)
        sess.run(init)
        gpu.allocate(1000, "pool cache")
        sess.close()
        assert gpu._reserved == 0


def test_saver_round_trips_variables_that_live_on_the_gpu(tmp_path) -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with g.as_default():
        saver = tf.train.Saver()
    with simulated_gpus(1):
        with tf.Session(graph=g) as sess:
            train_steps(sess, X, y, mse, train, init, steps=5)
            expected = sess.run(theta)
            path = saver.save(sess, str(tmp_path / "model.ckpt"))
        with tf.Session(graph=g) as sess:
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(theta), expected)
            assert sess._cells[theta.op].device == "/device:GPU:0"  # restored on the host, moved on first use
            sess.run(train, {X: DATA_X, y: DATA_Y})


def test_device_environment_variable_forces_the_host_or_requires_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    g, X, y, theta, mse, train, init = linear_model()
    with simulated_gpus(1):
        monkeypatch.setenv("GPUGRAPH_DEVICE", "cpu")
        with tf.Session(graph=g) as sess:
            assert not sess.devices.has_gpu
    monkeypatch.setenv("GPUGRAPH_DEVICE", "gpu")
    with pytest.raises(RuntimeError, match="requires a GPU"):
        tf.Session(graph=g)
    monkeypatch.setenv("GPUGRAPH_DEVICE", "tpu")
    with pytest.raises(ValueError, match="GPUGRAPH_DEVICE"):
        tf.Session(graph=g)


def test_config_device_count_and_memory_fraction_shape_the_device_table() -> None:
    g = tf.Graph()
    with simulated_gpus(2, memory=1 << 20):
        config = tf.ConfigProto(device_count={"GPU": 0})
        assert not tf.Session(graph=g, config=config).devices.has_gpu
        config = tf.ConfigProto()
        config.gpu_options.per_process_gpu_memory_fraction = 0.5
        config.gpu_options.visible_device_list = "1"
        table = tf.Session(graph=g, config=config).devices.table
        assert [d.name for d in table.gpus()] == ["/device:GPU:0"]
        assert table.gpus()[0].memory_budget == 1 << 19 and table.gpus()[0].physical_index == 1


def test_explain_placement_reports_the_placement_the_run_uses() -> None:
    """A variable's value stays on the device it lives on in later runs; explain_placement says so too."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones(4, np.float32), name="v")
        with tf.device("/cpu:0"):
            y = v + 1.0
        z = tf.identity(v) * 2.0
    with simulated_gpus(2), tf.Session(graph=g, config=SOFT) as sess:
        sess.run(v.initializer)
        sess._settle(v.op, "/device:GPU:1")  # where an earlier plan moved it, say
        explained = {r.node: r.device for r in sess.explain_placement([y, z])}
        sess.run([y, z])
        plan = next(c.plan for c in sess._runs.values() if y.op in (c.plan.placements or {}))
        used = {op.name: p.device.name for op, p in plan.placements.items()}
    assert explained == used
    assert explained["v"] == "/device:GPU:1" and explained["add"] == "/device:CPU:0"
