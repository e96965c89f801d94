"""Run under mpiexec: every Horovod collective on rank-dependent inputs; each rank writes its results as JSON.

Inputs are functions of the rank only, so the test recomputes every expected value with NumPy.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

import gpugraph as tf
import gpugraph.horovod as hvd
from gpugraph.horovod import engine


def rank_input(r: int) -> np.ndarray:
    return (np.arange(6, dtype=np.float32).reshape(2, 3) + 1) * (r + 1)


def main(out_dir: str) -> None:
    hvd.init()
    r, n = hvd.rank(), hvd.size()
    res: dict[str, object] = {"rank": r, "size": n, "local_rank": hvd.local_rank(), "local_size": hvd.local_size()}
    x = tf.constant(rank_input(r))
    ints = tf.constant(np.array([r + 1, 10 * (r + 1)], np.int32))
    rows = tf.constant(np.full((r + 1, 2), float(r), np.float32))  # first dimension differs per rank
    fetch = {
        "average": hvd.allreduce(x),
        "sum": hvd.allreduce(x, op=hvd.Sum),
        "average_flag_false": hvd.allreduce(x, average=False),
        "max": hvd.allreduce(x, op=hvd.Max),
        "int_sum": hvd.allreduce(ints, op=hvd.Sum),
        "scaled": hvd.allreduce(x, op=hvd.Sum, prescale_factor=2.0, postscale_factor=0.25),
        "fp16": hvd.allreduce(x * 1.001, compression=hvd.Compression.fp16),
        "gather": hvd.allgather(rows),
        "bcast": hvd.broadcast(x, n - 1),
    }
    # gradients as Horovod defines them
    w = tf.constant(np.arange(2 * sum(range(1, n + 1)), dtype=np.float32).reshape(-1, 2))
    fetch["grad_sum"] = tf.gradients(tf.reduce_sum(hvd.allreduce(x, op=hvd.Sum) * x), x)[0]
    fetch["grad_average"] = tf.gradients(tf.reduce_sum(hvd.allreduce(x)), x)[0]
    fetch["grad_gather"] = tf.gradients(tf.reduce_sum(hvd.allgather(rows) * w), rows)[0]
    fetch["grad_bcast"] = tf.gradients(tf.reduce_sum(hvd.broadcast(x, 0) * 3.0), x)[0]
    res["fp16_wire_dtype"] = [op.inputs[0].dtype.name for op in tf.get_default_graph().get_operations()
                              if op.name.startswith("HorovodAllreduce_mul")][0]
    with tf.Session() as sess:
        values = sess.run(fetch)
        res.update({k: np.asarray(v).tolist() for k, v in values.items()})
        res["dtypes"] = {k: np.asarray(v).dtype.name for k, v in values.items()}

        # fusion: tensors of 24, 24, 24 (float32) and 16 (float64) bytes under a 56-byte threshold
        hvd.shutdown()
        os.environ["HOROVOD_FUSION_THRESHOLD"] = "56"
        hvd.init()
        parts = [tf.constant(np.full(6, r + k, np.float32)) for k in range(3)]
        parts.append(tf.constant(np.full(2, r, np.float64)))
        grouped = hvd.grouped_allreduce(parts, op=hvd.Sum)
        before = engine.CALLS["allreduce"]
        res["grouped"] = [np.asarray(v).tolist() for v in sess.run(grouped)]
        res["grouped_calls"] = engine.CALLS["allreduce"] - before
        hvd.shutdown()
        os.environ["HOROVOD_FUSION_THRESHOLD"] = "0"
        hvd.init()
        before = engine.CALLS["allreduce"]
        sess.run(grouped)
        res["unfused_calls"] = engine.CALLS["allreduce"] - before

        # ranks that disagree on a shape get an error naming the op, not a hang
        bad = hvd.allreduce(tf.zeros([r + 1]), name="mismatched")
        try:
            sess.run(bad)
            res["mismatch"] = "no error"
        except tf.errors.InvalidArgumentError as e:
            res["mismatch"] = str(e).splitlines()[0]
    with open(os.path.join(out_dir, f"rank{r}.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(sys.argv[1])
