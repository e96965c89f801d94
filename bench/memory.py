"""Memory of a session holding large variables: steady and peak bytes above the process's baseline.

    python bench/memory.py [--gib 1] [--variables 4] [--device cpu|gpu] [--framework gpugraph|tensorflow]

The scenario: variables of ``--gib`` GiB of float32 in all, initialised with ``tf.zeros``, then three
runs of ``assign_add(v, v * 0.001)`` over all of them. On the host the figures are the process's resident
set (``VmRSS``) and its high-water mark (``VmHWM``, reset once the graph is built); on a GPU they are
the memory pool's bytes in use and CUDA's free memory seen from NVML-free ``memGetInfo``.
``--framework tensorflow`` runs the same program under ``tensorflow.compat.v1`` (in an environment that
has it) so both can be compared on one machine. One scenario per process: peaks do not mix.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

GiB = 1 << 30


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS


def _import(framework: str) -> Any:
    if framework == "tensorflow":
        import tensorflow.compat.v1 as tf

        tf.disable_eager_execution()
        return tf
    import gpugraph as tf

    return tf


def run(framework: str, gib: float, n_vars: int, device: str) -> dict[str, Any]:
    if framework == "gpugraph":
        os.environ["GPUGRAPH_DEVICE"] = device
    tf = _import(framework)
    side = int((gib * GiB / n_vars / 4) ** 0.5)
    variables = [tf.Variable(tf.zeros([side, side]), name=f"v{i}") for i in range(n_vars)]
    updates = [tf.assign_add(v, v * 0.001) for v in variables]
    init = tf.global_variables_initializer()
    held = n_vars * side * side * 4
    pool = _gpu_pool() if device == "gpu" else None
    base_rss = _status_kib("VmRSS") * 1024
    _reset_peak()
    base_pool = pool.used_bytes() if pool is not None else 0
    peak_pool = base_pool
    with tf.Session() as sess:
        sess.run(init)
        for _ in range(3):
            sess.run([u.op for u in updates])  # operations only: nothing is copied out
            if pool is not None:
                peak_pool = max(peak_pool, pool.total_bytes())
        steady_rss = _status_kib("VmRSS") * 1024 - base_rss
        peak_rss = _status_kib("VmHWM") * 1024 - base_rss
        steady_pool = (pool.used_bytes() - base_pool) if pool is not None else None
    result = {"framework": framework, "device": device, "variables": n_vars, "side": side,
              "held_gib": held / GiB, "steady_gib": steady_rss / GiB, "peak_gib": peak_rss / GiB}
    if pool is not None:
        result.update(pool_steady_gib=steady_pool / GiB, pool_peak_gib=(peak_pool - base_pool) / GiB)
    return result


def _gpu_pool() -> Any:
    import cupy

    return cupy.get_default_memory_pool()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="GiB of float32 variables in all")
    parser.add_argument("--variables", type=int, default=4)
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--framework", choices=("gpugraph", "tensorflow"), default="gpugraph")
    args = parser.parse_args(argv)
    result = run(args.framework, args.gib, args.variables, args.device)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
