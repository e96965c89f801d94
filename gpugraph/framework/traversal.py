"""Walking a graph backwards from what a run fetches."""

from __future__ import annotations

from typing import Sequence

from gpugraph.framework.tensor import Operation, Tensor


def needed_ops(fetches: Sequence[Tensor | Operation], fed: set[Tensor]) -> list[Operation]:
    """Ops the fetches depend on (data and control), stopping at fed tensors."""
    seen: set[Operation] = set()
    stack: list[Operation] = []
    for f in fetches:
        if isinstance(f, Tensor):
            if f in fed:
                continue
            f = f.op
        if f not in seen:
            seen.add(f)
            stack.append(f)
    while stack:
        op = stack.pop()
        for d in op._control_inputs:
            if d not in seen:
                seen.add(d)
                stack.append(d)
        ref = op._opdef.ref_input
        for i, t in enumerate(op._inputs):
            if i < ref or t in fed:
                continue
            d = t.op
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return list(seen)
