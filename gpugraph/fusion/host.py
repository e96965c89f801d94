"""A region on the CPU as one callable.

Two paths, chosen by :func:`host_runner`:

- ``NumpyRegion`` (always available): the nodes in order, each a ufunc writing with ``out=`` into a
  buffer; a temporary whose last reader has run is reused for a later result of the same shape and dtype,
  so a chain of n ops over one shape allocates about two temporaries, not n.
- ``CompiledRegion`` (gpugraph.fusion.compiled, when a C++ compiler is on PATH): the region's CUDA text
  compiled as one C++ loop (one pass over memory).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gpugraph.fusion.region import Ref, Region
from gpugraph.fusion.rules import RULES
from gpugraph.ops.registry import REGISTRY


def _impl_into(op_type: str) -> Callable[..., Any]:
    """The op's own lowering, copied into ``out``: for ops with no ufunc form here."""
    impl = REGISTRY[op_type].impl

    def run(out: Any, *xs: Any, **attrs: Any) -> Any:
        with np.errstate(all="ignore"):
            np.copyto(out, impl(np, *xs, **attrs), casting="unsafe")
        return out
    return run


class NumpyRegion:
    """Evaluates a region with NumPy, reusing dead temporaries as ``out=`` buffers."""

    def __init__(self, region: Region):
        self.region = region
        self.buffers_made = 0
        self._steps = []
        for node in region.nodes:
            rule = RULES[node.op_type]
            attrs = {k: v for k, v in node.attrs if v is not None}
            if node.op_type == "Cast":
                attrs = {"DstT": attrs["DstT"]}
            elif node.op_type == "LeakyRelu":
                attrs = {"alpha": attrs["alpha"]}
            elif node.op_type in ("ZerosLike", "OnesLike"):
                attrs = {}
            self._steps.append((rule.numpy or _impl_into(node.op_type), node.operands, np.dtype(node.dtype), attrs))
        last = region.last_uses()
        # after node k, the temporaries read for the last time by it may be reused
        self._dies_after: list[list[int]] = [[] for _ in region.nodes]
        for ref, k in last.items():
            if not ref.is_input and k < len(region.nodes):
                self._dies_after[k].append(ref.index)
        for k in range(len(region.nodes)):  # a result nobody reads is free at once
            if Ref(False, k) not in last:
                self._dies_after[k].append(k)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        values: list[Any] = [None] * len(self.region.nodes)
        free: list[np.ndarray] = []
        inputs = [np.asarray(a) for a in arrays]

        def get(ref: Ref) -> Any:
            return inputs[ref.index] if ref.is_input else values[ref.index]

        made = 0
        with np.errstate(all="ignore"):  # inf and NaN results are values here, as on a GPU, not warnings
            for k, (run, operands, dtype, attrs) in enumerate(self._steps):
                xs = [get(r) for r in operands]
                shape = np.broadcast_shapes(*(x.shape for x in xs))
                out = next((b for b in free if b.shape == shape and b.dtype == dtype), None)
                if out is None:
                    out = np.empty(shape, dtype)
                    made += 1
                else:
                    free = [b for b in free if b is not out]
                values[k] = run(out, *xs, **attrs)
                free.extend(values[j] for j in self._dies_after[k])
        self.buffers_made = made  # of the last call: temporaries and outputs allocated
        return tuple(np.array(get(r), copy=True) if r.is_input else get(r) for r in self.region.outputs)


_runners: dict[tuple[Any, ...], Callable[..., tuple[np.ndarray, ...]]] = {}


def host_runner(region: Region, prefer: str = "auto") -> Callable[..., tuple[np.ndarray, ...]]:
    """One callable for ``region`` on the CPU (cached by its key). ``prefer``: "auto" (compiled C++
    when a compiler is there, else NumPy), "numpy" or "compiled"."""
    key = (prefer, region.key)
    runner = _runners.get(key)
    if runner is None:
        runner = _make(region, prefer)
        _runners[key] = runner
    return runner


def _make(region: Region, prefer: str) -> Callable[..., tuple[np.ndarray, ...]]:
    if prefer != "numpy":
        from gpugraph.fusion import compiled

        if prefer == "compiled":
            return compiled.CompiledRegion(region)
        if compiled.available():
            try:
                return compiled.CompiledRegion(region)
            except (RuntimeError, OSError):  # a compiler that fails here, an unwritable cache: NumPy still works
                pass
    return NumpyRegion(region)
