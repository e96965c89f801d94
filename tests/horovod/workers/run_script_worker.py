"""A Horovod-style TF1 script for ``gpugraph run -n N``: sums its rank over all ranks, step after step.

argv: STEPS [MODE]; MODE "raise" makes rank 1 raise at step 3, "exit" makes it vanish (os._exit(0)) there.
"""

from __future__ import annotations

import os
import sys

import gpugraph as tf
import gpugraph.horovod as hvd

steps = int(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else ""
hvd.init()
x = tf.placeholder(tf.float32, [2])
total = hvd.allreduce(x, op=hvd.Sum)
with tf.Session() as sess:
    for step in range(steps):
        if hvd.rank() == 1 and step == 3 and mode == "raise":
            raise ValueError("rank 1 gives up at step 3")
        if hvd.rank() == 1 and step == 3 and mode == "exit":
            os._exit(0)
        value = sess.run(total, {x: [hvd.rank(), step]})
print(f"rank {hvd.rank()} of {hvd.size()}: {value.tolist()}", flush=True)
