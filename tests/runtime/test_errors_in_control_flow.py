"""A run-time error raised by an op inside a while body or cond branch names that op (name, type, input
shapes, the user's line that created it), with the enclosing While/If as context, as TF1's
``[[{{node while/MatMul}}]]`` does."""

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


def test_matmul_in_a_while_body_names_itself() -> None:
    x = tf.placeholder(tf.float32, name="x")
    w = tf.placeholder(tf.float32, name="w")

    def body(t, acc):
        return t + 1, acc + tf.reduce_sum(tf.matmul(x, w))  # creates the body's MatMul

    _, out = tf.while_loop(lambda t, acc: t < 3, body, [tf.constant(0), tf.constant(0.0)])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(out, {x: np.ones((2, 3)), w: np.ones((4, 5))})
    message = str(info.value)
    assert "while/MatMul (MatMul): cannot compute on its inputs In[0]: [2,3], In[1]: [4,5]" in message
    assert "[[{{node while/MatMul}}]]" in message
    assert "while/While" in message  # the enclosing loop, as context
    assert f'File "{__file__}", line {_line_of("# creates the body")}' in message
    assert info.value.op.name == "while/MatMul" and info.value.op.type == "MatMul"


def test_add_in_a_cond_branch_names_itself() -> None:
    a = tf.placeholder(tf.float32, name="a")
    b = tf.placeholder(tf.float32, name="b")
    p = tf.placeholder(tf.bool, name="p")
    out = tf.cond(p, lambda: tf.add(a, b, name="bad"), lambda: a)  # creates the branch's Add
    with tf.Session() as sess:
        assert sess.run(out, {p: False, a: np.ones(3), b: np.ones(2)}).shape == (3,)
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(out, {p: True, a: np.ones(3), b: np.ones(2)})
    message = str(info.value)
    op = info.value.op
    assert op.type == "AddV2" or op.type == "Add"
    assert op.name.endswith("bad") and f"{op.name} ({op.type})" in message
    assert "In[0]: [3], In[1]: [2]" in message
    assert f'File "{__file__}", line {_line_of("# creates the branch")}' in message
