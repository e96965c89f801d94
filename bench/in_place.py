"""What writing fused steps over their dying inputs saves: device memory and buffers per training step.

    python bench/in_place.py

An MLP 784-1024-1024-10 with ReLU and Adam, batch 2048 (activations larger than weights), its layers
written as tf.layers.dense writes them (BiasAdd) and as the tutorials do (``tf.matmul(h, w) + b``, whose
gradient reads the product's shape), trained on a simulated GPU (NumPy arrays counted by the device's own
pool, as CuPy's would be) and on the CPU: with fused steps writing in place (the default), without
(GPUGRAPH_IN_PLACE=0), and without the shape stand-ins pass too (a value read only for its shape kept to
its shape-only reader). Printed: the device's peak bytes above what a step starts with (variables, Adam's
slots, the feeds), pool blocks per steady step, and the CPU step time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpugraph as tf  # noqa: E402
from fusion import machine, table  # noqa: E402
from gpugraph.compiler import pipeline  # noqa: E402
from gpugraph.compiler.memory_plan import ENV_IN_PLACE  # noqa: E402
from gpugraph.compiler.shape_reads import stand_in_shapes  # noqa: E402
from gpugraph.runtime.simulated_memory import DeviceNumpy  # noqa: E402
from gpugraph.testing import simulated_gpus  # noqa: E402

BATCH, WIDTH, STEPS = 2048, 1024, 5
MiB = 1 << 20


def dense(h, width: int, style: str, relu: bool = True):
    """A layer as tf.layers writes it (BiasAdd), or as the tutorials do (``tf.matmul(h, w) + b``)."""
    if style == "layers":
        return tf.layers.dense(h, width, activation=tf.nn.relu if relu else None)
    w = tf.Variable(tf.truncated_normal([int(h.shape[-1]), width], stddev=0.05))
    z = tf.matmul(h, w) + tf.Variable(tf.zeros([width]))
    return tf.nn.relu(z) if relu else z


def model(style: str):
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    h = dense(dense(x, WIDTH, style), WIDTH, style)
    logits = dense(h, 10, style, relu=False)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    rng = np.random.default_rng(0)
    feed = {x: rng.random((BATCH, 784), dtype=np.float32), y: rng.integers(0, 10, BATCH)}
    return train, feed


def on_simulated_gpu(style: str) -> tuple[float, float]:
    """(peak MiB above the step's start, pool blocks per steady step)."""
    train, feed = model(style)
    with simulated_gpus(1, memory=4 << 30) as (gpu,):
        gpu.xp = DeviceNumpy(gpu.array_type)
        gpu.account = lambda arrays, what="": 0  # the device alone counts what is on it
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train, feed)
            before, blocks = gpu.used_bytes, gpu.allocations
            gpu.peak_bytes = before
            sess.run(train, feed)
            return (gpu.peak_bytes - before) / MiB, float(gpu.allocations - blocks)


def on_cpu(style: str) -> float:
    """Median ms per step."""
    train, feed = model(style)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, feed)
        times = []
        for _ in range(STEPS):
            start = time.perf_counter()
            sess.run(train, feed)
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main() -> None:
    print(f"machine: {machine()}\n")
    rows = []
    passes = pipeline.PASSES
    settings = [("neither (the plan without the shape stand-ins pass, GPUGRAPH_IN_PLACE=0)", False, "0"),
                ("shape stand-ins only (GPUGRAPH_IN_PLACE=0)", True, "0"),
                ("shape stand-ins and in place (the default)", True, "1")]
    for style in ("layers", "matmul"):
        for label, stand_ins, in_place in settings:
            pipeline.PASSES = passes if stand_ins else tuple(p for p in passes if p is not stand_in_shapes)
            os.environ[ENV_IN_PLACE] = in_place
            peak, blocks = on_simulated_gpu(style)
            name = "tf.layers.dense" if style == "layers" else "tf.matmul(h, w) + b"
            rows.append((name, label, f"{peak:.1f}", f"{blocks:.0f}", f"{on_cpu(style):.2f}"))
    pipeline.PASSES = passes
    print(table("| MLP 784-1024-1024-10 + Adam, batch 2048 | plan | simulated GPU: peak MiB above the step's "
                "start | pool blocks per step | CPU ms per step |", rows))


if __name__ == "__main__":
    main()
