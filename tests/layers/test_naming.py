"""TF1's layer naming: unique default scopes, variable_scope nesting, reuse and sharing (layers_reference.json)."""

from __future__ import annotations

import pytest
from layer_reference import check_name_case

import gpugraph as tf


def test_dense_names_scopes_reuse_and_collections_match_tensorflow() -> None:
    check_name_case("dense")


def test_reuse_shares_the_same_variable_objects() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("model"):
        first = tf.layers.Dense(2, name="fc")
        first(x)
    with tf.variable_scope("model", reuse=True):
        second = tf.layers.Dense(2, name="fc")
        second(x)
    assert second.kernel is first.kernel and second.bias is first.bias
    assert first.scope_name == "model/fc"
    assert len(tf.trainable_variables()) == 2


def test_reuse_errors_are_tf1s() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.dense(x, 2, name="fc")
    with pytest.raises(ValueError, match="Variable fc/kernel already exists"):
        tf.layers.dense(x, 2, name="fc")
    with pytest.raises(ValueError, match="Variable missing/kernel does not exist"):
        tf.layers.dense(x, 2, name="missing", reuse=True)


def test_scope_name_needs_a_call() -> None:
    with pytest.raises(ValueError, match="has not been used yet"):
        _ = tf.layers.Dense(2).scope_name


def test_subclassed_layer_builds_once_with_its_own_variables() -> None:
    class Scale(tf.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=[input_shape.as_list()[-1]], initializer=tf.ones_initializer())
            self.counter = self.add_weight("counter", shape=[], trainable=False, initializer=tf.zeros_initializer())
            super().build(input_shape)

        def call(self, inputs):
            self.add_update(tf.assign_add(self.counter, 1.0))
            return inputs * self.w

        def compute_output_shape(self, input_shape):
            return input_shape

    layer = Scale()
    x = tf.placeholder(tf.float32, [None, 3])
    y1, y2 = layer(x), layer.apply(x)
    assert (y1.name, y2.name) == ("scale/mul:0", "scale/mul_1:0")
    assert [v.name for v in layer.trainable_variables] == ["scale/w:0"]
    assert [v.name for v in layer.non_trainable_variables] == ["scale/counter:0"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    assert layer.name == "scale_1"
    assert layer.count_params() == 4


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Keyword argument not understood: units_"):
        tf.layers.Dense(2, units_=3)
