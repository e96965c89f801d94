"""Compiled host loops on one thread and on the session's intra-op threads, side by side.

    python bench/loop_threads.py

A fused ``relu(x + b)`` (a bias read at the column) over N float32 elements, N from 2^16 to 2^23, timed
on one thread and on every usable core (gpugraph.fusion.parallel), each alone and each right after a
two-thread BLAS product (whose threads OpenBLAS leaves spinning for a while), then the MLP 784-256-256-10
+ Adam step of bench/fusion.py with its grouped Adam (270k values) on one thread and on the pool. The
runs alternate, so a change in the machine's load falls on both; medians printed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpugraph as tf  # noqa: E402
from fusion import build_mlp, machine, mlp_batch, table  # noqa: E402
from gpugraph.fusion import compiled, parallel  # noqa: E402
from gpugraph.fusion.region import region_from_ops  # noqa: E402
from gpugraph.ops.host_blas import default_threads  # noqa: E402

SIZES = [1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 23]


def bias_relu_loop() -> compiled.CompiledRegion:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 256])
        b = tf.placeholder(tf.float32, [256])
        y = tf.nn.relu(x + b)
    return compiled.CompiledRegion(region_from_ops([y.op.inputs[0].op, y.op], [x, b], [y]))


def alternating(runs: dict[str, Callable[[], float]], rounds: int = 15) -> dict[str, float]:
    """Median of each run's answer (microseconds per loop), the runs taking turns."""
    samples: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            samples[name].append(run())
    return {k: statistics.median(v) for k, v in samples.items()}


def threads_set(on: bool) -> None:
    parallel.PARALLEL_ELEMENTS = (1 << 17) if on else (1 << 62)  # "on": every loop here, the Adam too


def loops() -> list[tuple[str, ...]]:
    loop = bias_relu_loop()
    rng = np.random.default_rng(0)
    a, w = rng.random((256, 784), dtype=np.float32), rng.random((784, 256), dtype=np.float32)
    rows = []
    for n in SIZES:
        x, b = rng.standard_normal((n // 256, 256)).astype(np.float32), rng.standard_normal(256).astype(np.float32)
        out = np.empty_like(x)

        def call(on: bool, after_product: bool, reps: int = 20) -> Callable[[], float]:
            def run() -> float:
                threads_set(on)
                spent = 0.0
                for _ in range(reps):
                    if after_product:
                        a @ w
                    start = time.perf_counter()
                    loop.into((out,), x, b)
                    spent += time.perf_counter() - start
                return spent / reps * 1e6
            return run

        t = alternating({"1": call(False, False), "n": call(True, False),
                         "1p": call(False, True), "np": call(True, True)})
        rows.append((f"{n:,}", *(f"{t[k]:.1f}" for k in ("1", "n", "1p", "np"))))
    threads_set(True)
    return rows


def mlp() -> tuple[str, ...]:
    sess, train_op, x, y = build_mlp(tf)
    xs, ys = mlp_batch(np.random.default_rng(0))
    for _ in range(20):
        sess.run(train_op, {x: xs, y: ys})

    def steps(on: bool) -> Callable[[], float]:
        def run() -> float:
            threads_set(on)
            start = time.perf_counter()
            for _ in range(20):
                sess.run(train_op, {x: xs, y: ys})
            return (time.perf_counter() - start) / 20 * 1e6
        return run

    t = alternating({"1": steps(False), "n": steps(True)})
    threads_set(True)
    return ("MLP + Adam step (ms)", f"{t['1'] / 1e3:.3f}", f"{t['n'] / 1e3:.3f}")


def main() -> None:
    default = parallel.PARALLEL_ELEMENTS
    print(f"machine: {machine()}; pool threads: {default_threads()}")
    print(table("| elements | 1 thread (us) | pool (us) | after a product: 1 thread | pool |", loops()))
    print(table("| | 1 thread | pool |", [mlp()]))
    print(f"(gpugraph splits loops of {default:,} elements and more)")


if __name__ == "__main__":
    main()
