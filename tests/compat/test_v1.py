"""tf.compat.v1 is the same API as the top level."""

from __future__ import annotations

import importlib

import pytest

import gpugraph as tf


def test_compat_v1_names_are_the_same_objects():
    v1 = tf.compat.v1
    assert v1.placeholder is tf.placeholder
    assert v1.train.GradientDescentOptimizer is tf.train.GradientDescentOptimizer
    assert v1.Session is tf.Session
    assert v1.global_variables_initializer is tf.global_variables_initializer
    assert v1.variable_scope is tf.variable_scope
    assert v1.get_variable is tf.get_variable
    assert v1.float32 is tf.float32
    assert v1.GraphKeys is tf.GraphKeys
    assert v1.AUTO_REUSE is tf.AUTO_REUSE
    assert v1.errors is tf.errors


def test_every_public_top_level_name_is_in_compat_v1():
    v1 = tf.compat.v1
    for name in dir(tf):
        if not name.startswith("_"):
            assert getattr(v1, name) is getattr(tf, name), name
    assert "placeholder" in dir(v1)


def test_compat_v1_imports_as_a_module_and_builds_graphs():
    v1 = importlib.import_module("gpugraph.compat.v1")
    v1.disable_eager_execution()
    v1.disable_v2_behavior()
    assert v1.executing_eagerly() is False
    v1.reset_default_graph()
    x = v1.placeholder(v1.float32, shape=(None,), name="x")
    with v1.Session() as sess:
        assert list(sess.run(x * 2.0, {x: [1.0, 2.0]})) == [2.0, 4.0]


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        tf.compat.v1.definitely_not_an_api


def test_string_helpers():
    assert tf.compat.as_bytes("x") == b"x"
    assert tf.compat.as_text(b"x") == "x"
    assert tf.compat.as_str(b"y") == "y"
    with pytest.raises(TypeError):
        tf.compat.as_bytes(3)
