"""The fuse pass: maximal runs of consecutive elementwise steps on one device become one step.

On a GPU the step launches one ``cupy.ElementwiseKernel`` for the whole region (gpugraph.fusion). On the
CPU it runs the region as one compiled C++ loop when its arrays are large (a NumPy call per op costs
more in memory traffic than it saves), and as the original per-op functions when they are small or no
compiler is installed; the loop is compiled once the region has run ``COMPILE_AFTER`` times with large
arrays, so a plan run once or twice never waits for the compiler. Integer division stays unfused on the
CPU: the unfused op raises on a zero divisor, as TF1's CPU kernel does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from gpugraph.framework.tensor import Operation, Tensor

ENV_FUSION = "GPUGRAPH_FUSION"  # 0: every op its own step (to compare, or to debug)
LARGE_ELEMENTS = 8192  # on the CPU, regions over fewer elements run op by op
MAX_REGION_OPS = 64  # a longer chain becomes several regions: kernel text and compile time stay small
COMPILE_AFTER = 3
_HOST_UNFUSED_INTEGER = {"FloorDiv", "FloorMod", "Div", "TruncateDiv", "TruncateMod"}


def _static_size(shape: Any) -> int | None:
    if shape is None or any(d is None for d in shape):
        return None
    size = 1
    for d in shape:
        size *= d
    return size


def _largest_input(region: Any) -> int:
    """The region input most likely to be its largest: one of unknown size, else the biggest."""
    sizes = [_static_size(i.shape) for i in region.inputs]
    unknown = [k for k, n in enumerate(sizes) if n is None]
    return unknown[0] if unknown else max(range(len(sizes)), key=lambda k: sizes[k])


def fusion_enabled() -> bool:
    return os.environ.get(ENV_FUSION, "1").strip() not in ("0", "false")


@dataclass(frozen=True)
class Member:
    """One op of a fused step: its function and where its operands and result live among the step's
    locals (the step's inputs first, then each member's result)."""

    op: Operation
    fn: Callable[..., Any]
    operands: tuple[int, ...]


class FusedStep:
    """The function of a fused step: ``fused(*inputs)`` -> its outputs (one value, or a tuple)."""

    def __init__(self, members: Sequence[Member], n_inputs: int, outputs: tuple[int, ...], region: Any,
                 on_gpu: bool):
        self.members = tuple(members)
        self.ops = tuple(m.op for m in members)
        self.n_inputs = n_inputs
        self.outputs = outputs  # local indices of the step's outputs
        self.region = region
        self.on_gpu = on_gpu
        self._compiled: Any = None
        self._large_runs = 0
        self._small: Callable[..., Any] | None = None  # generated on the second small call, as runners compile
        self._small_calls = 0
        self._probe = _largest_input(region)  # the input whose size tells whether the region is large

    def __call__(self, *xs: Any) -> Any:
        if self.on_gpu:
            from gpugraph.fusion import run_on_device

            try:
                outs = run_on_device(self.region, *xs)
            except ValueError:  # run-time shapes that do not share one iteration space
                return self._op_by_op(xs)
            return outs[0] if len(outs) == 1 else outs
        if xs[self._probe].size >= LARGE_ELEMENTS:
            compiled = self._compiled or self._compile()
            if compiled is not None:
                try:
                    outs = compiled(*xs)
                except ValueError:  # run-time shapes that do not share one iteration space
                    return self._op_by_op(xs)
                return outs[0] if len(outs) == 1 else outs
        small = self._small
        if small is None:
            self._small_calls += 1
            if self._small_calls == 1:
                return self._op_by_op(xs)
            small = self._small = self._straight_line()
        try:
            return small(*xs)
        except Exception:
            return self._op_by_op(xs)  # again, one op at a time, to say which op failed on what

    def _straight_line(self) -> Callable[..., Any]:
        """The members as one generated function: small arrays cost what the unfused steps cost."""
        names = [f"v{i}" for i in range(self.n_inputs + len(self.members))]
        env: dict[str, Any] = {}
        lines = [f"def run({', '.join(names[:self.n_inputs])}):"]
        for k, member in enumerate(self.members):
            env[f"f{k}"] = member.fn
            args = ", ".join(names[i] for i in member.operands)
            lines.append(f"    {names[self.n_inputs + k]} = f{k}({args})")
        result = ", ".join(names[i] for i in self.outputs)
        lines.append(f"    return {result}" + ("," if len(self.outputs) > 1 else ""))
        exec(compile("\n".join(lines), "<gpugraph fused region>", "exec"), env)  # slot numbers only
        return env["run"]

    def _compile(self) -> Any:
        self._large_runs += 1
        if self._large_runs < COMPILE_AFTER:
            return None
        from gpugraph.fusion import compiled

        if not compiled.available():
            self._large_runs = -(1 << 62)  # never again
            return None
        try:
            self._compiled = compiled.CompiledRegion(self.region)
        except (RuntimeError, OSError):  # a compiler that fails here: the ops still run one by one
            self._large_runs = -(1 << 62)
            return None
        return self._compiled

    def _op_by_op(self, xs: tuple[Any, ...]) -> Any:
        env = list(xs)
        for member in self.members:
            args = [env[i] for i in member.operands]
            try:
                env.append(member.fn(*args))
            except Exception as e:  # run errors name the op and its inputs, not the region
                e.gpugraph_step = (member.op, args)  # type: ignore[attr-defined]
                raise
        if len(self.outputs) == 1:
            return env[self.outputs[0]]
        return tuple(env[i] for i in self.outputs)


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
    size = _static_size(t.shape.as_tuple())
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
    if not on_gpu and all((n := _static_size(_static_shape(tensors_of_slot[s]))) is not None and n < LARGE_ELEMENTS
                          for s in inputs):
        return None  # on the CPU it would only ever run op by op: one step instead of several adds a call
    members, nodes = [], []
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
        members.append(Member(op, step.fn, operands))
        local[step.outputs[0]] = len(inputs) + k
    results = [step.outputs[0] for step in run if step.outputs[0] in read_later]
    if not results:
        results = [run[-1].outputs[0]]
    region = Region(tuple(RegionInput(tensor_dtype(tensors_of_slot[s]),
                                      _static_shape(tensors_of_slot[s])) for s in inputs),
                    tuple(nodes), tuple(Ref(False, local[s] - len(inputs)) for s in results))
    fn = FusedStep(members, len(inputs), tuple(local[s] for s in results), region, on_gpu=on_gpu)
    return replace(run[-1], fn=fn, inputs=tuple(inputs), outputs=tuple(results), ops=tuple(s.op for s in run))
