"""tf.nn: activations, softmax family, cross-entropies, l2_loss and bias_add against NumPy/SciPy."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from scipy import special

import gpugraph as tf

EXTREME = np.array([[-100.0, 0.0, 100.0], [100.0, 100.0, -100.0], [-100.0, -100.0, -100.0],
                    [0.5, -2.0, 3.0]])


def run(build: Callable[..., Any], *arrays: np.ndarray, shapes: Any = None) -> Any:
    """Build ``build(*placeholders)`` in a fresh graph and run it on ``arrays``."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape if shapes is None else shapes[i])
               for i, a in enumerate(arrays)]
        out = build(*phs)
        with tf.Session() as sess:
            return sess.run(out, dict(zip(phs, arrays)))


def check_gradients(build: Callable[..., Any], arrays: list[np.ndarray], wrt: list[int], seed: int = 0,
                    second_order: bool = False) -> None:
    """tf.gradients of sum(w * build(...)) (or of <grad, v> when second_order) vs central differences."""
    rng = np.random.default_rng(seed)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), shape=[None] * a.ndim) for a in arrays]
        y = build(*phs)
        with tf.Session() as sess:
            w = rng.standard_normal(sess.run(y, dict(zip(phs, arrays))).shape)
        obj = tf.reduce_sum(y * w)
        if second_order:  # differentiate <d obj / d x0, v>: a Hessian-vector product
            (gx,) = tf.gradients(obj, [phs[0]])
            obj = tf.reduce_sum(gx * rng.standard_normal(arrays[0].shape))
        grads = tf.gradients(obj, [phs[i] for i in wrt])
        with tf.Session() as sess:
            feeds = dict(zip(phs, arrays))
            got = sess.run(grads, feeds)
            for i, gi in zip(wrt, got):
                want = np.zeros_like(arrays[i])
                for idx in np.ndindex(arrays[i].shape):
                    vals = []
                    for step in (1e-6, -1e-6):
                        moved = [a.copy() for a in arrays]
                        moved[i][idx] += step
                        vals.append(sess.run(obj, dict(zip(phs, moved))))
                    want[idx] = (vals[0] - vals[1]) / 2e-6
                np.testing.assert_allclose(gi, want, rtol=1e-5, atol=1e-6)


def log_softmax_np(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return special.log_softmax(x, axis=axis)


# --- activations ---
ACTIVATIONS = [
    (tf.tanh, np.tanh),
    (tf.sigmoid, special.expit),
    (tf.nn.relu, lambda x: np.maximum(x, 0)),
    (tf.nn.relu6, lambda x: np.clip(x, 0, 6)),
    (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    (tf.nn.softplus, lambda x: np.logaddexp(x, 0)),
    (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
]


@pytest.mark.parametrize("fn,ref", ACTIVATIONS, ids=lambda f: getattr(f, "__name__", "ref"))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_values_including_extremes(fn: Any, ref: Any, dtype: Any) -> None:
    x = np.concatenate([EXTREME.ravel(), [-1000.0, 1000.0, -30.0, 30.0, 5.9, 6.1, -1e-3]]).astype(dtype)
    got = run(fn, x)
    assert got.dtype == dtype and np.all(np.isfinite(got))
    tol = {"rtol": 1e-6, "atol": 1e-37} if dtype == np.float32 else {"rtol": 1e-13}  # float32 denormals
    np.testing.assert_allclose(got, ref(x.astype(np.float64)), **tol)


def test_sigmoid_keeps_relative_precision_far_left() -> None:
    x = np.array([-40.0, -700.0, 40.0])
    np.testing.assert_allclose(run(tf.sigmoid, x), special.expit(x), rtol=1e-14)


def test_relu_family_on_integers() -> None:
    x = np.array([-3, 0, 4, 9], dtype=np.int32)
    assert run(tf.nn.relu, x).tolist() == [0, 0, 4, 9]
    assert run(tf.nn.relu6, x).tolist() == [0, 0, 4, 6]


@pytest.mark.parametrize("fn", [tf.tanh, tf.sigmoid, tf.nn.relu, tf.nn.relu6, tf.nn.elu, tf.nn.softplus,
                                lambda x: tf.nn.leaky_relu(x, alpha=0.3)])
def test_activation_gradients(fn: Any) -> None:
    x = np.array([[-2.5, -0.7, 0.4], [1.3, 5.2, 7.1]])
    check_gradients(fn, [x], [0])


@pytest.mark.parametrize("fn", [tf.tanh, tf.sigmoid, tf.nn.elu, tf.nn.softplus])
def test_activation_second_derivatives(fn: Any) -> None:
    check_gradients(fn, [np.array([[-1.5, -0.3, 0.6, 2.0]])], [0], second_order=True)


def test_nn_namespace_shares_top_level_ops() -> None:
    assert tf.nn.tanh is tf.tanh and tf.nn.sigmoid is tf.sigmoid
    assert tf.compat.v1.nn.relu is tf.nn.relu


# --- softmax / log_softmax ---
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_values(axis: int) -> None:
    sm, lsm = run(lambda x: [tf.nn.softmax(x, axis=axis), tf.nn.log_softmax(x, axis=axis)], EXTREME)
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    np.testing.assert_allclose(sm, special.softmax(EXTREME, axis=axis), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(lsm, log_softmax_np(EXTREME, axis), rtol=1e-12)


def test_softmax_float32_extremes_and_dim_alias() -> None:
    x = (EXTREME * 10).astype(np.float32)  # +-1000: exp would overflow without the max shift
    sm = run(lambda t: tf.nn.softmax(t, dim=0), x)
    assert sm.dtype == np.float32 and np.all(np.isfinite(sm))
    np.testing.assert_allclose(sm, special.softmax(x.astype(np.float64), axis=0), rtol=1e-6, atol=1e-30)


def test_softmax_unknown_batch_and_rank() -> None:
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, shape=(None, 5))
        b = tf.placeholder(tf.float32)
        assert tf.nn.softmax(a).shape.as_list() == [None, 5]
        assert tf.nn.log_softmax(b).shape.ndims is None
        with tf.Session() as sess:
            x = np.arange(10, dtype=np.float32).reshape(2, 5)
            np.testing.assert_allclose(sess.run(tf.nn.softmax(b), {b: x}), special.softmax(x, -1), rtol=1e-6)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_gradients(axis: int) -> None:
    x = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]])
    check_gradients(lambda t: tf.nn.softmax(t, axis=axis), [x], [0])
    check_gradients(lambda t: tf.nn.log_softmax(t, axis=axis), [x], [0])
    check_gradients(lambda t: tf.nn.softmax(t, axis=axis), [x], [0], second_order=True)


def test_softmax_example_gradient() -> None:
    def build(x: Any) -> Any:
        y = tf.nn.softmax(x)
        return [y, tf.gradients(tf.reduce_sum(y * [1.0, 2.0, 3.0]), [x])[0]]
    y, gx = run(build, np.ones((2, 3)), shapes=[(None, 3)])
    np.testing.assert_allclose(y, np.full((2, 3), 1 / 3))
    np.testing.assert_allclose(gx, np.tile([-1 / 3, 0.0, 1 / 3], (2, 1)), atol=1e-15)


# --- sparse softmax cross-entropy ---
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_xent_values_and_gradient(label_dtype: Any) -> None:
    labels = np.array([2, 0, 1, 2], dtype=label_dtype)

    def build(logits: Any, lab: Any) -> Any:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=logits)
        g_logits, g_labels = tf.gradients(loss, [logits, lab])
        assert g_labels is None
        return [loss, g_logits]
    loss, g_logits = run(build, EXTREME, labels, shapes=[(None, 3), (None,)])
    want = -log_softmax_np(EXTREME)[np.arange(4), labels]
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(g_logits))
    np.testing.assert_allclose(loss, want, rtol=1e-12)
    np.testing.assert_allclose(g_logits, special.softmax(EXTREME, -1) - np.eye(3)[labels], atol=1e-15)


def test_sparse_xent_rank3_and_unknown_shapes() -> None:
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3)).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, shape=(None, None, 4))
        y = tf.placeholder(tf.int64, shape=(2, None))
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
        assert loss.shape.as_list() == [2, None]
        with tf.Session() as sess:
            got = sess.run(loss, {x: logits, y: labels})
    want = -np.take_along_axis(log_softmax_np(logits), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_sparse_xent_gradients_first_and_second_order() -> None:
    logits, labels = np.array([[0.2, -1.0, 2.0], [1.5, 0.3, -0.4]]), np.array([1, 0], dtype=np.int32)

    def build(x: Any, y: Any) -> Any:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
    check_gradients(build, [logits, labels], [0])
    check_gradients(build, [logits, labels], [0], second_order=True)


def test_sparse_xent_label_out_of_range_is_invalid_argument() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(None, 3))
        y = tf.placeholder(tf.int32, shape=(None,))
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=r"valid range of \[0, 3\)"):
            sess.run(loss, {x: np.zeros((2, 3), np.float32), y: np.array([0, 3], np.int32)})


def test_sparse_xent_errors() -> None:
    g = tf.Graph()
    with g.as_default():
        logits = tf.placeholder(tf.float32, shape=(4, 3))
        with pytest.raises(ValueError, match="named arguments"):
            tf.nn.sparse_softmax_cross_entropy_with_logits([0, 1, 2, 0], logits)
        with pytest.raises(ValueError, match="Both labels and logits"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits)
        with pytest.raises(ValueError, match="Rank mismatch.*SparseSoftmaxCrossEntropyWithLogits"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros((4, 3), tf.int32), logits=logits)
        with pytest.raises(ValueError, match="Shape mismatch.*SparseSoftmaxCrossEntropyWithLogits"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros((5,), tf.int32), logits=logits)
        with pytest.raises(TypeError, match="labels"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros((4,)), logits=logits)
        with pytest.raises(TypeError, match="features"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=[[1, 2], [3, 4]])


# --- dense softmax cross-entropy (v1 and v2) ---
def _dense_labels() -> np.ndarray:
    p = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.1, 0.1, 0.8]])
    return p


@pytest.mark.parametrize("fn", [tf.nn.softmax_cross_entropy_with_logits, tf.nn.softmax_cross_entropy_with_logits_v2])
def test_dense_xent_values(fn: Any) -> None:
    labels = _dense_labels()
    loss = run(lambda x, y: fn(labels=y, logits=x), EXTREME, labels, shapes=[(None, 3), (None, 3)])
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss, -(labels * log_softmax_np(EXTREME)).sum(-1), rtol=1e-12)
    loss0 = run(lambda x, y: fn(labels=y, logits=x, dim=0), EXTREME.T.copy(), labels.T.copy())
    np.testing.assert_allclose(loss0, loss, rtol=1e-12)


def test_dense_xent_v1_stops_label_gradient_v2_does_not() -> None:
    labels = _dense_labels()

    def build(x: Any, y: Any) -> Any:
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x)
        g1x, g1y = tf.gradients(v1, [x, y])
        assert g1y is None
        return [g1x] + tf.gradients(v2, [x, y])
    g1x, g2x, g2y = run(build, EXTREME, labels)
    np.testing.assert_allclose(g1x, special.softmax(EXTREME, -1) - labels, atol=1e-15)
    np.testing.assert_allclose(g2x, g1x)
    np.testing.assert_allclose(g2y, -log_softmax_np(EXTREME), rtol=1e-12)


def test_dense_xent_gradients_vs_central_differences() -> None:
    logits = np.array([[0.2, -1.0, 2.0], [1.5, 0.3, -0.4]])
    labels = np.array([[0.3, 0.3, 0.4], [0.9, 0.5, 0.1]])  # second row not normalised on purpose

    def v2(x: Any, y: Any) -> Any:
        return tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x)
    check_gradients(v2, [logits, labels], [0, 1])
    check_gradients(v2, [logits, labels], [0, 1], second_order=True)
    check_gradients(lambda x, y: tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x, dim=0),
                    [logits, labels], [0, 1])


def test_dense_xent_errors() -> None:
    g = tf.Graph()
    with g.as_default():
        logits = tf.placeholder(tf.float32, shape=(None, 3))
        with pytest.raises(ValueError, match="named arguments"):
            tf.nn.softmax_cross_entropy_with_logits_v2(np.eye(3), logits)
        with pytest.raises(ValueError, match="same shape.*softmax_cross_entropy_with_logits"):
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.zeros((2, 4)), logits=logits)
        with pytest.raises(TypeError, match="dtype float64"):
            tf.nn.softmax_cross_entropy_with_logits(labels=tf.zeros((2, 3), tf.float64), logits=logits)
        with pytest.raises(ValueError, match="out of bounds"):
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.zeros((2, 3)), logits=logits, dim=2)


# --- sigmoid cross-entropy ---
def test_sigmoid_xent_values_gradients_and_name() -> None:
    x = np.concatenate([EXTREME.ravel(), [-1000.0, 1000.0]])
    z = np.linspace(0, 1, x.size)

    def build(logits: Any, labels: Any) -> Any:
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        assert loss.op.name == "logistic_loss" and loss.shape.as_list() == [None]
        return [loss, tf.gradients(loss, [logits])[0]]
    loss, gx = run(build, x, z, shapes=[(None,), (None,)])
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(gx))
    np.testing.assert_allclose(loss, np.logaddexp(0, x) - x * z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, special.expit(x) - z, atol=1e-15)
    xs, zs = np.array([[-2.0, 0.4], [1.1, 3.0]]), np.array([[0.0, 1.0], [0.3, 0.7]])
    check_gradients(lambda a, b: tf.nn.sigmoid_cross_entropy_with_logits(labels=b, logits=a), [xs, zs], [0, 1])


def test_sigmoid_xent_errors() -> None:
    g = tf.Graph()
    with g.as_default():
        logits = tf.placeholder(tf.float32, shape=(2, 3))
        with pytest.raises(ValueError, match="named arguments"):
            tf.nn.sigmoid_cross_entropy_with_logits(np.ones((2, 3)), logits)
        with pytest.raises(ValueError, match="logistic_loss.*same shape"):
            tf.nn.sigmoid_cross_entropy_with_logits(labels=np.ones((2, 4)), logits=logits)
        with pytest.raises(TypeError, match="float64"):
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((2, 3), tf.float64), logits=logits)


# --- l2_loss and bias_add ---
def test_l2_loss() -> None:
    t = np.array([[1.0, -2.0], [3.0, 0.5]])

    def build(x: Any) -> Any:
        loss = tf.nn.l2_loss(x)
        assert loss.shape.as_list() == [] and loss.op.name == "L2Loss"
        return [loss, tf.gradients(loss, [x])[0]]
    loss, g = run(build, t, shapes=[(None, 2)])
    assert loss == pytest.approx((t**2).sum() / 2)
    np.testing.assert_allclose(g, t)
    with tf.Graph().as_default(), pytest.raises(TypeError):
        tf.nn.l2_loss(tf.constant([1, 2]))


@pytest.mark.parametrize("data_format,shape,axis", [(None, (2, 3), 1), ("NHWC", (2, 2, 2, 3), 3),
                                                    ("NCHW", (2, 3, 2, 2), 1)])
def test_bias_add_values_and_gradients(data_format: Any, shape: Any, axis: int) -> None:
    rng = np.random.default_rng(3)
    value, bias = rng.standard_normal(shape), rng.standard_normal(3)
    bshape = [1] * len(shape)
    bshape[axis] = 3
    out = run(lambda v, b: tf.nn.bias_add(v, b, data_format=data_format), value, bias,
              shapes=[(None,) + shape[1:], (3,)])
    np.testing.assert_allclose(out, value + bias.reshape(bshape))
    check_gradients(lambda v, b: tf.nn.bias_add(v, b, data_format=data_format), [value, bias], [0, 1])
    check_gradients(lambda v, b: tf.nn.bias_add(v, b, data_format=data_format) ** 2, [value, bias], [1],
                    second_order=True)


def test_bias_add_shapes_and_errors() -> None:
    g = tf.Graph()
    with g.as_default():
        v = tf.placeholder(tf.float32, shape=(None, None, 4))
        out = tf.nn.bias_add(v, [1.0, 2.0, 3.0, 4.0])
        assert out.op.name == "BiasAdd" and out.shape.as_list() == [None, None, 4]
        assert tf.nn.bias_add(tf.placeholder(tf.float32, shape=(None, None)), tf.zeros(5)).shape.as_list() == [None, 5]
        with pytest.raises(ValueError, match="BiasAdd"):
            tf.nn.bias_add(v, tf.zeros(3))
        with pytest.raises(ValueError, match="at least rank 2"):
            tf.nn.bias_add(tf.zeros(4), tf.zeros(4))
        with pytest.raises(ValueError, match="rank 1"):
            tf.nn.bias_add(v, tf.zeros((1, 4)))
        with pytest.raises(TypeError, match="bias"):
            tf.nn.bias_add(v, tf.zeros(4, tf.float64))
        with pytest.raises(ValueError, match="data_format"):
            tf.nn.bias_add(v, tf.zeros(4), data_format="HWNC")


def test_xw_plus_b() -> None:
    x, w, b = np.ones((2, 3)), np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0])
    out = run(lambda a, c, d: tf.nn.xw_plus_b(a, c, d), x, w, b)
    np.testing.assert_allclose(out, x @ w + b)


# --- naming and build-time errors ---
def test_default_op_names() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(None, 3))
        y = tf.placeholder(tf.int32, shape=(None,))
        names = [tf.nn.relu(x), tf.nn.relu(x), tf.nn.relu6(x), tf.nn.elu(x), tf.nn.softplus(x),
                 tf.nn.leaky_relu(x), tf.nn.softmax(x), tf.nn.log_softmax(x), tf.tanh(x), tf.sigmoid(x),
                 tf.nn.relu(x, name="act")]
        assert [t.op.name for t in names] == ["Relu", "Relu_1", "Relu6", "Elu", "Softplus", "LeakyRelu",
                                              "Softmax", "LogSoftmax", "Tanh", "Sigmoid", "act"]
        sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
        assert sparse.name == "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits:0"
        named = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x, name="loss")
        assert named.op.name == "loss/loss"
        labels = tf.zeros((2, 3))
        assert tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x).op.name == \
            "softmax_cross_entropy_with_logits"
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=x)
        assert v1.op.name == "softmax_cross_entropy_with_logits_sg"
        assert g.get_operation_by_name("softmax_cross_entropy_with_logits_sg/labels_stop_gradient").type == \
            "StopGradient"


def test_build_time_dtype_and_shape_errors() -> None:
    g = tf.Graph()
    with g.as_default():
        with pytest.raises(TypeError, match="'Tanh'"):
            tf.tanh(tf.constant([1, 2]))
        with pytest.raises(TypeError):
            tf.nn.relu(tf.constant([True]))
        with pytest.raises(TypeError):
            tf.nn.elu(tf.constant([1, 2]))
        with pytest.raises(ValueError, match="rank >= 1.*'Softmax'"):
            tf.nn.softmax(tf.constant(1.0))
        with pytest.raises(ValueError, match="out of bounds.*'LogSoftmax'"):
            tf.nn.log_softmax(tf.zeros((2, 3)), axis=2)
        with pytest.raises(TypeError):
            tf.nn.leaky_relu(tf.zeros(3), alpha=tf.constant(0.1))
