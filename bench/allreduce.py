"""Allreduce cost: ``hvd.allreduce`` inside Session.run against raw mpi4py ``Allreduce`` on the same buffers,
and an MLP training step on 1 and 2 ranks (the same global batch).

``python bench/allreduce.py`` starts the 2-rank parts under the [mpi] extra's mpiexec and prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES_MB = [0.004, 0.25, 4, 16, 64]
GLOBAL_BATCH, WIDTH, STEPS = 256, 512, 30


def _best_ms(fn, repeats: int) -> float:
    fn()  # warm: plan compiled, buffers allocated
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return 1e3 * float(np.median(times))


def allreduce_rows() -> list[dict]:
    from mpi4py import MPI

    import gpugraph as tf
    import gpugraph.horovod as hvd

    hvd.init()
    comm = MPI.COMM_WORLD
    rows = []
    for mb in SIZES_MB:
        n = max(1, int(mb * (1 << 20)) // 4)
        data = np.random.default_rng(hvd.rank()).standard_normal(n).astype(np.float32)
        out = np.empty_like(data)
        repeats = 20 if mb < 16 else 5
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [n])
            summed = hvd.allreduce(x, op=hvd.Sum)
            with tf.Session() as sess:
                comm.Barrier()
                gpugraph_ms = _best_ms(lambda: sess.run(summed, {x: data}), repeats)
        comm.Barrier()
        raw_ms = _best_ms(lambda: comm.Allreduce(data, out), repeats)
        rows.append({"MB": mb, "hvd.allreduce in Session.run ms": gpugraph_ms, "mpi4py Allreduce ms": raw_ms})
    return rows


def mlp_step_ms(ranks: int) -> float:
    import gpugraph as tf

    hvd = None
    if ranks > 1:
        import gpugraph.horovod as hvd

        hvd.init()
    rng = np.random.default_rng(0)
    per_rank = GLOBAL_BATCH // ranks
    xs = rng.standard_normal((per_rank, 784)).astype(np.float32)
    ys = rng.integers(0, 10, per_rank)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.int64, [None])
        h = tf.layers.dense(tf.layers.dense(x, WIDTH, tf.nn.relu), WIDTH, tf.nn.relu)
        loss = tf.losses.sparse_softmax_cross_entropy(y, tf.layers.dense(h, 10))
        opt = tf.train.GradientDescentOptimizer(0.01)
        train_op = (hvd.DistributedOptimizer(opt) if hvd else opt).minimize(loss)
        init = tf.global_variables_initializer()
        broadcast = hvd.broadcast_global_variables(0) if hvd else tf.no_op()
        with tf.Session() as sess:
            sess.run(init)
            sess.run(broadcast)
            return _best_ms(lambda: sess.run(train_op, {x: xs, y: ys}), STEPS)


def _ranks_part() -> None:
    from mpi4py import MPI

    result = {"allreduce": allreduce_rows(), "mlp2": mlp_step_ms(2)}
    if MPI.COMM_WORLD.Get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ranks-part", action="store_true", help=argparse.SUPPRESS)
    if parser.parse_args().ranks_part:
        _ranks_part()
        return
    from gpugraph.launch import blas_threads, mpiexec_path

    mlp1 = mlp_step_ms(1)  # BLAS on every core
    command = [mpiexec_path(), "-disable-auto-cleanup", "-n", "2", sys.executable, __file__, "--ranks-part"]
    env = dict(os.environ, **blas_threads(2))  # the cores shared as `gpugraph run -n 2` shares them
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.exit(f"the 2-rank part failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[0][len("RESULT "):])
    print("| float32 MB | hvd.allreduce in Session.run, ms | mpi4py Allreduce, ms | ratio |")
    print("|---|---|---|---|")
    for row in result["allreduce"]:
        ours, raw = row["hvd.allreduce in Session.run ms"], row["mpi4py Allreduce ms"]
        print(f"| {row['MB']:g} | {ours:.3f} | {raw:.3f} | {ours / raw:.2f}x |")
    print()
    print(f"MLP 784-{WIDTH}-{WIDTH}-10, global batch {GLOBAL_BATCH}, SGD step (median of {STEPS}):")
    print(f"| ranks | ms/step |\n|---|---|\n| 1 | {mlp1:.2f} |\n| 2 | {result['mlp2']:.2f} |")


if __name__ == "__main__":
    main()
