"""tf.nn.top_k and tf.nn.in_top_k against TensorFlow (data/norm_reference.json) and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from norm_reference import check_case
from op_testing import graph, run  # noqa: F401 - graph is an autouse fixture

import gpugraph as tf


@pytest.mark.parametrize("name", ["top_k", "top_k_tensor_k", "in_top_k"])
def test_matches_tensorflow(name: str) -> None:
    check_case(name)


def test_top_k_static_shapes_and_names() -> None:
    x = tf.placeholder(tf.float32, [None, 4, 3])
    values, indices = tf.nn.top_k(x, 2)
    assert (values.name, indices.name) == ("TopKV2:0", "TopKV2:1")
    assert values.shape.as_list() == [None, 4, 2] and indices.dtype == tf.int32
    assert values.op.inputs[1].name == "TopKV2/k:0"
    k = tf.placeholder(tf.int32, [])
    assert tf.nn.top_k(x, k)[0].shape.as_list() == [None, 4, None]


class _UnreadableK:
    """A k a step must not read: a value known when the graph is built is an attribute of the op."""

    def __int__(self) -> int:
        raise AssertionError("k read back at run time")

    __index__ = __int__


@pytest.mark.parametrize("k", [2, np.int64(2), "const"])
def test_a_k_known_when_the_graph_is_built_is_not_read_at_run_time(k: object) -> None:
    data = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    x = tf.placeholder(tf.float32, [3, 5])
    values, _ = tf.nn.top_k(x, tf.constant(2) if k == "const" else k)
    assert values.op.get_attr("static_k") == 2
    want = -np.sort(-data, axis=1)[:, :2]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(values, {x: data}), want)
        step = next(s for s in next(iter(sess._runs.values())).plan.steps if s.op.type == "TopKV2")
    np.testing.assert_array_equal(step.fn(data, _UnreadableK())[0], want)


def test_a_k_given_at_run_time_is_read_when_the_step_runs() -> None:
    data = np.random.default_rng(2).standard_normal((2, 6))
    k = tf.placeholder(tf.int32, [])
    values, _ = tf.nn.top_k(tf.constant(data), k)
    with tf.Session() as sess:
        for n in (1, 4):
            np.testing.assert_array_equal(sess.run(values, {k: n}), -np.sort(-data, axis=1)[:, :n])


def test_top_k_matches_numpy_on_integers_with_ties() -> None:
    data = np.random.default_rng(0).integers(-3, 3, (4, 9)).astype(np.int32)
    values, indices = run(*tf.nn.top_k(tf.constant(data), 5))
    order = np.argsort(-data.astype(np.int64), axis=-1, kind="stable")[:, :5]  # larger first, then lower index
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(data, order, -1))


def test_top_k_gradient_scatters_into_the_chosen_positions() -> None:
    x = tf.constant([[1.0, 5.0, 3.0, 4.0]])
    values, _ = tf.nn.top_k(x, 2)
    (grad,) = tf.gradients(values * tf.constant([[10.0, 20.0]]), x)
    np.testing.assert_array_equal(run(grad), [[0, 10, 0, 20]])


def test_top_k_build_time_errors() -> None:
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.top_k(tf.constant(1.0), 1)
    with pytest.raises(ValueError, match="last dimension >= k = 3 but is 2"):
        tf.nn.top_k(tf.ones([3, 2]), 3)
    with pytest.raises(ValueError, match="k >= 0"):
        tf.nn.top_k(tf.ones([3, 2]), -1)


def test_top_k_run_time_k_too_large_is_invalid_argument() -> None:
    k = tf.placeholder(tf.int32, [])
    values, _ = tf.nn.top_k(tf.ones([2, 2]), k)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least k columns. Had 2, needed 3"):
        run(values, feed={k: 3})


def test_in_top_k_dtype_and_shape_checks() -> None:
    p = tf.placeholder(tf.float32, [None, 5])
    t = tf.placeholder(tf.int64, [None])
    out = tf.nn.in_top_k(p, t, 2)
    assert out.dtype == tf.bool and out.shape.as_list() == [None] and out.name == "in_top_k/InTopKV2:0"
    assert out.op.inputs[2].dtype == tf.int64
    with pytest.raises(TypeError, match="float32"):
        tf.nn.in_top_k(tf.ones([2, 3], tf.float64), [1, 2], 1)
    with pytest.raises(ValueError, match="rank 2"):
        tf.nn.in_top_k(tf.ones([3]), [1, 2, 0], 1)


def test_in_top_k_has_no_gradient() -> None:
    p = tf.placeholder(tf.float32, [2, 3])
    out = tf.cast(tf.nn.in_top_k(p, [0, 1], 1), tf.float32)
    assert tf.gradients(out, p) == [None]
