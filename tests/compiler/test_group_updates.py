"""The group-updates pass: a step's updates of one kind run as one step, with the values and the errors
of the updates run one by one."""

from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops import training_ops
from gpugraph.testing import simulated_gpus

OPTIMIZERS: dict[str, Callable[[], Any]] = {
    "gd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda: tf.train.AdamOptimizer(0.01),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5),
}


def _plan_steps(sess: Any) -> Any:
    return list(sess._runs.values())[-1].plan.steps


def _train_mlp(make_optimizer: Callable[[], Any], steps: int = 3) -> tuple[list[np.ndarray], Any]:
    """An MLP 20-16-8 trained ``steps`` times: every variable (slots included) and the last plan's steps."""
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((8, 20)).astype(np.float32), rng.integers(0, 8, 8).astype(np.int32)
    graph = tf.Graph()
    with graph.as_default():
        x, y = tf.placeholder(tf.float32, [None, 20]), tf.placeholder(tf.int32, [None])
        h = x
        for i, (n_in, n_out) in enumerate([(20, 16), (16, 8)]):
            w = tf.Variable(rng.uniform(-0.3, 0.3, (n_in, n_out)).astype(np.float32), name=f"w{i}")
            h = tf.matmul(h, w) + tf.Variable(np.full(n_out, 0.1, np.float32), name=f"b{i}")
            h = tf.nn.relu(h) if i == 0 else h
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train = make_optimizer().minimize(loss)
        init = tf.global_variables_initializer()
        variables = tf.global_variables()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(train, {x: xs, y: ys})
        plan_steps = _plan_steps(sess)
        return sess.run(variables), plan_steps


def _devices(device: str) -> Any:
    return simulated_gpus(1, memory=1 << 28) if device == "simulated" else contextlib.nullcontext()


@pytest.mark.parametrize("device", ["host", "simulated"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_equals_training_update_by_update(name: str, device: str, monkeypatch) -> None:
    with _devices(device):
        grouped, steps = _train_mlp(OPTIMIZERS[name])
        monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "0")
        alone, steps_alone = _train_mlp(OPTIMIZERS[name])
    assert [a.tobytes() for a in grouped] == [b.tobytes() for b in alone]
    updates = [s for s in steps if any(op.type.startswith("Apply") for op in s.ops or (s.op,))]
    assert len(updates) == 1 and len(updates[0].ops) == 4  # the four variables' updates: one step
    n_saved = 3 + 3 * (name == "adam")  # four updates in one, and Adam's two Mul + Assign pairs in one
    assert len(steps) == len(steps_alone) - n_saved
    if name == "adam":
        (scales,) = [s for s in steps if [op.type for op in s.ops] == ["Mul", "Assign", "Mul", "Assign"]]
        assert [op.name for op in scales.ops] == ["Adam/mul", "Adam/Assign", "Adam/mul_1", "Adam/Assign_1"]


def test_adam_equals_a_numpy_adam() -> None:
    c1, c2 = np.array([0.5, -2.0, 3.0], np.float32), np.array([[1.5], [-0.25]], np.float32)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    graph = tf.Graph()
    with graph.as_default():
        w1, w2 = tf.Variable(np.ones(3, np.float32)), tf.Variable(np.zeros((2, 1), np.float32))
        loss = tf.reduce_sum(w1 * c1) + tf.reduce_sum(w2 * c2)  # gradients: c1 and c2
        optimizer = tf.train.AdamOptimizer(lr, b1, b2, eps)
        train = optimizer.minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(4):
            sess.run(train)
        got = sess.run([w1, w2] + list(optimizer._get_beta_accumulators()))
    want, m, v = [np.ones(3), np.zeros((2, 1))], [np.zeros(3), np.zeros((2, 1))], [np.zeros(3), np.zeros((2, 1))]
    for t in range(1, 5):  # TF1's Adam (float64 here: the tolerance covers float32 rounding)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for k, g in enumerate((c1, c2)):
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            want[k] = want[k] - alpha * m[k] / (np.sqrt(v[k]) + eps)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got[2:], [b1 ** 5, b2 ** 5], rtol=1e-6)


def test_a_traced_step_names_every_update_it_runs() -> None:
    with simulated_gpus(1, memory=1 << 28):
        graph = tf.Graph()
        with graph.as_default():
            a, b = tf.Variable([1.0, 2.0], name="a"), tf.Variable([3.0], name="b")
            train = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(a * a) + tf.reduce_sum(b))
            init = tf.global_variables_initializer()
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            meta = tf.RunMetadata()
            sess.run(train, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
            values = sess.run([a, b])
    labels = [n.timeline_label for d in meta.step_stats.dev_stats for n in d.node_stats]
    grouped = [label for label in labels if "update_a/ApplyGradientDescent" in label]
    assert len(grouped) == 1 and "update_b/ApplyGradientDescent" in grouped[0]
    np.testing.assert_array_equal(values[0], [0.0, 0.0])  # 1 - 0.5 * 2, 2 - 0.5 * 4
    np.testing.assert_array_equal(values[1], [2.5])


def _two_updates(initialize_both: bool = True) -> tuple[Any, Any, Any, Any]:
    graph = tf.Graph()
    with graph.as_default():
        a, b = tf.Variable(np.ones(3, np.float32), name="a"), tf.Variable(np.ones(2, np.float32), name="b")
        grad = tf.placeholder(tf.float32, None, name="grad")
        lr = tf.constant(0.5)
        ua = training_ops.apply_gradient_descent(a, lr, tf.ones([3]), name="update_a")
        ub = training_ops.apply_gradient_descent(b, lr, grad, name="update_b")
        train = tf.group(ua, ub)
        init = tf.variables_initializer([a, b] if initialize_both else [a])
    return graph, train, init, grad


def _run_error(monkeypatch: Any, grouped: bool, feed: np.ndarray, initialize_both: bool = True) -> tuple[Any, Any]:
    monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "1" if grouped else "0")
    graph, train, init, grad = _two_updates(initialize_both)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        with pytest.raises(tf.errors.OpError) as info:
            sess.run(train, {grad: feed})
        n_update_steps = sum(1 for s in _plan_steps(sess) if s.kind == "op" and s.op.type == "ApplyGradientDescent")
    return info.value, n_update_steps


@pytest.mark.parametrize("device", ["host", "simulated"])
def test_errors_name_the_update_that_failed(device: str, monkeypatch) -> None:
    with _devices(device):
        shape_error, n_steps = _run_error(monkeypatch, True, np.ones(5, np.float32))
        alone, n_alone = _run_error(monkeypatch, False, np.ones(5, np.float32))
        uninitialized, _ = _run_error(monkeypatch, True, np.ones(2, np.float32), initialize_both=False)
        uninitialized_alone, _ = _run_error(monkeypatch, False, np.ones(2, np.float32), initialize_both=False)
    assert (n_steps, n_alone) == (1, 2)
    assert isinstance(shape_error, tf.errors.InvalidArgumentError) and shape_error.op.name == "update_b"
    assert "var and grad do not have the same shape[2] [5]" in shape_error.message
    assert shape_error.message == alone.message
    assert isinstance(uninitialized, tf.errors.FailedPreconditionError)
    assert "Attempting to use uninitialized value b" in uninitialized.message
    assert uninitialized.message == uninitialized_alone.message


def test_updates_stay_in_order_around_a_write_of_their_learning_rate(monkeypatch) -> None:
    def run() -> list[np.ndarray]:
        graph = tf.Graph()
        with graph.as_default():
            a, b = tf.Variable([1.0], name="a"), tf.Variable([1.0], name="b")
            lr = tf.Variable(0.5, name="lr")
            ua = training_ops.apply_gradient_descent(a, lr, tf.constant([1.0]), name="update_a")
            with tf.control_dependencies([ua]):
                set_lr = tf.assign(lr, 0.25)
            with tf.control_dependencies([set_lr]):
                ub = training_ops.apply_gradient_descent(b, lr, tf.constant([1.0]), name="update_b")
            init = tf.global_variables_initializer()
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            sess.run(ub)
            return sess.run([a, b])
    grouped = run()
    monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "0")
    assert [x.tolist() for x in grouped] == [x.tolist() for x in run()] == [[0.5], [0.75]]


@pytest.mark.parametrize("device", ["host", "simulated"])
def test_a_variable_scaled_by_its_own_assign(device: str, monkeypatch) -> None:
    def run() -> tuple[list[Any], Any, Any]:
        graph = tf.Graph()
        with graph.as_default():
            v = tf.Variable(np.array([1.5, -2.0], np.float32), name="v")
            c = tf.placeholder(tf.float32, None, name="c")
            scaled = tf.assign(v, v * c)
            init = tf.global_variables_initializer()
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            out = [sess.run(scaled, {c: np.float32(0.9)}) for _ in range(2)]
            steps = _plan_steps(sess)
            out.append(sess.run(v))
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.run(scaled, {c: np.ones(3, np.float32)})  # a product of another shape than v's
            return out, info.value, steps
    with _devices(device):
        got, error, steps = run()
        monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "0")
        alone, error_alone, _ = run()
    once = np.array([1.5, -2.0], np.float32) * np.float32(0.9)
    np.testing.assert_array_equal(got[0], once)  # Assign returns the updated variable
    np.testing.assert_array_equal(got[1], once * np.float32(0.9))
    np.testing.assert_array_equal(got[2], got[1])
    assert got[0] is not got[1]  # fetches are copies, not the variable's buffer
    assert [g.tobytes() for g in got] == [a.tobytes() for a in alone]
    assert error_alone.op.name == "mul"
    merged = [tuple(o.type for o in s.ops) for s in steps if s.ops and s.op.type == "Assign"]
    if device == "host":  # (on the simulated GPU the fuse pass has put v's read and the Mul in one step)
        assert merged == [("Mul", "Assign")]
        # a failure of NumPy's (the broadcast) names the member op, inside the step holding it
        assert "[[{{node mul}} (Mul), running the function holding it]]" in error.message
    else:
        assert merged == [] and error.message == error_alone.message


def test_a_product_read_elsewhere_is_not_merged() -> None:
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(2.0, name="v")
        product = v * 3.0
        scaled = tf.assign(v, product)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        assert sess.run([scaled, product]) == [6.0, 6.0]
        assert not any(s.ops and s.op.type == "Assign" for s in _plan_steps(sess))
