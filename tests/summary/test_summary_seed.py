"""Seed 002's TensorBoard loop ("用TensorBoard来可视化图和训练曲线" and "命名作用域") on synthetic data:
an MSE summary every 10th mini-batch, written with a FileWriter and read back with TensorBoard's reader."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

import gpugraph as tf

try:
    from . import event_reading as reading
except ImportError:  # tests/summary is not a package: pytest put it on sys.path
    import event_reading as reading


def _data(m: int = 1000, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    features = rng.standard_normal((m, n))
    target = features @ rng.uniform(-2, 2, size=(n, 1)) + 0.5 + 0.1 * rng.standard_normal((m, 1))
    return np.c_[np.ones((m, 1)), features], target


@pytest.mark.parametrize("name_scope", [False, True], ids=["plain", "loss_scope"])
def test_seed_mse_curve_and_graph(tmp_path, name_scope: bool) -> None:
    tf.reset_default_graph()
    data, target = _data()
    m, n = data.shape[0], data.shape[1] - 1
    now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    logdir = "{}/run-{}/".format(tmp_path / "tf_logs", now)
    learning_rate = 0.01

    X = tf.placeholder(tf.float32, shape=(None, n + 1), name="X")
    y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
    theta = tf.Variable(tf.random_uniform([n + 1, 1], -1.0, 1.0, seed=42), name="theta")
    y_pred = tf.matmul(X, theta, name="predictions")
    if name_scope:
        with tf.name_scope("loss") as scope:
            error = y_pred - y
            mse = tf.reduce_mean(tf.square(error), name="mse")
        assert scope == "loss/"
    else:
        error = y_pred - y
        mse = tf.reduce_mean(tf.square(error), name="mse")
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
    training_op = optimizer.minimize(mse)
    init = tf.global_variables_initializer()

    mse_summary = tf.summary.scalar("MSE", mse)
    file_writer = tf.summary.FileWriter(logdir, tf.get_default_graph())

    n_epochs = 10
    batch_size = 100
    n_batches = int(np.ceil(m / batch_size))

    def fetch_batch(epoch: int, batch_index: int, batch_size: int):
        rng = np.random.default_rng(epoch * n_batches + batch_index)
        indices = rng.integers(m, size=batch_size)
        return data[indices], target[indices]

    written = {}
    with tf.Session() as sess:
        sess.run(init)
        for epoch in range(n_epochs):
            for batch_index in range(n_batches):
                X_batch, y_batch = fetch_batch(epoch, batch_index, batch_size)
                if batch_index % 10 == 0:
                    summary_str = mse_summary.eval(feed_dict={X: X_batch, y: y_batch})
                    step = epoch * n_batches + batch_index
                    file_writer.add_summary(summary_str, step)
                    written[step] = sess.run(mse, feed_dict={X: X_batch, y: y_batch})
                sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
    file_writer.flush()
    file_writer.close()

    # TF1 names are case-insensitive: next to "mse" at the root the summary becomes "MSE_1"
    tag = "MSE" if name_scope else "MSE_1"
    assert mse_summary.op.name == tag
    assert error.op.name == ("loss/sub" if name_scope else "sub")
    assert mse.op.name == ("loss/mse" if name_scope else "mse")
    acc = reading.accumulate(logdir)
    assert acc.Tags()["scalars"] == [tag]
    curve = acc.Scalars(tag)
    assert [e.step for e in curve] == list(range(0, n_epochs * n_batches, 10)) == sorted(written)
    np.testing.assert_allclose([e.value for e in curve], [written[e.step] for e in curve], rtol=1e-6)
    values = [e.value for e in curve]
    assert values[-1] < 0.5 * values[0]  # gradient descent brought the MSE down
    nodes = {node.name: node.op for node in acc.Graph().node}
    assert nodes[mse.op.name] == "Mean" and nodes["theta"] == "VariableV2" and nodes["X"] == "Placeholder"
    assert nodes[tag] == "ScalarSummary"
