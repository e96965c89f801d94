"""An LSTM training step (MNIST rows as time steps), gpugraph beside TensorFlow's compat.v1 in one process.

    python bench/lstm.py [--write]                        # gpugraph alone
    PYTHONPATH=. /path/to/tf-env/bin/python bench/lstm.py  # and TensorFlow, for the ratio

The model: batch 64, 28 time steps of 28 inputs, a BasicLSTMCell of 128 units run by
tf.nn.dynamic_rnn, the last output through a dense layer to 10 classes, softmax cross-entropy,
Adam. Each step is one `sess.run(train_op, feed_dict)` with a new batch; the figure is the median
over 7 repeats of the mean time per step, in milliseconds, in float32.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import gpugraph
from run import tensorflow_v1  # bench/ is on sys.path when this file is run

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


def step_ms(tf: Any, steps: int = 10, repeats: int = 7) -> float:
    sess, train_op, x, y = build(tf)
    rng = np.random.default_rng(0)
    batches = [(rng.random((BATCH, STEPS, INPUTS), dtype=np.float32),
                rng.integers(0, CLASSES, BATCH).astype(np.int32)) for _ in range(4)]
    for xs, ys in batches:  # warm up: compile the plan, fill caches
        sess.run(train_op, {x: xs, y: ys})
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(steps):
            xs, ys = batches[i % len(batches)]
            sess.run(train_op, {x: xs, y: ys})
        samples.append((time.perf_counter() - start) / steps * 1e3)
    sess.close()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    ours = step_ms(gpugraph)
    rows = [("gpugraph: LSTM training step, batch 64, 28 steps, 128 units", f"{ours:.1f}")]
    reference = tensorflow_v1()
    if reference is not None:
        theirs = step_ms(reference)
        rows += [(f"TensorFlow {reference.VERSION} compat.v1: same step", f"{theirs:.1f}"),
                 ("ratio gpugraph / TensorFlow", f"{ours / theirs:.2f}x")]
    blas = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPython "
               f"{platform.python_version()}, NumPy {np.__version__}, "
               + ", ".join(f"{k}={v}" for k, v in blas.items()))
    table = "| benchmark | ms per step |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    print(f"machine: {machine}\n\n{table}")
    if args.write:
        with Path(__file__).with_name("RESULTS.md").open("a") as f:
            f.write(f"\n## {time.strftime('%Y-%m-%d')}: `bench/lstm.py` on {machine}\n\n{table}\n")


if __name__ == "__main__":
    main()
