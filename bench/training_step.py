"""Shared by the training-step benchmarks (bench/cnn.py, bench/lstm.py): time one model's training
step under gpugraph and, where TensorFlow is importable, under its compat.v1 in the same process."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

import gpugraph
from run import tensorflow_v1  # bench/ is on sys.path when a benchmark file is run

# build(tf) -> (session, train_op, x, y); batch(rng) -> (x value, y value)
Build = Callable[[Any], tuple[Any, Any, Any, Any]]
Batch = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


def step_ms(tf: Any, build: Build, batch: Batch, steps: int = 10, repeats: int = 7) -> float:
    """Median over ``repeats`` of the mean time of one ``sess.run(train_op, feed)``, in milliseconds."""
    sess, train_op, x, y = build(tf)
    rng = np.random.default_rng(0)
    batches = [batch(rng) for _ in range(4)]
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


def main(script: str, doc: str, label: str, build: Build, batch: Batch) -> None:
    """Time the step under gpugraph (and TensorFlow), print a table; ``--write`` appends it to RESULTS.md."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    ours = step_ms(gpugraph, build, batch)
    rows = [(f"gpugraph: {label}", f"{ours:.1f}")]
    reference = tensorflow_v1()
    if reference is not None:
        theirs = step_ms(reference, build, batch)
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
            f.write(f"\n## {time.strftime('%Y-%m-%d')}: `bench/{script}` on {machine}\n\n{table}\n")
