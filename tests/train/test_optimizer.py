"""GradientDescentOptimizer and the Optimizer base: minimize, global_step, var_list, gradients API."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _linear_problem():
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((50, 3)).astype(np.float32)
    true_w = np.array([[1.0], [-2.0], [0.5]], np.float32)
    yv = xv @ true_w + 0.3
    x = tf.placeholder(tf.float32, shape=(None, 3), name="x")
    y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
    w = tf.Variable(tf.zeros([3, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    with tf.name_scope("loss"):
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y), name="mse")
    return x, y, w, b, loss, {x: xv, y: yv}, true_w


def test_minimize_decreases_loss_and_converges():
    x, y, w, b, loss, feed, true_w = _linear_problem()
    train = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(loss)
    assert isinstance(train, tf.Operation)
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [train]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run(loss, feed)]
        for _ in range(300):
            _, lv = sess.run([train, loss], feed)
            losses.append(lv)
        assert losses[1] <= losses[0]
        assert all(b_ <= a_ + 1e-7 for a_, b_ in zip(losses, losses[1:]))
        np.testing.assert_allclose(sess.run(w), true_w, atol=1e-3)
        assert sess.run(b) == pytest.approx(0.3, abs=1e-3)


def test_one_step_matches_the_gradient_descent_rule():
    w = tf.Variable([1.0, -2.0], name="w")
    loss = tf.reduce_sum(w * w)  # gradient 2w
    step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.5, -1.0])


def test_learning_rate_may_be_a_tensor():
    lr = tf.placeholder(tf.float32, shape=(), name="lr")
    w = tf.Variable(1.0, name="w")
    step = tf.train.GradientDescentOptimizer(lr).minimize(w * w)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step, {lr: 0.5})
        assert sess.run(w) == 0.0


def test_global_step_is_incremented_after_the_update():
    w = tf.Variable(2.0, name="w")
    global_step = tf.Variable(0, name="global_step", trainable=False)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=global_step)
    assert train.type == "AssignAdd"
    assert train.name == "GradientDescent"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(1, 4):
            sess.run(train)
            assert sess.run(global_step) == i
        np.testing.assert_allclose(sess.run(w), 2.0 * 0.8 ** 3, rtol=1e-6)
    # the increment waits for the updates: they are among its (control or data) ancestors
    seen, stack = set(), [train]
    while stack:
        op = stack.pop()
        for dep in list(op.control_inputs) + [t.op for t in op.inputs]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    assert any(op.type == "ApplyGradientDescent" for op in seen)


def test_var_list_restricts_updates():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b")
    train = tf.train.GradientDescentOptimizer(0.5).minimize(a * a + b * b, var_list=[a])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run([a, b]) == [0.0, 1.0]


def test_untrainable_variables_are_left_alone():
    a = tf.Variable(1.0, name="a")
    frozen = tf.Variable(1.0, name="frozen", trainable=False)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(a * frozen)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run([a, frozen]) == [0.5, 1.0]


def test_compute_and_apply_gradients():
    a = tf.Variable(3.0, name="a")
    b = tf.Variable(1.0, name="b")
    opt = tf.train.GradientDescentOptimizer(0.1)
    loss = a * a
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [a, b]
    assert gv[1][0] is None  # b does not affect the loss
    clipped = [(g * 0.5, v) for g, v in gv if g is not None]
    step = opt.apply_gradients(clipped, name="apply")
    assert step.name == "apply"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(a) == pytest.approx(3.0 - 0.1 * 3.0)


def test_optimizer_errors():
    opt = tf.train.GradientDescentOptimizer(0.1)
    x = tf.constant(1.0)
    with pytest.raises(ValueError):
        opt.minimize(x * 2.0)  # no variables
    v = tf.Variable(1.0)
    c = tf.Variable(1.0, trainable=False)
    with pytest.raises(ValueError):
        opt.minimize(x * 2.0, var_list=[v])  # no gradient for any variable
    with pytest.raises(ValueError):
        opt.minimize(tf.constant(1) * 2, var_list=[v])  # an integer loss
    with pytest.raises(TypeError):
        opt.minimize(v * 2.0, var_list=[v.value()])
    with pytest.raises(ValueError):
        opt.apply_gradients([])
    del c


def test_training_updates_in_place_and_with_gradients_api():
    w = tf.Variable(np.ones((2, 2), np.float32), name="w")
    loss = tf.reduce_sum(tf.square(w))
    (g,) = tf.gradients(loss, [w])
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        buf = sess._cells[w.op].value
        np.testing.assert_allclose(sess.run(g), 2 * np.ones((2, 2)))
        for _ in range(5):
            sess.run(train)
        assert sess._cells[w.op].value is buf
        np.testing.assert_allclose(buf, np.full((2, 2), 0.8 ** 5), rtol=1e-6)


def test_optimizer_classes_and_name():
    opt = tf.train.GradientDescentOptimizer(0.1, name="SGD")
    assert opt.get_name() == "SGD"
    assert isinstance(opt, tf.train.Optimizer)
    with pytest.raises(ValueError):
        tf.train.GradientDescentOptimizer(0.1, name="")


def test_update_ops_are_colocated_with_their_variables():
    with tf.device("/gpu:0"):
        w = tf.Variable(1.0, name="w")
    step = tf.Variable(0, name="step", trainable=False)
    with tf.device("/cpu:0"):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=step)
    graph = tf.get_default_graph()
    apply = [op for op in graph.get_operations() if op.type == "ApplyGradientDescent"]
    assert len(apply) == 1 and apply[0].device == "/device:GPU:0"
    assert apply[0].name == "GradientDescent/update_w/ApplyGradientDescent"
    assert train.device == ""  # colocated with the step variable, which has no device


def test_slot_api_of_plain_gradient_descent_is_empty():
    opt = tf.train.GradientDescentOptimizer(0.1)
    v = tf.Variable(1.0)
    assert opt.get_slot_names() == []
    assert opt.get_slot(v, "momentum") is None
    assert opt.variables() == []


def test_apply_gradients_checks_its_pairs():
    w = tf.Variable(1.0, name="w")
    opt = tf.train.GradientDescentOptimizer(0.5)
    with pytest.raises(TypeError, match="convertible to a Tensor"):
        opt.apply_gradients([(object(), w)])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, w)])
    step = opt.apply_gradients([(2.0, w)])  # a Python number is a constant gradient
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step)
        assert sess.run(w) == 0.0


def test_base_optimizer_needs_an_update_rule():
    w = tf.Variable(1.0, name="w")
    with pytest.raises(NotImplementedError):
        tf.train.Optimizer(False, "Plain").minimize(w * w)
    with pytest.raises(ValueError, match="gate_gradients"):
        tf.train.GradientDescentOptimizer(0.1).compute_gradients(w * w, gate_gradients=7)


def test_grad_loss_scales_the_gradients():
    w = tf.Variable(3.0, name="w")
    gv = tf.train.GradientDescentOptimizer(0.1).compute_gradients(w * w, grad_loss=tf.constant(0.5))
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(gv[0][0]) == 3.0

