"""Benchmarks of per-call overhead: rerun with `python bench/run.py [--write]`.

1. `Session.run` on a tiny 10-node graph (one feed, one fetch), against the same arithmetic as
   straight NumPy calls, measured in the same process so the ratio is meaningful.
2. The seed's per-sample polynomial training loop (examples/seed000_polynomial_regression.py):
   one `sess.run([train_op, loss], feed_dict={X: x, y_true: y})` per sample.

Where TensorFlow is importable, the same two programs also run on `tensorflow.compat.v1` in the
same process, for a ratio measured under the same conditions (TensorFlow is never a dependency:
`PYTHONPATH=. python bench/run.py` from an environment that has it).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

import gpugraph


def per_call_us(fn: Callable[[], object], calls: int, repeats: int = 7) -> float:
    """Median over ``repeats`` of the mean time per call, in microseconds."""
    for _ in range(min(calls, 200)):
        fn()  # warm up: compile the plan, fill caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def tiny_graph(tf: Any) -> tuple[float, float, int]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=(4,), name="x")
        y = x * 2.0 + 1.0          # Const, mul, Const, add
        z = tf.square(y) - x       # Square, sub
        out = tf.reduce_sum(tf.exp(-z))  # Neg, Exp, Sum
        n_nodes = len(graph.get_operations())
    feed = np.arange(4, dtype=np.float32)
    sess = tf.Session(graph=graph)
    graph_us = per_call_us(lambda: sess.run(out, feed_dict={x: feed}), 20000)

    def numpy_version() -> object:
        yv = feed * np.float32(2.0) + np.float32(1.0)
        zv = yv * yv - feed
        return np.sum(np.exp(-zv))
    numpy_us = per_call_us(numpy_version, 20000)
    sess.close()
    return graph_us, numpy_us, n_nodes


def polynomial_loop(tf: Any) -> float:
    graph = tf.Graph()
    with graph.as_default():
        num_coeffs = 6
        w = tf.Variable([0.] * num_coeffs, name="parameters")
        X = tf.placeholder(tf.float32, name="input_X")
        y_model = tf.add_n([tf.multiply(w[i], tf.pow(X, i)) for i in range(num_coeffs)])
        y_true = tf.placeholder(tf.float32, name="true_Y")
        loss = tf.reduce_mean(tf.square(y_model - y_true))
        train_op = tf.train.GradientDescentOptimizer(learning_rate=0.01).minimize(loss)
        init = tf.global_variables_initializer()
    xs = np.linspace(-1, 1, 101)
    ys = 1 + 2 * xs - 3 * xs ** 2
    sess = tf.Session(graph=graph)
    sess.run(init)
    i = [0]

    def step() -> object:
        k = i[0] = (i[0] + 1) % len(xs)
        return sess.run([train_op, loss], feed_dict={X: xs[k], y_true: ys[k]})
    us = per_call_us(step, 5000)
    sess.close()
    return us


def tensorflow_v1() -> Any:
    """``tensorflow.compat.v1`` in graph mode, or None where TensorFlow is not installed."""
    try:
        import tensorflow
    except ImportError:
        return None
    tf1 = tensorflow.compat.v1
    tf1.disable_eager_execution()
    return tf1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    graph_us, numpy_us, n_nodes = tiny_graph(gpugraph)
    poly_us = polynomial_loop(gpugraph)
    rows = [
        (f"Session.run, tiny graph ({n_nodes} nodes, 1 feed, 1 fetch)", f"{graph_us:.1f}"),
        ("same arithmetic as direct NumPy calls", f"{numpy_us:.1f}"),
        ("ratio Session.run / NumPy", f"{graph_us / numpy_us:.2f}x"),
        ("polynomial per-sample training step (seed 000)", f"{poly_us:.1f}"),
    ]
    reference = tensorflow_v1()
    if reference is not None:
        tf_graph_us, _, _ = tiny_graph(reference)
        tf_poly_us = polynomial_loop(reference)
        rows += [
            (f"TensorFlow {reference.VERSION} compat.v1: tiny graph", f"{tf_graph_us:.1f}"),
            (f"TensorFlow {reference.VERSION} compat.v1: polynomial step", f"{tf_poly_us:.1f}"),
            ("ratio TensorFlow / gpugraph, tiny graph", f"{tf_graph_us / graph_us:.2f}x"),
            ("ratio TensorFlow / gpugraph, polynomial step", f"{tf_poly_us / poly_us:.2f}x"),
        ]
    machine = f"{platform.processor() or platform.machine()}, {platform.python_implementation()} " \
              f"{platform.python_version()}, NumPy {np.__version__}"
    table = "| benchmark | µs per call |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    print(f"machine: {machine}\n\n{table}")
    if args.write:
        results = Path(__file__).with_name("RESULTS.md")
        stamp = time.strftime("%Y-%m-%d")
        with results.open("a") as f:
            f.write(f"\n## {stamp}: `python bench/run.py` on {machine}\n\n{table}\n")


if __name__ == "__main__":
    main()
