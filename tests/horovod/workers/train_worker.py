"""Run under mpiexec: data-parallel training of a small MLP; each rank writes its weights as JSON.

Every rank starts from its own random weights; broadcast_global_variables(0) (and, in a second graph, the
BroadcastGlobalVariablesHook) makes them rank 0's. Each rank trains on its equal shard of one full batch.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

import gpugraph as tf
import gpugraph.horovod as hvd
from gpugraph.horovod import engine

BATCH, IN, HIDDEN, STEPS, LR = 12, 3, 4, 5, 0.1


def full_batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1234)
    return rng.standard_normal((BATCH, IN)).astype(np.float32), rng.standard_normal((BATCH, 1)).astype(np.float32)


def initial_weights(r: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(100 + r)
    return {"w1": rng.standard_normal((IN, HIDDEN)).astype(np.float32) * 0.5,
            "b1": rng.standard_normal(HIDDEN).astype(np.float32) * 0.1,
            "w2": rng.standard_normal((HIDDEN, 1)).astype(np.float32) * 0.5,
            "b2": rng.standard_normal(1).astype(np.float32) * 0.1}


def model(r: int, x: tf.Tensor, t: tf.Tensor) -> tuple[dict[str, tf.Variable], tf.Tensor]:
    weights = {k: tf.Variable(v, name=k) for k, v in initial_weights(r).items()}
    h = tf.tanh(tf.matmul(x, weights["w1"]) + weights["b1"])
    y = tf.matmul(h, weights["w2"]) + weights["b2"]
    return weights, tf.reduce_mean(tf.square(y - t))


def main(out_dir: str) -> None:
    hvd.init()
    r, n = hvd.rank(), hvd.size()
    xs, ts = full_batch()
    shard = slice(r * BATCH // n, (r + 1) * BATCH // n)
    res: dict[str, object] = {}
    with tf.Graph().as_default():
        weights, loss = model(r, tf.constant(xs[shard]), tf.constant(ts[shard]))
        opt = hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(LR))
        train = opt.minimize(loss)
        res["optimizer_name"] = opt.get_name()
        res["collective_ops"] = sorted(op.type for op in tf.get_default_graph().get_operations()
                                       if op.type.startswith("Horovod"))
        bcast = hvd.broadcast_global_variables(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(bcast)
            res["after_broadcast"] = {k: v.tolist() for k, v in sess.run(weights).items()}
            before = engine.CALLS["allreduce"]
            for _ in range(STEPS):
                sess.run(train)
            res["allreduce_calls_per_step"] = (engine.CALLS["allreduce"] - before) / STEPS
            res["trained"] = {k: v.tolist() for k, v in sess.run(weights).items()}
    with tf.Graph().as_default():
        weights, _ = model(r, tf.constant(xs[shard]), tf.constant(ts[shard]))
        hook = hvd.BroadcastGlobalVariablesHook(0)
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            res["after_hook"] = {k: v.tolist() for k, v in sess.run(weights).items()}
    with open(os.path.join(out_dir, f"rank{r}.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(sys.argv[1])
