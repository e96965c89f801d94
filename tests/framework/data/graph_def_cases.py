"""One TF1 program of standard ops, built the same way by TensorFlow and by gpugraph (``build(tf)``)."""

from __future__ import annotations

from typing import Any

import numpy as np

FEED = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], np.float32)
# Tensors compared between TensorFlow and gpugraph, after running "init" then "double_w".
FETCHES = ["logits:0", "probs:0", "hidden:0", "total:0", "mean:0", "flat:0", "xt:0", "both:0", "col:0",
           "first:0", "parts:2", "stacked:0", "sq:0", "am:0", "padded:0", "filled:0", "casted:0", "w/read:0"]
# Nodes whose NodeDef layout (op type, attr keys, type attrs) is compared.
LAYOUT_NODES = ["x", "w", "w/Assign", "w/read", "b", "MatMul", "logits", "probs", "add", "add/y", "hidden",
                "total/reduction_indices", "total", "mean", "flat/shape", "flat", "xt/perm", "xt", "both/axis", "both",
                "strided_slice", "strided_slice/stack", "col", "first/begin", "first", "parts/split_dim", "parts",
                "stacked", "ex/dim", "ex", "sq", "am/dimension", "am", "padded/paddings", "padded", "filled/dims",
                "filled", "casted", "double_w", "init"]


def build(tf: Any) -> None:
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, name="w")
    b = tf.Variable(np.array([0.5, -0.5], np.float32), name="b")
    logits = tf.nn.bias_add(tf.matmul(x, w), b, name="logits")
    tf.nn.softmax(logits, name="probs")
    hidden = tf.nn.relu(logits + 1.0, name="hidden")
    total = tf.reduce_sum(hidden, axis=1, keepdims=True, name="total")
    tf.reduce_mean(tf.nn.softmax(logits), axis=0, name="mean")
    tf.reshape(x, [-1], name="flat")
    tf.transpose(x, name="xt")
    tf.concat([x, x], axis=1, name="both")
    tf.identity(x[:, 1], name="col")
    tf.slice(x, [0, 0], [1, 2], name="first")
    parts = tf.split(x, 3, axis=1, name="parts")
    tf.stack(parts, axis=0, name="stacked")
    tf.squeeze(tf.expand_dims(x, 0, name="ex"), [0], name="sq")
    tf.argmax(logits, 1, name="am")
    tf.pad(x, [[1, 0], [0, 2]], name="padded")
    tf.fill([2, 2], 7.0, name="filled")
    tf.cast(total, tf.int32, name="casted")
    tf.assign(w, w * 2.0, name="double_w")
    tf.group(w.initializer, b.initializer, name="init")
