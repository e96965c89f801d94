"""Session.run with the fetch lists and feeds a training loop passes each step: the structure of the
result, one cached plan per structure, and the feed shape check with TF1's message."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _graph():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    a = tf.reduce_sum(x, name="a")
    b = tf.multiply(x, 2.0, name="b")
    return x, a, b, tf.no_op(name="noop")


def test_flat_lists_and_tuples_of_elements() -> None:
    x, a, b, noop = _graph()
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as sess:
        first = sess.run([noop, a, b], {x: value})
        second = sess.run([noop, a, b], {x: value + 1})
        assert type(first) is list and len(first) == 3 and first[0] is None
        assert first[1] == value.sum() and second[1] == (value + 1).sum()
        np.testing.assert_array_equal(first[2], value * 2)
        assert first is not second  # each run hands back a list of its own
        pair = sess.run((a, b), {x: value})
        assert type(pair) is tuple and pair[0] == value.sum()
        assert sess.run([a], {x: value}) == [value.sum()]
        assert sess.run([], {x: value}) == []


def test_repeated_reordered_and_nested_elements() -> None:
    x, a, b, noop = _graph()
    value = np.ones((1, 3), np.float32)
    Pair = collections.namedtuple("Pair", ["first", "second"])
    with tf.Session() as sess:
        assert sess.run([a, a], {x: value}) == [3.0, 3.0]
        out = sess.run([b, a], {x: value})
        assert out[1] == 3.0 and out[0].shape == (1, 3)
        nested = sess.run([[a, b], a, (noop,)], {x: value})
        assert nested[0][0] == 3.0 and nested[1] == 3.0 and nested[2] == (None,)
        named = sess.run(Pair(a, b), {x: value})
        assert isinstance(named, Pair) and named.first == 3.0
        by_name = sess.run(["a:0", a], {x: value})
        assert by_name == [3.0, 3.0]
        # a flat list inside a structure holds its own values only, whatever comes after it
        inner = sess.run({"first": [a, b], "second": [noop, b, a]}, {x: value})
        assert len(inner["first"]) == 2 and inner["first"][0] == 3.0 and inner["first"][1].shape == (1, 3)
        assert len(inner["second"]) == 3 and inner["second"][0] is None and inner["second"][2] == 3.0
        first_of_two = sess.run([[a, b], [a]], {x: value})
        assert [len(part) for part in first_of_two] == [2, 1]
        assert isinstance(sess.run(Pair([a], b), {x: value}).first, list)


def test_one_plan_per_fetch_structure() -> None:
    x, a, b, _ = _graph()
    value = np.ones((2, 3), np.float32)
    with tf.Session() as sess:
        for _ in range(3):
            sess.run([a, b], {x: value})
        assert sess.plan_builds == 1
        sess.run((a, b), {x: value})  # a tuple is another structure
        sess.run([[a, b]], {x: value})
        assert sess.plan_builds == 3
        for _ in range(2):
            sess.run((a, b), {x: value})
            sess.run([[a, b]], {x: value})
        assert sess.plan_builds == 3


def test_feed_shape_is_checked_with_tf1_message() -> None:
    x, a, _, _ = _graph()
    with tf.Session() as sess:
        assert sess.run(a, {x: np.ones((4, 3), np.float32)}) == 12.0
        for bad in (np.ones((2, 4), np.float32), np.ones(3, np.float32), np.ones((1, 1, 3), np.float32)):
            with pytest.raises(ValueError) as info:
                sess.run(a, {x: bad})
            assert str(info.value) == f"Cannot feed value of shape {bad.shape} for Tensor 'x:0', which has shape " \
                                      f"'{x.shape}'"


def test_scalar_feeds_take_the_placeholder_dtype() -> None:
    x = tf.placeholder(tf.float32, name="s")
    n = tf.placeholder(tf.int32, [], name="n")
    doubled = x * 2.0
    with tf.Session() as sess:
        for fed in (0.1, np.float64(0.1), np.float32(0.1)):
            got = sess.run(doubled, {x: fed})
            assert isinstance(got, np.float32) and got == np.float32(0.1) * np.float32(2.0)
        assert sess.run(n + 1, {n: 4}) == 5
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(2,\) for Tensor 'n:0'"):
            sess.run(n + 1, {n: [1, 2]})
