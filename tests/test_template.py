"""tf.make_template: shared variables and TF1's variable and op names."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _scaled(x, scale):
    w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    return x * w * scale


def test_variables_are_shared_and_named_as_tf1() -> None:
    t = tf.make_template("my", _scaled, scale=2.0)
    a = t(tf.constant([1.0, 2.0]))
    b = t(tf.constant([3.0, 4.0]))
    c = tf.make_template("my", _scaled, scale=1.0)(tf.constant([1.0, 1.0]))
    t3 = tf.make_template("now", _scaled, create_scope_now_=True, scale=1.0)
    with tf.variable_scope("outer"):
        d = t3(tf.constant([1.0, 1.0]))
    # TensorFlow 2.21 (tf.compat.v1) gives these exact names for the same program
    assert [v.name for v in tf.global_variables()] == ["my/w:0", "my_1/w:0", "now/w:0"]
    assert [a.name, b.name, c.name, d.name] == ["my/mul_1:0", "my_1/mul_1:0", "my_2/mul_1:0", "outer/now/mul_1:0"]
    assert t.variable_scope_name == "my/" and [v.name for v in t.trainable_variables] == ["my/w:0"]
    assert t.variables_created
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run([a, b]), [[2.0, 4.0], [6.0, 8.0]])


def test_new_trainable_variable_on_a_later_call_is_an_error() -> None:
    t = tf.make_template("g", lambda x: x * tf.Variable(1.0))
    t(1.0)
    with pytest.raises(ValueError, match="Trainable variable created when calling a template after the first time"):
        t(2.0)


def test_unique_name_and_custom_getter() -> None:
    seen = []

    def getter(getter, name, *args, **kwargs):
        seen.append(name)
        return getter(name, *args, **kwargs)

    t = tf.make_template("ignored", _scaled, unique_name_="fixed", custom_getter_=getter, scale=1.0)
    t(tf.constant([1.0, 1.0]))
    assert [v.name for v in tf.global_variables()] == ["fixed/w:0"] and seen == ["fixed/w"]
