"""Baseline for operator fusion: gpugraph beside TensorFlow's compat.v1 in one process.

    python bench/fusion.py                                # gpugraph alone
    PYTHONPATH=. /path/to/tf-env/bin/python bench/fusion.py  # and TensorFlow, for the ratios
    ... bench/fusion.py --threads                          # MLP step by intra_op_parallelism_threads

1. A bandwidth-bound elementwise chain, ``reduce_sum(relu(a * b + c) * 0.5 - a)`` over 8M float32
   variables (one fetch of a scalar): unfused, each op reads and writes 32 MB.
2. An MLP 784-256-256-10 training step with Adam, batch 256 (one ``sess.run(train_op, feed)``).
3. The seeds' loops: the per-sample polynomial SGD step (bench/run.py's) and the mini-batch linear
   regression step (examples/seed002_placeholders.py: 100 x 9 batches, gradient descent).
4. On a simulated GPU (gpugraph.testing.simulated_gpus), the kernels one MLP+Adam step launches,
   counted from a FULL_TRACE run's step_stats, as on a real GPU.

``--threads`` times the MLP step under ``intra_op_parallelism_threads`` 1, 2 and 0 (the default),
with the machine as it is and again beside a process that keeps one core busy.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import subprocess
import sys
from typing import Any

import numpy as np

import gpugraph
from run import per_call_us, polynomial_loop, tensorflow_v1  # bench/ is on sys.path when run
from training_step import step_ms

CHAIN_SIZE = 8 * 1024 * 1024
MLP_BATCH = 256


def elementwise_chain_ms(tf: Any) -> float:
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.Variable(tf.random_uniform([CHAIN_SIZE], -1.0, 1.0, seed=i), name=n)
                   for i, n in enumerate("abc"))
        out = tf.reduce_sum(tf.nn.relu(a * b + c) * 0.5 - a)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)
    ms = per_call_us(lambda: sess.run(out), 10, repeats=5) / 1e3
    sess.close()
    return ms


def build_mlp(tf: Any, config: Any = None) -> tuple[Any, Any, Any, Any]:
    """MLP 784-256-256-10, ReLU, softmax cross-entropy, Adam: (session, train_op, x, y)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        h = x
        for i, (n_in, n_out) in enumerate([(784, 256), (256, 256), (256, 10)]):
            w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.05), name=f"w{i}")
            h = tf.matmul(h, w) + tf.Variable(tf.zeros([n_out]), name=f"b{i}")
            h = tf.nn.relu(h) if i < 2 else h
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph, config=config)
    sess.run(init)
    return sess, train_op, x, y


def mlp_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.random((MLP_BATCH, 784), dtype=np.float32), rng.integers(0, 10, MLP_BATCH).astype(np.int32)


def mlp_step_ms(tf: Any, config: Any = None) -> float:
    return step_ms(tf, functools.partial(build_mlp, config=config), mlp_batch)


def linear_regression_us(tf: Any) -> float:
    """One mini-batch gradient-descent step of the seed's linear regression (batch 100, 8 features + bias)."""
    graph = tf.Graph()
    with graph.as_default():
        X = tf.placeholder(tf.float32, shape=(None, 9), name="X")
        y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
        theta = tf.Variable(tf.random_uniform([9, 1], -1.0, 1.0, seed=42), name="theta")
        mse = tf.reduce_mean(tf.square(tf.matmul(X, theta) - y), name="mse")
        training_op = tf.train.GradientDescentOptimizer(learning_rate=0.01).minimize(mse)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(100, 9)).astype(np.float32), rng.normal(size=(100, 1)).astype(np.float32))
               for _ in range(16)]
    sess = tf.Session(graph=graph)
    sess.run(init)
    i = [0]

    def step() -> object:
        xs, ys = batches[i[0] % len(batches)]
        i[0] += 1
        return sess.run(training_op, feed_dict={X: xs, y: ys})
    us = per_call_us(step, 2000)
    sess.close()
    return us


def kernels_per_mlp_step() -> tuple[int, int, int]:
    """One traced MLP+Adam step on a simulated GPU: (its entries on the GPU in step_stats, those that launch
    a kernel: not only variable reads and views, copies between devices)."""
    from gpugraph.testing import simulated_gpus

    with simulated_gpus(1, memory=1 << 30):
        sess, train_op, x, y = build_mlp(gpugraph)
        xs, ys = mlp_batch(np.random.default_rng(0))
        sess.run(train_op, {x: xs, y: ys})  # compile and place first: the traced run is a steady-state step
        meta = gpugraph.RunMetadata()
        sess.run(train_op, {x: xs, y: ys}, options=gpugraph.RunOptions(trace_level=gpugraph.RunOptions.FULL_TRACE),
                 run_metadata=meta)
        steps = list(sess._runs.values())[-1].plan.steps
        sess.close()
    entries = sum(len(d.node_stats) for d in meta.step_stats.dev_stats if d.device.endswith("GPU:0"))
    kernels = sum(1 for s in steps if s.kind == "op" and any(map(_launches_kernel, s.ops or (s.op,))))
    copies = sum(1 for s in steps if s.kind == "copy")
    return entries, kernels, copies


def _launches_kernel(op: Any) -> bool:
    """Not a read of a variable, nor a view (a SumToShape that reduces is a kernel)."""
    if op.opdef.role == "variable":
        return False
    if op.type == "SumToShape":
        return op.inputs[0].shape.as_list() != op.outputs[0].shape.as_list()
    return not op.opdef.aliases


def machine() -> str:
    blas = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores{load}, CPython "
            f"{platform.python_version()}, NumPy {np.__version__}, " + ", ".join(f"{k}={v}" for k, v in blas.items()))


def table(header: str, rows: list[tuple[str, ...]]) -> str:
    cols = header.count("|") - 1
    return "\n".join([header, "|" + "---|" * cols] + ["| " + " | ".join(r) + " |" for r in rows])


def side_by_side() -> None:
    reference = tensorflow_v1()
    benchmarks = [("elementwise chain, 8M float32", "ms", elementwise_chain_ms),
                  ("MLP 784-256-256-10 + Adam step, batch 256", "ms", mlp_step_ms),
                  ("polynomial per-sample SGD step (seed 000)", "µs", polynomial_loop),
                  ("linear regression mini-batch step (seed 002)", "µs", linear_regression_us)]
    rows = []
    for label, unit, measure in benchmarks:
        ours = measure(gpugraph)
        theirs = measure(reference) if reference is not None else None
        rows.append((f"{label}, {unit}", f"{ours:.2f}", f"{theirs:.2f}" if theirs else "-",
                     f"{ours / theirs:.2f}x" if theirs else "-"))
    tf_name = f"TF {reference.VERSION} compat.v1" if reference is not None else "TF (not installed)"
    print(table(f"| benchmark | gpugraph | {tf_name} | gpugraph / TF |", rows))
    entries, kernels, copies = kernels_per_mlp_step()
    print(f"\nsimulated GPU, one MLP+Adam step: {entries} step_stats entries on the GPU (FULL_TRACE), "
          f"{kernels} of them kernels (the rest read variables or take views), and {copies} copies")


def threads() -> None:
    def configured(n: int) -> Any:
        return gpugraph.ConfigProto(intra_op_parallelism_threads=n)
    rows = []
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            figures = [mlp_step_ms(gpugraph, configured(n)) for n in (1, 2, 0)]
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
        rows.append(("one core kept busy" if busy else "as it is", *(f"{f:.2f}" for f in figures)))
    print(table("| machine | 1 thread, ms | 2 threads, ms | default (0), ms |", rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", action="store_true", help="MLP step by intra_op_parallelism_threads")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    threads() if args.threads else side_by_side()


if __name__ == "__main__":
    main()
