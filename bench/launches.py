"""Launches per training step on the GPU path, counted by the CuPy stand-in (tests/runtime/fake_cupy.py).

    python bench/launches.py

The MLP 784-256-256-10 + Adam step of bench/fusion.py (batch 256) runs on the real CuPy code path
(CupyBackend, NVML discovery) over the stand-in, which counts every kernel it runs and every CUDA-graph
launch, as CUDA would see them. Printed: per steady step, kernels launched one by one and graph
launches, with CUDA-graph replay on (the default) and off (GPUGRAPH_CUDA_GRAPHS=0). The stand-in runs
ElementwiseKernel and ReductionKernel (their CUDA text, built by the host compiler) but has no RawKernel,
so grouped optimizer updates launch one kernel per variable there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "runtime"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_cupy import FakeCuda, make_fake_cupy  # noqa: E402
from fake_nvml import NvmlGpu, make_pynvml  # noqa: E402

STEPS = 6


def launches(cuda_graphs: bool) -> tuple[float, float]:
    """(kernels, graph launches) per steady step."""
    state = FakeCuda(n_devices=1, total_memory=1 << 30)
    sys.modules["cupy"] = make_fake_cupy(state)
    sys.modules["pynvml"] = make_pynvml([NvmlGpu("NVIDIA H200", "GPU-0", 1 << 30)])
    os.environ["GPUGRAPH_DEVICE"] = "gpu"
    os.environ["GPUGRAPH_CUDA_GRAPHS"] = "1" if cuda_graphs else "0"
    import gpugraph
    from fusion import build_mlp, mlp_batch
    from gpugraph.runtime import device_setup
    from gpugraph.runtime.gpu_manager import GpuManager, set_gpu_manager

    device_setup.set_device_provider(None)
    set_gpu_manager(GpuManager())
    sess, train_op, x, y = build_mlp(gpugraph)
    xs, ys = mlp_batch(np.random.default_rng(0))
    counts = []
    for _ in range(STEPS):
        counts.append((state.kernel_launches, state.graph_launches))
        sess.run(train_op, {x: xs, y: ys})
    counts.append((state.kernel_launches, state.graph_launches))
    sess.close()
    last = np.diff(np.array(counts[-3:]), axis=0).mean(axis=0)
    return float(last[0]), float(last[1])


def main() -> None:
    on = launches(True)
    off = launches(False)
    print("| MLP 784-256-256-10 + Adam step, batch 256 | kernels launched one by one | CUDA-graph launches |")
    print("|---|---|---|")
    print(f"| CUDA graphs on (default) | {on[0]:.0f} | {on[1]:.0f} |")
    print(f"| CUDA graphs off | {off[0]:.0f} | {off[1]:.0f} |")


if __name__ == "__main__":
    main()
