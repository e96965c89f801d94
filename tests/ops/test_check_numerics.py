"""tf.check_numerics and tf.add_check_numerics_ops: TF1's errors on NaN and Inf, gradient passes through."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


def test_finite_values_pass_unchanged_and_the_op_is_tf1s():
    a = tf.placeholder(tf.float32, [2], name="a")
    c = tf.check_numerics(a, "my message", name="cn")
    assert (c.op.type, c.op.name, c.op.get_attr("message")) == ("CheckNumerics", "cn", "my message")
    assert c.shape.as_list() == [2] and c.dtype == tf.float32
    np.testing.assert_array_equal(run(c, feed={a: [1.0, 2.0]}), [1.0, 2.0])


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_nan_or_inf_stops_the_run_with_tf1s_message(bad, kind):
    a = tf.placeholder(tf.float32, [2], name="a")
    c = tf.check_numerics(a, "my message", name="cn")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        run(c, feed={a: [1.0, bad]})
    assert str(info.value).startswith(f"my message : Tensor had {kind} values\n\t [[{{{{node cn}}}}]]")
    assert info.value.op is c.op
    assert __file__ in str(info.value)  # where it was created


def test_gradient_passes_through():
    a = tf.placeholder(tf.float32, [2])
    (g,) = tf.gradients(tf.check_numerics(a, "m") * 2.0, a)
    np.testing.assert_array_equal(run(g, feed={a: [1.0, 2.0]}), [2.0, 2.0])  # TF1 gives [2, 2]


def test_integer_tensors_are_refused_at_build_time():
    with pytest.raises(TypeError, match="int32 not in list of allowed values"):
        tf.check_numerics(tf.constant([1, 2]), "m")


def test_add_check_numerics_ops_names_the_first_bad_tensor():
    z = tf.placeholder(tf.float32, [2], name="z")
    w = tf.log(z, name="w")
    tf.multiply(w, 2.0, name="twice")
    tf.constant([1, 2], name="ints")
    check = tf.add_check_numerics_ops()
    assert check.type == "NoOp"
    checks = [op for op in tf.get_default_graph().get_operations() if op.type == "CheckNumerics"]
    assert [op.get_attr("message") for op in checks] == ["z:0", "w:0", "twice/y:0", "twice:0"]
    with tf.Session() as sess:
        sess.run(check, {z: [1.0, 2.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="w:0 : Tensor had Inf values"):
            sess.run(check, {z: [0.0, 1.0]})  # log(0) = -inf
