"""The fuse pass: maximal runs of connected elementwise steps on one device become one step.

A fused step keeps its member ops and the region they form (gpugraph.fusion); the lower pass turns it
into a FusedStep (gpugraph.compiler.fused_step), which runs the region as one kernel or loop. Integer
division stays unfused on the CPU: the unfused op raises on a zero divisor, as TF1's CPU kernel does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from gpugraph.compiler.fused_step import LARGE_ELEMENTS, static_size
from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.compiler.lower import FIRST_GPU
from gpugraph.framework.tensor import Operation, Tensor

ENV_FUSION = "GPUGRAPH_FUSION"  # 0: every op its own step (to compare, or to debug)
MAX_REGION_OPS = 64  # a longer chain becomes several regions: kernel text and compile time stay small
_HOST_UNFUSED_INTEGER = {"FloorDiv", "FloorMod", "Div", "TruncateDiv", "TruncateMod"}


def fusion_enabled() -> bool:
    return os.environ.get(ENV_FUSION, "1").strip() not in ("0", "false")


@dataclass(frozen=True)
class FusionGroup:
    """What a fused step runs: its ops, where each one's operands are among the step's locals (the
    step's inputs first, then each op's result), which locals it returns, and the region they form."""

    ops: tuple[Operation, ...]
    operands: tuple[tuple[int, ...], ...]
    n_inputs: int
    outputs: tuple[int, ...]
    region: Any
    on_gpu: bool


def fuse(plan: Plan, ctx: RunContext) -> Plan:
    """``plan`` with its fusible runs fused, on the host and the first GPU (others switch device per step)."""
    if not fusion_enabled():
        return plan

    def device_of_step(step: Step) -> str | None:
        if step.device not in (plan.host, FIRST_GPU):
            return None
        backend = ctx.backend_of(step.device)  # CuPy fuses through its ElementwiseKernel (stand-ins may lack it)
        return step.device if backend.name != "cupy" or hasattr(backend.xp, "ElementwiseKernel") else None

    def on_cupy(device: str | None) -> bool:
        return device is not None and ctx.backend_of(device).name == "cupy"

    steps = fuse_steps(plan.steps, {s for s in plan.fetch_slots if s is not None}, device_of_step, on_cupy,
                       plan.slot_tensor)
    return replace(plan, steps=tuple(steps))


def fusible(op: Operation, on_cupy: bool) -> bool:
    from gpugraph.fusion import is_fusible

    if len(op._outputs) != 1 or op._control_inputs or not is_fusible(op):
        return False
    return on_cupy or not (op.type in _HOST_UNFUSED_INTEGER and op._outputs[0].dtype.base_dtype.is_integer)


def fuse_steps(steps: Sequence[Any], keep: set[int], device_of_step: Callable[[Any], str | None],
               on_cupy: Callable[[str | None], bool], tensors_of_slot: dict[int, Tensor]) -> list[Any]:
    """``steps`` with each run of connected fusible steps on one device replaced by one step.

    ``keep``: slots fetched (a region's results read later or kept are its outputs); ``device_of_step``:
    the device a step runs on, None where fusion is not done (a device other than the host and GPU:0);
    ``on_cupy``: whether a device's arrays are CuPy's (one kernel) or NumPy's (the CPU paths);
    ``tensors_of_slot``: a tensor for each slot (dtype and static shape of region inputs).
    One pass over the steps: a 100k-step plan pays no more than a small one per step."""
    last_read: dict[int, int] = {}  # slot -> index of the last step reading it
    for i, step in enumerate(steps):
        for slot in step.inputs:
            last_read[slot] = i
    out: list[Any] = []
    run: list[Any] = []
    made: set[int] = set()  # the open run's results
    run_device: str | None = None
    run_end = -1  # index of the run's last step

    def flush() -> None:
        fused = None
        if len(run) >= 2:
            read_later = {slot for slot in made if slot in keep or last_read.get(slot, -1) > run_end}
            fused = _fused(run, read_later, on_cupy(run_device), tensors_of_slot)
        if fused is None:
            out.extend(run)
        else:
            out.append(fused)
        run.clear()
        made.clear()

    for i, step in enumerate(steps):
        device = device_of_step(step)
        ok = device is not None and step.kind == "op" and len(step.outputs) == 1
        if ok:
            gpu = on_cupy(device)
            # on the CPU a result known to be small only ever runs op by op: not worth a region
            ok = (gpu or not _known_small(step.op._outputs[0])) and fusible(step.op, gpu)
        reads_run = bool(run) and any(slot in made for slot in step.inputs)
        if not ok and run and not reads_run and _changes_nothing(step):
            out.append(step)  # it needs nothing the region makes and changes nothing: the region stays whole
            continue
        # a fusible step joins the open run when it reads the run's results: unrelated chains, maybe of
        # different sizes, cannot share one elementwise kernel (related ones broadcast together, and a
        # region whose run-time shapes still do not is run op by op)
        if ok and run and (device != run_device or not reads_run or len(run) >= MAX_REGION_OPS):
            flush()
        if ok:
            run_device, run_end = device, i
            run.append(step)
            made.update(step.outputs)
        else:
            flush()
            out.append(step)
    flush()
    return out


def _known_small(t: Tensor) -> bool:
    size = static_size(t.shape.as_tuple())
    return size is not None and size < LARGE_ELEMENTS


def _changes_nothing(step: Any) -> bool:
    """Whether ``step`` may move ahead of the (pure, elementwise) steps of an open region that it does not
    read from: it writes no state they could read (no variable update, no stateful op)."""
    from gpugraph.framework.func_graph import updates_variables

    if step.kind == "copy":
        return True
    op = step.op
    return not (op._opdef.stateful or op._opdef.ref_input or updates_variables(op))


def _fused(run: list[Any], read_later: set[int], on_gpu: bool, tensors_of_slot: dict[int, Tensor]) -> Any:
    """The fused step for ``run``; its outputs are the results in ``read_later`` (read after the run, or
    fetched). None where the region should stay unfused."""
    from gpugraph.fusion import NotFusible, Ref, Region, RegionInput, RegionNode
    from gpugraph.fusion.region import _code_attrs, _static_shape, check_node, tensor_dtype

    local: dict[int, int] = {}  # slot -> local index
    inputs: list[int] = []
    produced: set[int] = set()
    for step in run:
        for slot in step.inputs:
            if slot not in local and slot not in produced:
                local[slot] = len(inputs)
                inputs.append(slot)
        produced.update(step.outputs)
    if not on_gpu and all((n := static_size(_static_shape(tensors_of_slot[s]))) is not None and n < LARGE_ELEMENTS
                          for s in inputs):
        return None  # on the CPU it would only ever run op by op: one step instead of several adds a call
    operand_lists, nodes = [], []
    for k, step in enumerate(run):
        operands = tuple(local[s] for s in step.inputs)
        op = step.op
        refs = tuple(Ref(True, j) if j < len(inputs) else Ref(False, j - len(inputs)) for j in operands)
        dtypes = [tensor_dtype(tensors_of_slot[s]) for s in step.inputs]
        try:
            attrs = _code_attrs(op)
            result = check_node(op.type, dtypes, dict(attrs), f"'{op.name}'")
        except NotFusible:
            return None  # cannot happen for ops that passed fusible(); kept unfused to be safe
        nodes.append(RegionNode(op.type, refs, result, attrs))
        operand_lists.append(operands)
        local[step.outputs[0]] = len(inputs) + k
    results = [step.outputs[0] for step in run if step.outputs[0] in read_later]
    if not results:
        results = [run[-1].outputs[0]]
    region = Region(tuple(RegionInput(tensor_dtype(tensors_of_slot[s]),
                                      _static_shape(tensors_of_slot[s])) for s in inputs),
                    tuple(nodes), tuple(Ref(False, local[s] - len(inputs)) for s in results))
    ops = tuple(s.op for s in run)
    group = FusionGroup(ops, tuple(operand_lists), len(inputs), tuple(local[s] for s in results), region, on_gpu)
    return replace(run[-1], fn=None, inputs=tuple(inputs), outputs=tuple(results), ops=ops, fusion=group)
