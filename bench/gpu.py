"""GPU benchmark: one training step of an MLP on the CuPy backend against the NumPy backend.

    python bench/gpu.py [--write] [--batch 512] [--hidden 2048] [--layers 3]

Both runs happen in this process, on the same graph and data, so the ratio is meaningful. The GPU step
is timed with its segments replayed as CUDA graphs (the default) and without (GPUGRAPH_CUDA_GRAPHS=0),
for the model asked for and for a small launch-bound one (784-256-256-10, batch 256). Without a usable
GPU it says why and exits 0. Figures go to bench/RESULTS.md with --write.
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

import gpugraph as tf
from gpugraph.runtime.backend import cupy_available


def build(batch: int, hidden: int, layers: int, classes: int = 10, features: int = 784) -> tuple[Any, ...]:
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, shape=(None, features), name="x")
        labels = tf.placeholder(tf.int64, shape=(None,), name="labels")
        h = x
        for i in range(layers):
            h = tf.nn.relu(tf.matmul(h, tf.get_variable(f"w{i}", (h.shape[1], hidden))) +
                           tf.get_variable(f"b{i}", (hidden,), initializer=tf.zeros_initializer()))
        logits = tf.matmul(h, tf.get_variable("w_out", (hidden, classes)))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(0)
    feed_x = rng.standard_normal((batch, features)).astype(np.float32)
    feed_y = rng.integers(0, classes, batch)
    return graph, x, labels, loss, train, init, feed_x, feed_y


def step_ms(device: str, spec: tuple[Any, ...], steps: int, cuda_graphs: bool = True) -> float:
    graph, x, labels, loss, train, init, feed_x, feed_y = spec
    os.environ["GPUGRAPH_DEVICE"] = device
    os.environ["GPUGRAPH_CUDA_GRAPHS"] = "1" if cuda_graphs else "0"
    try:
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            feed = {x: feed_x, labels: feed_y}
            for _ in range(5):
                sess.run([train, loss], feed)  # compile the plan, warm the kernels and the pool
            samples = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(steps):
                    sess.run([train, loss], feed)  # fetching the loss synchronizes the device
                samples.append((time.perf_counter() - start) / steps * 1e3)
        return statistics.median(samples)
    finally:
        os.environ.pop("GPUGRAPH_DEVICE", None)
        os.environ.pop("GPUGRAPH_CUDA_GRAPHS", None)


def chain_bandwidth(elements: int = 1 << 26, repeats: int = 20) -> tuple[float, float]:
    """(GB/s of the fused chain ``reduce_sum(relu(a*b + c)*0.5 - a)``'s kernel, GB/s of a device-to-device
    copy moving as many bytes): kernel times from CUDA events, no session overhead."""
    import cupy

    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.Variable(tf.random_uniform([elements], seed=i), name=n) for i, n in enumerate("abc"))
        total = tf.reduce_sum(tf.nn.relu(a * b + c) * 0.5 - a)
        init = tf.global_variables_initializer()
    os.environ["GPUGRAPH_DEVICE"] = "gpu"
    try:
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            for _ in range(4):
                sess.run(total)  # compile the plan and the kernel
            plan = list(sess._runs.values())[-1].plan
            (fused,) = [s for s in plan.steps if s.ops and s.fusion is not None]
            slots = plan.template.copy()
            for step in plan.steps[:plan.steps.index(fused)]:  # the variable reads before the kernel
                out = step.fn(*[slots[i] for i in step.inputs])
                for i, value in zip(step.outputs, out if len(step.outputs) > 1 else (out,)):
                    slots[i] = value
            inputs = [slots[i] for i in fused.inputs]
            kernel_ms = _event_ms(lambda: fused.fn(*inputs), repeats)
        moved = 3 * elements * 4  # the chain reads a, b and c once; its result is one number
        src = cupy.empty(moved // 2, dtype=np.uint8)
        dst = cupy.empty_like(src)
        copy_ms = _event_ms(lambda: cupy.copyto(dst, src), repeats)  # reads and writes half each
        return moved / kernel_ms / 1e6, moved / copy_ms / 1e6
    finally:
        os.environ.pop("GPUGRAPH_DEVICE", None)


def _event_ms(fn: Any, repeats: int) -> float:
    import cupy

    fn()
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    end.synchronize()
    return cupy.cuda.get_elapsed_time(start, end) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    ok, why = cupy_available()
    if not ok:
        print(f"no GPU benchmark: {why}")
        return 0
    import cupy

    spec = build(args.batch, args.hidden, args.layers)
    gpu = step_ms("gpu", spec, args.steps)
    eager = step_ms("gpu", spec, args.steps, cuda_graphs=False)
    cpu = step_ms("cpu", spec, max(2, args.steps // 10))
    small = build(256, 256, 2)
    small_gpu = step_ms("gpu", small, args.steps * 5)
    small_eager = step_ms("gpu", small, args.steps * 5, cuda_graphs=False)
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    what = f"MLP {args.layers}x{args.hidden}, batch {args.batch}, Adam step + loss fetch"
    table = ("| benchmark | ms per step |\n|---|---|\n"
             f"| {what}, CuPy on {name} | {gpu:.2f} |\n| same, CUDA graphs off | {eager:.2f} |\n"
             f"| same, NumPy on the host | {cpu:.2f} |\n| ratio NumPy / CuPy | {cpu / gpu:.1f}x |\n"
             f"| MLP 784-256-256-10, batch 256, Adam step + loss fetch, CuPy | {small_gpu:.3f} |\n"
             f"| same, CUDA graphs off | {small_eager:.3f} |")
    try:
        chain, copy = chain_bandwidth()
    except Exception as e:  # the step figures above still stand
        chain, copy = float("nan"), float("nan")
        print(f"fused chain bandwidth not measured: {type(e).__name__}: {e}")
    table += (f"\n\n| fused chain `reduce_sum(relu(a*b + c)*0.5 - a)`, 64M float32 | GB/s |\n|---|---|\n"
              f"| the fused kernel | {chain:.0f} |\n| a device-to-device copy of as many bytes | {copy:.0f} |\n"
              f"| ratio | {chain / copy:.2f} |")
    machine = f"{name}, CuPy {cupy.__version__}, {platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {machine}\n\n{table}")
    if args.write:
        with Path(__file__).with_name("RESULTS.md").open("a") as f:
            f.write(f"\n## {time.strftime('%Y-%m-%d')}: `python bench/gpu.py` on {machine}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
