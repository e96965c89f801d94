"""The slice-gradient pass: an AddN of StridedSliceGrads of one tensor, over slices that do not overlap,
becomes one step writing each gradient into its slice of one zero array.

``w[0] * x + w[1] * x**2 + ...`` (a polynomial's coefficients, TF1 tutorials' way) makes one
StridedSliceGrad per coefficient, each a zero array the size of ``w`` with one slice set, and an AddN
summing them: n arrays made and summed for n numbers. The merged step makes one array. Its values are
AddN's: where the slices do not overlap, each element is one gradient value plus zeros, and the zeros
make a -0.0 into +0.0, as AddN's sum does. Only AddNs of 2 to 8 terms (summed in order, see
gpugraph/ops/math_ops.py) over a tensor of static shape are merged; any failure reruns the original
ops one by one, so errors are theirs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.compiler.lower import DeviceContext, guarded_lower
from gpugraph.ops.xp_compat import FLOAT_SCALARS

MAX_TERMS = 8  # AddN sums more terms pairwise: another order of rounding
MAX_CHECKED_ELEMENTS = 1 << 20  # slices of larger tensors are not checked for overlap, nor merged


def merge_slice_grads(plan: Plan, ctx: RunContext) -> Plan:
    producer = {slot: i for i, step in enumerate(plan.steps) for slot in step.outputs}
    readers: dict[int, int] = {}
    for step in plan.steps:
        for slot in step.inputs:
            readers[slot] = readers.get(slot, 0) + 1
    fetched = {s for s in plan.fetch_slots if s is not None}
    merged: dict[int, Step] = {}
    dropped: set[int] = set()
    for j, step in enumerate(plan.steps):
        sources = _slice_grads_summed(step, plan.steps, producer, readers, fetched)
        if sources is None or any(i in dropped for i in sources):
            continue
        grads = [plan.steps[i] for i in sources]
        specs = [g.op.get_attr("spec") for g in grads]
        shape = grads[0].op.inputs[1].shape.as_tuple()
        if not _disjoint(shape, specs):
            continue
        context = ctx if step.device == plan.host else DeviceContext(ctx, ctx.backend_of(step.device))
        originals = [guarded_lower(g.op, context) for g in grads] + [guarded_lower(step.op, context)]
        fn = SliceGradSum(context.backend.xp, specs, originals)
        inputs = (grads[0].inputs[1],) + tuple(g.inputs[0] for g in grads)
        merged[j] = Step(step.op, fn, inputs, step.outputs, ops=tuple(g.op for g in grads) + (step.op,),
                         device=step.device)
        dropped.update(sources)
    if not merged:
        return plan
    steps = [merged.get(k, step) for k, step in enumerate(plan.steps) if k not in dropped]
    return replace(plan, steps=tuple(steps))


def _slice_grads_summed(step: Step, steps: Sequence[Step], producer: dict[int, int], readers: dict[int, int],
                        fetched: set[int]) -> list[int] | None:
    """Indices of the StridedSliceGrad steps an AddN step sums, where it sums only those (of one tensor,
    with constant slices, read by nothing else, on the AddN's device); None otherwise."""
    if step.op.type != "AddN" or step.ops or step.fn is not None or not 2 <= len(step.inputs) <= MAX_TERMS:
        return None
    sources = []
    for slot in step.inputs:
        i = producer.get(slot)
        if i is None or readers.get(slot) != 1 or slot in fetched:
            return None
        grad = steps[i]
        if (grad.op.type != "StridedSliceGrad" or grad.ops or grad.fn is not None or len(grad.inputs) != 2
                or grad.device != step.device):
            return None
        sources.append(i)
    first = steps[sources[0]]
    if any(steps[i].inputs[1] != first.inputs[1] for i in sources):
        return None  # slices of different tensors
    if len(set(sources)) != len(sources):
        return None
    return sources


def _disjoint(shape: tuple[int | None, ...] | None, specs: Sequence[Any]) -> bool:
    """Whether the slices ``specs`` of a tensor of static ``shape`` share no element (counted on a mask)."""
    if shape is None or any(d is None for d in shape):
        return False
    size = int(np.prod(shape, dtype=np.int64))
    if size > MAX_CHECKED_ELEMENTS:
        return False
    count = np.zeros(shape, np.int32)
    try:
        for spec in specs:
            count[spec] += 1
    except (IndexError, TypeError, ValueError):
        return False
    return bool(count.max(initial=0) <= 1)


class SliceGradSum:
    """``merged(x, *dys)``: zeros the shape of ``x``, each ``dy`` written into its slice, zeros made +0.0."""

    def __init__(self, xp: Any, specs: Sequence[Any], originals: Sequence[Callable[..., Any]]):
        self.xp = xp
        self.specs = tuple(specs)
        self.originals = tuple(originals)  # each StridedSliceGrad's function, then AddN's

    def __call__(self, x: Any, *dys: Any) -> Any:
        kind = type(dys[0])
        if kind in FLOAT_SCALARS and all(type(dy) is kind for dy in dys):  # a per-sample loop's gradients
            out = self.xp.zeros(x.shape, dtype=kind)
            for spec, dy in zip(self.specs, dys):
                out[spec] = dy + 0.0  # AddN's zeros: -0.0 + 0.0 is +0.0
            return out
        try:
            dtype = dys[0].dtype
            out = self.xp.zeros(x.shape, dtype=dtype)
            for spec, dy in zip(self.specs, dys):
                if dy.dtype != dtype:
                    raise TypeError("gradients of different dtypes")
                out[spec] = dy
            if dtype.kind in "fc":
                self.xp.add(out, 0.0, out=out)  # AddN's zeros: -0.0 + 0.0 is +0.0
            return out
        except Exception:  # the ops one by one: their own results, or their own errors
            *grads, add_n = self.originals
            return add_n(*[g(dy, x) for g, dy in zip(grads, dys)])

