"""A small CNN training step (MNIST-sized), gpugraph beside TensorFlow's compat.v1 in one process.

    python bench/cnn.py [--write]                        # gpugraph alone
    PYTHONPATH=. /path/to/tf-env/bin/python bench/cnn.py  # and TensorFlow, for the ratio

The model is the deep-MNIST tutorial's at batch 64: conv 5x5x32 SAME + ReLU, max-pool 2, conv
5x5x64 + ReLU, max-pool 2, dense 1024 + ReLU, dense 10, softmax cross-entropy, SGD. Each step
is one `sess.run(train_op, feed_dict)` with a new batch; the figure is the median over 7 repeats
of the mean time per step, in milliseconds, in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import training_step  # bench/ is on sys.path when this file is run

BATCH = 64


def build(tf: Any) -> tuple[Any, Any, Any, Any]:
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")

        def weights(shape: list[int]) -> Any:
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        h = tf.nn.relu(tf.nn.conv2d(x, weights([5, 5, 1, 32]), [1, 1, 1, 1], "SAME") + weights([32]))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.nn.relu(tf.nn.conv2d(h, weights([5, 5, 32, 64]), [1, 1, 1, 1], "SAME") + weights([64]))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), weights([7 * 7 * 64, 1024])) + weights([1024]))
        logits = tf.matmul(h, weights([1024, 10])) + weights([10])
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)
    return sess, train_op, x, y


def batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.random((BATCH, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, BATCH).astype(np.int32)


if __name__ == "__main__":
    training_step.main("cnn.py", __doc__, "CNN training step, batch 64", build, batch)
