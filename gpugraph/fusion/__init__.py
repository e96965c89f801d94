"""Elementwise-region fusion: a region of elementwise ops (region.py) runs as one kernel, generated as
CUDA C for ``cupy.ElementwiseKernel`` (cuda.py) and, on the CPU, as one compiled C++ loop or a NumPy
evaluator with reused buffers (host.py)."""

from __future__ import annotations

from gpugraph.fusion.cuda import KernelText, elementwise_kernel, kernel_text, run_on_device
from gpugraph.fusion.host import NumpyRegion, host_runner
from gpugraph.fusion.region import NotFusible, Ref, Region, RegionInput, RegionNode, is_fusible, region_from_ops
from gpugraph.fusion.rules import FUSED_DTYPES, RULES

__all__ = ["FUSED_DTYPES", "KernelText", "NotFusible", "NumpyRegion", "RULES", "Ref", "Region", "RegionInput",
           "RegionNode", "elementwise_kernel", "host_runner", "is_fusible", "kernel_text", "region_from_ops",
           "run_on_device"]
