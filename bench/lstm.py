"""An LSTM training step (MNIST rows as time steps), gpugraph beside TensorFlow's compat.v1 in one process.

    python bench/lstm.py [--write]                        # gpugraph alone
    PYTHONPATH=. /path/to/tf-env/bin/python bench/lstm.py  # and TensorFlow, for the ratio

The model: batch 64, 28 time steps of 28 inputs, a BasicLSTMCell of 128 units run by
tf.nn.dynamic_rnn, the last output through a dense layer to 10 classes, softmax cross-entropy,
Adam. Each step is one `sess.run(train_op, feed_dict)` with a new batch; the figure is the median
over 7 repeats of the mean time per step, in milliseconds, in float32.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import training_step  # bench/ is on sys.path when this file is run

# TensorFlow's tf.nn.rnn_cell and tf.layers are the legacy Keras ones (tf_keras), chosen before its import.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

BATCH, STEPS, INPUTS, UNITS, CLASSES = 64, 28, 28, 128, 10


def build(tf: Any) -> tuple[Any, Any, Any, Any]:
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, STEPS, INPUTS], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        cell = tf.nn.rnn_cell.BasicLSTMCell(UNITS)
        outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        logits = tf.layers.dense(outputs[:, -1], CLASSES)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)
    return sess, train_op, x, y


def batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return (rng.random((BATCH, STEPS, INPUTS), dtype=np.float32),
            rng.integers(0, CLASSES, BATCH).astype(np.int32))


if __name__ == "__main__":
    training_step.main("lstm.py", __doc__, "LSTM training step, batch 64, 28 steps, 128 units", build, batch)
