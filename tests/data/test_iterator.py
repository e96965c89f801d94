"""Iterators: initialisation with fed placeholders, re-initialisation, from_structure, end of data."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


def test_get_next_has_the_element_static_shapes() -> None:
    images = tf.placeholder(tf.float32, [None, 28, 28])
    labels = tf.placeholder(tf.int64, [None])
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(32)
    it = tf.data.make_initializable_iterator(ds)
    x, y = it.get_next()
    assert x.shape.as_list() == [None, 28, 28] and x.dtype == tf.float32
    assert y.shape.as_list() == [None] and y.dtype == tf.int64
    assert (x.op.type, x.op.name) == ("IteratorGetNext", "IteratorGetNext")
    assert (it.initializer.type, it.initializer.name) == ("MakeIterator", "MakeIterator")
    dropped = tf.data.Dataset.from_tensor_slices(images).batch(32, drop_remainder=True)
    assert dropped.output_shapes.as_list() == [32, 28, 28]
    assert tf.compat.v1.data.get_output_classes(dropped) is tf.Tensor


def test_initializer_reads_fed_placeholders_and_reinitialises() -> None:
    data = tf.placeholder(tf.float32, [None, 2])
    it = tf.data.make_initializable_iterator(tf.data.Dataset.from_tensor_slices(data).batch(2))
    nxt = it.get_next()
    first, second = np.arange(6, dtype=np.float32).reshape(3, 2), -np.ones((1, 2), np.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(nxt)
        sess.run(it.initializer, feed_dict={data: first})
        np.testing.assert_array_equal(sess.run(nxt), first[:2])
        sess.run(it.initializer, feed_dict={data: second})  # starts over on the new value
        np.testing.assert_array_equal(sess.run(nxt), second)
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence") as info:
            sess.run(nxt)
        assert info.value.op is nxt.op
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)  # stays at the end


def test_one_shot_iterator_starts_per_session_and_refuses_placeholders() -> None:
    nxt = tf.data.Dataset.range(3).make_one_shot_iterator().get_next()
    assert nxt.op.inputs == () or all(t.op.type != "Placeholder" for t in nxt.op.inputs)
    for _ in range(2):
        with tf.Session() as sess:
            assert [sess.run(nxt) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="placeholder"):
        tf.data.make_one_shot_iterator(tf.data.Dataset.from_tensors(tf.placeholder(tf.float32)))
    with pytest.raises(ValueError, match="does not have an initializer"):
        tf.data.make_one_shot_iterator(tf.data.Dataset.range(1)).initializer


def test_from_structure_switches_between_datasets() -> None:
    train = tf.data.Dataset.range(10).batch(4)
    test = tf.data.Dataset.range(100, 103).batch(4)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, test_init = it.make_initializer(train), it.make_initializer(test)
    with tf.Session() as sess:
        sess.run(train_init)
        assert sess.run(nxt).tolist() == [0, 1, 2, 3]
        sess.run(test_init)
        assert sess.run(nxt).tolist() == [100, 101, 102]
        sess.run(train_init)
        assert sess.run(nxt).tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="Expected output types"):
        it.make_initializer(tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32)).batch(2))


def test_string_handle_selects_the_iterator() -> None:
    a = tf.data.make_one_shot_iterator(tf.data.Dataset.range(3))
    b = tf.data.make_one_shot_iterator(tf.data.Dataset.range(10, 13))
    handle = tf.placeholder(tf.string, [])
    nxt = tf.data.Iterator.from_string_handle(handle, a.output_types, a.output_shapes).get_next()
    with tf.Session() as sess:
        ha, hb = sess.run([a.string_handle(), b.string_handle()])
        assert [sess.run(nxt, {handle: h}) for h in (ha, hb, ha)] == [0, 10, 1]


def test_variable_captured_by_a_dataset_is_read_at_initialisation() -> None:
    v = tf.Variable(np.array([1.0, 2.0], np.float32))
    it = tf.data.make_initializable_iterator(tf.data.Dataset.from_tensors(v))
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(it.initializer)
        sess.run(v.assign([5.0, 6.0]))
        np.testing.assert_array_equal(sess.run(nxt), [1.0, 2.0])


def test_monitored_session_ends_quietly_at_end_of_data() -> None:
    nxt = tf.data.make_one_shot_iterator(tf.data.Dataset.range(5)).get_next()
    seen = []
    with tf.train.MonitoredSession() as sess:
        while not sess.should_stop():
            seen.append(int(sess.run(nxt)))
    assert seen == [0, 1, 2, 3, 4]


def test_training_loop_reads_batches_from_a_dataset() -> None:
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(64, 3)).astype(np.float32)
    true_w = np.array([[1.5], [-2.0], [0.5]], np.float32)
    ys = xs @ true_w
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(64, seed=1).batch(16).repeat(40)
    x, y = tf.data.make_one_shot_iterator(ds).get_next()
    w = tf.Variable(tf.zeros([3, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        steps = 0
        while True:
            try:
                sess.run(step)
            except tf.errors.OutOfRangeError:
                break
            steps += 1
        assert steps == 4 * 40
        np.testing.assert_allclose(sess.run(w), true_w, atol=1e-3)
