"""The first run of a large graph: plan building plus one run, in time and resident memory.

    python bench/large_graph.py [--nodes 100000]

The graph is a chain ``y = y * c + d`` from one placeholder: half its nodes are constants (folded into
the plan), half are steps. Prints the graph-building time, the first and second runs' wall and CPU
(process) time, and the process's peak resident memory; one scenario per process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    args = parser.parse_args()
    import gpugraph as tf

    start = time.perf_counter()
    x = tf.placeholder(tf.float32, [4], name="x")
    y = x
    for _ in range(args.nodes // 4):
        y = y * 1.0001 + 0.5
    built = time.perf_counter() - start
    figures = {"nodes": len(tf.get_default_graph().get_operations()), "build_s": round(built, 2)}
    with tf.Session() as sess:
        for name in ("first", "second"):
            wall, cpu = time.perf_counter(), time.process_time()
            sess.run(y, {x: np.ones(4, np.float32)})
            figures[f"{name}_run_s"] = round(time.perf_counter() - wall, 2)
            figures[f"{name}_run_cpu_s"] = round(time.process_time() - cpu, 2)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
