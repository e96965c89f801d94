"""Run-time errors name the node, its type, its input shapes and the user's line that created it."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _line_of(marker: str) -> int:
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if marker in line and "_line_of" not in line)


def test_matmul_shape_mismatch_reads_as_tf1():
    a = tf.placeholder(tf.float32, name="a")
    b = tf.placeholder(tf.float32, name="b")
    prod = tf.matmul(a, b, name="prod")  # creates prod
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(prod, {a: np.ones((2, 3)), b: np.ones((4, 5))})
    message = str(info.value)
    assert "prod (MatMul): cannot compute on its inputs" in message
    assert "In[0]: [2,3], In[1]: [4,5]" in message
    assert f'File "{__file__}", line {_line_of("# creates prod")}' in message
    assert "gufunc" not in message  # NumPy's text is the cause, not the message
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.op.name == "prod"


@pytest.mark.parametrize("build, feed, shapes, marker", [
    (lambda x, y: tf.add(x, y, name="bad"),  # family: Add
     ([1.0, 2.0, 3.0], [1.0, 2.0]), "In[0]: [3], In[1]: [2]", "# family: Add"),
    (lambda x, y: tf.concat([x, y], 0, name="bad"),  # family: ConcatV2
     ([[1.0]], [1.0, 2.0]), "In[0]: [1,1], In[1]: [2]", "# family: ConcatV2"),
    (lambda x, y: tf.gather(x, y, name="bad"),  # family: Gather
     ([1.0, 2.0], [0.0, 5.0]), "In[0]: [2], In[1]: [2]", "# family: Gather"),
], ids=["Add", "ConcatV2", "Gather"])
def test_every_op_family_names_itself_and_where(build, feed, shapes, marker):
    x = tf.placeholder(tf.float32, name="x")
    y = tf.placeholder(tf.int32 if marker.endswith("Gather") else tf.float32, name="y")
    out = build(x, y)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.OpError) as info:
            sess.run(out, {x: feed[0], y: np.asarray(feed[1], y.dtype.as_numpy_dtype)})
    message = str(info.value)
    assert f"bad ({out.op.type})" in message
    assert shapes in message
    assert f'File "{__file__}", line {_line_of(marker)}' in message


def test_errors_raised_as_tf_errors_keep_their_class_and_gain_the_place():
    v = tf.Variable(tf.zeros([2]), name="counter")  # creates counter
    bump = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(bump)
    message = str(info.value)
    assert "uninitialized value counter" in message
    assert f'File "{__file__}", line {_line_of("# creates counter")}' in message


def test_the_creating_frame_is_recorded_once_at_build_time():
    x = tf.constant(1.0) * 2.0  # creates mul
    filename, line, function = x.op._defined_at
    assert (filename, line) == (__file__, _line_of("# creates mul"))
    assert function == "test_the_creating_frame_is_recorded_once_at_build_time"
