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


# Ops whose NumPy lowering makes several passes over the array, where one compiled loop makes one (ReluGrad:
# a compare, a cast and a multiply; 65k float32 elements 41 -> 25 us): alone on the host, a fused step.
# Not the ones built on exp or log: NumPy's SIMD exp outruns the compiler's scalar libm call.
HOST_MULTI_PASS = frozenset({"ReluGrad", "Relu6", "LeakyRelu", "Softsign", "SquaredDifference", "Select"})

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
        return step.device

    def on_cupy(device: str | None) -> bool:
        return device is not None and ctx.backend_of(device).name == "cupy"

    if all(step.device == plan.host and (len(step.op._outputs) != 1 or _known_small(step.op._outputs[0]))
           for step in plan.steps):
        return plan  # on the host, results known to be small stay unfused: nothing here could fuse
    steps = fuse_steps(plan.steps, {s for s in plan.fetch_slots if s is not None}, device_of_step, on_cupy,
                       plan.slot_tensor, plan.host)
    return replace(plan, steps=tuple(steps))


def fusible(op: Operation, on_cupy: bool) -> bool:
    from gpugraph.fusion import is_fusible

    if len(op._outputs) != 1 or op._control_inputs or not is_fusible(op):
        return False
    return on_cupy or not (op.type in _HOST_UNFUSED_INTEGER and op._outputs[0].dtype.base_dtype.is_integer)


def fuse_steps(steps: Sequence[Any], keep: set[int], device_of_step: Callable[[Any], str | None],
               on_cupy: Callable[[str | None], bool], tensors_of_slot: dict[int, Tensor],
               host: str | None = None) -> list[Any]:
    """``steps`` with each run of connected fusible steps on one device replaced by one step.

    ``keep``: slots fetched (a region's results read later or kept are its outputs); ``device_of_step``:
    the device a step runs on, None where fusion is not done (a device other than the host and GPU:0);
    ``on_cupy``: whether a device's arrays are CuPy's (one kernel) or NumPy's (the CPU paths);
    ``tensors_of_slot``: a tensor for each slot (dtype and static shape of region inputs); ``host``: the
    device where results known to be small stay unfused (None: every device not on CuPy).
    A view of a region input read only by the region becomes part of the fused step, run before its
    kernel; a sum or mean that alone reads the region's result ends the region (a reduction epilogue).
    One pass over the steps: a 100k-step plan pays no more than a small one per step."""
    from gpugraph.fusion.reduction import reduction_of

    last_read: dict[int, int] = {}  # slot -> index of the last step reading it
    n_reads: dict[int, int] = {}  # slot -> how many operands read it
    for i, step in enumerate(steps):
        for slot in step.inputs:
            last_read[slot] = i
            n_reads[slot] = n_reads.get(slot, 0) + 1
    out: list[Any] = []
    run: list[Any] = []
    made: set[int] = set()  # the open run's results
    run_device: str | None = None
    run_end = -1  # index of the run's last step
    views: dict[int, int] = {}  # slot -> index in ``out`` of the view step making it
    barrier = [-1]  # index in ``out`` of the last step that changes state: views do not move past it

    def flush(epilogue: Any = None) -> None:
        fused = None
        absorbed = _absorbed_views(run, out, views, barrier[0], keep, n_reads) if run else []
        on_host = run_device == host or (host is None and not on_cupy(run_device))
        # a lone op with views saves no kernel, and on the host no time: it stays a step of its own there,
        # but for one whose NumPy lowering makes several passes (one loop, once compiled); on a GPU a lone
        # op is one kernel too, where its lowering may launch several (ReluGrad: three), and the simulated
        # GPU fuses as CuPy's does
        lone_kernel = bool(run) and (run[0].op.type in HOST_MULTI_PASS if on_host else
                                     run[0].op.type not in VIEW_TYPES)  # a view: no kernel
        if len(run) >= 2 or (run and (epilogue is not None or (absorbed and not on_host))) or lone_kernel:
            end = run_end if epilogue is None else run_end + 1
            read_later = {slot for slot in made if slot in keep or last_read.get(slot, -1) > end}
            fused = _fused(run, read_later, on_cupy(run_device), tensors_of_slot, on_host,
                           [out[k] for k in absorbed], epilogue)
            if fused is not None:
                for k in absorbed:
                    out[k] = None
        if fused is None:
            out.extend(run)
            if epilogue is not None:
                out.append(epilogue)
        else:
            out.append(fused)
        run.clear()
        made.clear()

    def emit(step: Any) -> None:
        if not _changes_nothing(step):
            barrier[0] = len(out)
        elif step.kind == "op" and step.op.type in VIEW_TYPES and len(step.outputs) == 1:
            views[step.outputs[0]] = len(out)
        out.append(step)

    for i, step in enumerate(steps):
        device = device_of_step(step)
        ok = device is not None and step.kind == "op" and len(step.outputs) == 1 and step.fn is None and not step.ops
        small_stays = False
        if ok:
            gpu = on_cupy(device)
            # on the CPU a result known to be small only ever runs op by op: not worth a region
            small_stays = device == host or (host is None and not gpu)
            ok = not (small_stays and _known_small(step.op._outputs[0])) and fusible(step.op, gpu)
            # a view of a value from outside the open region is no kernel's work: the region reads the value
            # (as a node it would become a region output copied out in full where a later step reads it)
            ok = ok and not (step.op.type in VIEW_TYPES and not any(slot in made for slot in step.inputs))
        reads_run = bool(run) and any(slot in made for slot in step.inputs)
        if not ok and reads_run and device == run_device and _ends_region(step, made, keep, last_read, i,
                                                                          reduction_of, tensors_of_slot):
            run_end = i - 1
            flush(step)
            continue
        if not ok and run and not reads_run and _changes_nothing(step):
            emit(step)  # it needs nothing the region makes and changes nothing: the region stays whole
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
            emit(step)
    flush()
    return [step for step in out if step is not None]


VIEW_TYPES = frozenset({"ExpandDims", "Squeeze", "Reshape", "ReshapeLike", "Identity", "StopGradient",
                        "BroadcastReduced"})


def _ends_region(step: Any, made: set[int], keep: set[int], last_read: dict[int, int], i: int,
                 reduction_of: Callable[[Any], Any], tensors_of_slot: dict[int, Tensor]) -> bool:
    """Whether ``step`` is a reduction that alone reads the open region's one result."""
    from gpugraph.fusion.reduction import REDUCED_DTYPES
    from gpugraph.fusion.region import tensor_dtype

    if step.kind != "op" or len(step.outputs) != 1 or reduction_of(step.op) is None:
        return False
    data, *others = step.inputs
    if data not in made or any(slot in made for slot in others):
        return False
    if any(slot in keep or last_read.get(slot, -1) > i for slot in made):
        return False  # another result of the region is read later: the region keeps its outputs
    dtype = tensor_dtype(tensors_of_slot[data])
    return dtype in REDUCED_DTYPES and tensor_dtype(step.op._outputs[0]) == dtype


def _absorbed_views(run: list[Any], out: list[Any], views: dict[int, int], barrier: int, keep: set[int],
                    n_reads: dict[int, int]) -> list[int]:
    """Indices in ``out`` of the view steps that only the run reads (directly or through other such
    views), made after the last state change: they move into the fused step, in their order."""
    reads: dict[int, int] = {}
    for step in run:
        for slot in step.inputs:
            reads[slot] = reads.get(slot, 0) + 1
    taken: set[int] = set()
    pending = list(reads)
    while pending:
        slot = pending.pop()
        k = views.get(slot)
        if k is None or k in taken or k <= barrier or out[k] is None or slot in keep:
            continue
        view = out[k]
        if view.outputs[0] != slot or reads.get(slot, 0) != n_reads.get(slot, 0) or view.device != run[0].device:
            continue
        taken.add(k)
        for source in view.inputs:
            reads[source] = reads.get(source, 0) + 1
            pending.append(source)
    return sorted(taken)


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
    opdef = op._opdef
    if opdef.stateful or opdef.ref_input:
        return False
    return not op._attrs or not updates_variables(op)  # only a function-holding op may write from inside


def _fused(run: list[Any], read_later: set[int], on_gpu: bool, tensors_of_slot: dict[int, Tensor],
           small_stays: bool, views: Sequence[Any] = (), epilogue: Any = None) -> Any:
    """The fused step for ``views`` (run first), ``run`` (the region) and ``epilogue`` (a reduction of the
    region's one result); its outputs are the results in ``read_later`` (read after the run, or fetched),
    or the reduction's. None where the region should stay unfused."""
    from gpugraph.compiler.fused_step import FusedRegion
    from gpugraph.fusion import NotFusible, Ref, Region, RegionInput, RegionNode
    from gpugraph.fusion.reduction import reduction_of
    from gpugraph.fusion.region import _code_attrs, _static_shape, check_node, tensor_dtype

    members = [*views, *run] + ([epilogue] if epilogue is not None else [])
    local: dict[int, int] = {}  # slot -> local index
    inputs: list[int] = []
    produced: set[int] = set()
    for step in members:
        for slot in step.inputs:
            if slot not in local and slot not in produced:
                local[slot] = len(inputs)
                inputs.append(slot)
        produced.update(step.outputs)
    for k, step in enumerate(views):
        local[step.outputs[0]] = len(inputs) + k
    region_slots: list[int] = []  # what the region reads from outside it, in order of first use
    made = {step.outputs[0] for step in run}
    for step in run:
        for slot in step.inputs:
            if slot not in made and slot not in region_slots:
                region_slots.append(slot)
    if small_stays and all((n := static_size(_static_shape(tensors_of_slot[s]))) is not None and n < LARGE_ELEMENTS
                           for s in region_slots):
        return None  # on the CPU it would only ever run op by op: one step instead of several adds a call
    position = {slot: j for j, slot in enumerate(region_slots)}
    node_of: dict[int, int] = {}
    nodes = []
    for k, step in enumerate(run):
        op = step.op
        refs = tuple(Ref(False, node_of[s]) if s in node_of else Ref(True, position[s]) for s in step.inputs)
        dtypes = [tensor_dtype(tensors_of_slot[s]) for s in step.inputs]
        try:
            attrs = _code_attrs(op)
            result = check_node(op.type, dtypes, dict(attrs), f"'{op.name}'")
        except NotFusible:
            return None  # cannot happen for ops that passed fusible(); kept unfused to be safe
        nodes.append(RegionNode(op.type, refs, result, attrs))
        node_of[step.outputs[0]] = k
        local[step.outputs[0]] = len(inputs) + len(views) + k
    if epilogue is not None:
        results = [epilogue.inputs[0]]
        local[epilogue.outputs[0]] = len(inputs) + len(views) + len(run)
    else:
        results = [step.outputs[0] for step in run if step.outputs[0] in read_later] or [run[-1].outputs[0]]
    region = Region(tuple(RegionInput(tensor_dtype(tensors_of_slot[s]), _static_shape(tensors_of_slot[s]))
                          for s in region_slots),
                    tuple(nodes), tuple(Ref(False, node_of[s]) for s in results))
    reduction = None if epilogue is None else reduction_of(epilogue.op)
    layout = FusedRegion(region, len(views), tuple(local[s] for s in region_slots), reduction,
                         () if epilogue is None else tuple(local[s] for s in epilogue.inputs[1:]))
    step_outputs = [epilogue.outputs[0]] if epilogue is not None else results
    ops = tuple(s.op for s in members)
    operand_lists = tuple(tuple(local[s] for s in step.inputs) for step in members)
    group = FusionGroup(ops, operand_lists, len(inputs), tuple(local[s] for s in step_outputs), layout, on_gpu)
    return replace(members[-1], fn=None, inputs=tuple(inputs), outputs=tuple(step_outputs), ops=ops, fusion=group)
