"""Compile (fetches, feeds) into a flat ExecutionPlan: prune, order, fold constants, lower.

A plan is a list of steps over numbered value slots. Running it is one generated Python
function that calls each step's lowered function in order: no graph code on the hot path.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.compiler.cse import const_key, cse_key
from gpugraph.compiler.fuse import fuse_steps, fusion_enabled
from gpugraph.framework.func_graph import updates_variables
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import shape_fns
from gpugraph.runtime.backend import Backend
from gpugraph.runtime.host_memory import keep_freed_host_memory
from gpugraph.runtime.runner import generate_runner, releases_after

if TYPE_CHECKING:
    from gpugraph.ops.philox import PhiloxState
    from gpugraph.runtime.placer import Placement


class RunContext(Protocol):
    """Session state a plan binds to: variable cells and random streams."""

    backend: Backend

    def backend_of(self, device: str) -> Backend: ...

    def cell(self, var_op: Operation) -> Any: ...

    def rng(self, op: Operation) -> np.random.Generator: ...

    def philox(self, op: Operation) -> PhiloxState: ...


@dataclass(frozen=True)
class Step:
    op: Operation  # the op it runs (a fused step: the last of its ops)
    fn: Callable[..., Any]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    ops: tuple[Operation, ...] = ()  # a fused step's ops, in order; () for a step of one op
    kind: str = "op"  # "op", or "copy" for a transfer between devices


@dataclass(frozen=True)
class FeedSpec:
    slot: int
    tensor: Tensor
    np_dtype: np.dtype
    dims: tuple[int | None, ...] | None


@dataclass(frozen=True)
class ExecutionPlan:
    template: list[Any]  # slot values known before running: folded constants
    steps: tuple[Step, ...]
    feeds: tuple[FeedSpec, ...]
    fetch_slots: tuple[int | None, ...]  # None: an Operation fetch
    copy_on_fetch: tuple[bool, ...]  # the value may alias session or plan storage
    precheck: tuple[tuple[Operation, Any], ...]  # variables read, and not assigned, by this plan
    runner: Callable[[list[Any]], None]
    placements: Mapping[Operation, Placement] | None = None  # None: every op on the host


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


def _variable_reads(ops: list[Operation]) -> dict[Operation, set[Operation]]:
    """For each op of ``ops`` that reads a variable's storage (directly, or through ops whose output may
    alias it, such as an Identity ``read``), the variables it reads."""
    reads: dict[Operation, set[Operation]] = {}
    aliasing: dict[Tensor, Operation] = {}  # tensor -> the variable whose storage it may be
    for op in ops:  # creation order: an alias is made after what it aliases
        if op.opdef.role == "variable":
            for t in op.outputs:
                aliasing[t] = op
    for op in sorted(ops, key=lambda o: o._id):
        for t in op.inputs[op.opdef.ref_input:]:
            var = aliasing.get(t)
            if var is None:
                continue
            reads.setdefault(op, set()).add(var)
            if op.opdef.aliases and op.outputs:
                aliasing[op.outputs[0]] = var
    return reads


def _creation(op: Operation) -> int:
    return op._id


def _may_write(op: Operation) -> bool:
    return bool(op._opdef.ref_input or (op._attrs and updates_variables(op)))


def _written_variables(op: Operation) -> tuple[Operation, ...] | None:
    """The variables ``op`` writes in place; None: not known here (a loop or branch writing from inside)."""
    if op.opdef.ref_input:
        return tuple(t.op for t in op.inputs[:op.opdef.ref_input])
    return None


def schedule(ops: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """Topological order by creation among ready ops, except that an in-place write waits while a read
    of a variable it writes is still to run (unless nothing else can run): reads see the value from
    before the run's writes, and each update runs as soon as its own reads are done, so a group of
    ``assign_add(v, f(v))`` keeps one temporary alive at a time, not all of them."""
    members = set(ops)
    pending: dict[Operation, int] = {}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    in_creation_order = True  # no dependency on a later op (only a control input added later makes one)
    for op in ops:
        deps = {c for c in op._control_inputs if c in members}
        ref = op._opdef.ref_input
        for i, t in enumerate(op._inputs):
            if i >= ref and t not in fed and t.op in members:
                deps.add(t.op)
        pending[op] = len(deps)
        op_id = op._id
        for d in deps:
            users[d].append(op)
            if d._id > op_id:
                in_creation_order = False
    reads = _variable_reads(ops)
    if in_creation_order and (not reads or not any(_may_write(op) for op in ops)):
        return sorted(ops, key=_creation)  # nothing to reorder: creation order is topological
    unread: dict[Operation, int] = {}  # reads of each variable still to schedule
    for variables in reads.values():
        for var in variables:
            unread[var] = unread.get(var, 0) + 1
    all_unread = sum(unread.values())
    ready: list[tuple[int, Operation]] = []
    waiting: list[tuple[int, Operation]] = []  # writes held back by reads still to run

    def blocked(op: Operation) -> bool:
        if not updates_variables(op):
            return False
        targets = _written_variables(op)
        if targets is None:
            return all_unread > 0
        own = reads.get(op, ())
        return any(unread.get(v, 0) > (v in own) for v in targets)

    def push(op: Operation) -> None:
        heapq.heappush(waiting if blocked(op) else ready, (op._id, op))

    for op in ops:
        if pending[op] == 0:
            push(op)
    order: list[Operation] = []
    while ready or waiting:
        if not ready:  # only held-back writes can run: the reads they wait for depend on them
            _, op = heapq.heappop(waiting)
        else:
            _, op = heapq.heappop(ready)
        order.append(op)
        for var in reads.get(op, ()):
            unread[var] -= 1
            all_unread -= 1
        if waiting:  # a read done may free a held-back write
            still = [item for item in waiting if blocked(item[1])]
            for item in waiting:
                if not blocked(item[1]):
                    heapq.heappush(ready, item)
            waiting = still
            heapq.heapify(waiting)
        for u in users[op]:
            pending[u] -= 1
            if pending[u] == 0:
                push(u)
    if len(order) != len(ops):
        raise errors.InvalidArgumentError(None, None, "Graph has a cycle among the fetched ops.")
    return order


def lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    opdef = op.opdef
    if opdef.bind is not None:
        if opdef.ref_input and op._attrs.get("use_locking"):
            return _locked(opdef.bind(op, ctx), [ctx.cell(t.op) for t in op.inputs[:opdef.ref_input]])
        return opdef.bind(op, ctx)
    if opdef.impl is None:
        raise errors.UnimplementedError(None, op, f"Op '{op.name}' (type {op.type}) has no lowering.")
    attrs = op._attrs
    return functools.partial(opdef.impl, ctx.backend.xp, **attrs) if attrs else \
        functools.partial(opdef.impl, ctx.backend.xp)


def _locked(fn: Callable[..., Any], cells: Sequence[Any]) -> Callable[..., Any]:
    """``fn`` run holding the locks of the variables it updates in place (taken in one global order,
    so two steps locking the same variables cannot deadlock)."""
    locks = sorted({id(c.lock): c.lock for c in cells}.items())
    if len(locks) == 1:
        lock = locks[0][1]

        def step(*args: Any) -> Any:
            with lock:
                return fn(*args)
        return step

    def step_all(*args: Any) -> Any:
        with contextlib.ExitStack() as held:
            for _, lock in locks:
                held.enter_context(lock)
            return fn(*args)
    return step_all


# A folded value lives in the cached plan for the session's life; past this size an op computes at run time
# instead (a 256 MiB ``tf.zeros`` filling a variable once is not worth keeping beside the variable).
FOLD_LIMIT_BYTES = 1 << 20


def _foldable(op: Operation, slots: dict[Tensor, int], folded: set[int]) -> bool:
    opdef = op._opdef
    return (not opdef.stateful and opdef.bind is None and opdef.impl is not None
            and not op._control_inputs and all(slots[t] in folded for t in op._inputs)
            and (opdef.name == "Const" or _static_bytes(op) <= FOLD_LIMIT_BYTES))


def _static_bytes(op: Operation) -> int:
    """Bytes of ``op``'s outputs as the graph knows their shapes (0 for unknown shapes: checked after)."""
    total = 0
    for t in op.outputs:
        dims = t.shape.as_tuple()
        if dims is None or any(d is None for d in dims):
            continue
        total += int(np.prod(dims, dtype=np.int64)) * (t.dtype.base_dtype.np_dtype.itemsize or 8)
    return total


def _value_bytes(values: Sequence[Any]) -> int:
    return sum(int(getattr(v, "nbytes", 0)) for v in values)


def _static_shape_fact(op: Operation) -> tuple[Any] | None:
    """Shape, Size or Rank of an input whose shape the graph fixes: a constant, whatever the input's value."""
    if op.type not in ("Shape", "Size", "Rank") or op.control_inputs:
        return None
    value = shape_fns.constant_value(op.outputs[0])
    return None if value is None else (np.asarray(value),)


class DeviceContext:
    """What an op's lowering sees: the backend of its device, and the session's cells and streams."""

    __slots__ = ("backend", "_session")

    def __init__(self, session: RunContext, backend: Backend):
        self.backend = backend
        self._session = session

    def cell(self, var_op: Operation) -> Any:
        return self._session.cell(var_op)

    def backend_of(self, device: str) -> Backend:
        return self._session.backend_of(device)

    def rng(self, op: Operation) -> np.random.Generator:
        return self._session.rng(op)

    def philox(self, op: Operation) -> PhiloxState:
        return self._session.philox(op)


def compile_plan(fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor], ctx: RunContext,
                 placements: Mapping[Operation, Placement] | None = None,
                 order: Sequence[Operation] | None = None) -> ExecutionPlan:
    """The plan for ``fetches`` given ``feeds``; ``placements`` (from the placer) put ops on devices."""
    keep_freed_host_memory()  # once per process: each step's host buffers reuse the last step's pages
    fed = set(feeds)
    if order is None:
        order = schedule(needed_ops(fetches, fed), fed)
    token = _plan_ops.set(frozenset(order))
    try:
        return _PlanBuilder(fetches, feeds, fed, ctx, placements).build(order)
    finally:
        _plan_ops.reset(token)


# The ops of the plan being compiled: a lowering may ask whether an output of its op is read in it
# (a loop keeps its per-iteration values only when a gradient in the same plan reads them).
_plan_ops: contextvars.ContextVar[frozenset[Operation]] = contextvars.ContextVar("plan_ops", default=frozenset())


def ops_in_plan() -> frozenset[Operation]:
    return _plan_ops.get()


class _PlanBuilder:
    """Slots, folded constants, steps and cross-device copies, in one walk over the schedule."""

    def __init__(self, fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor], fed: set[Tensor],
                 ctx: RunContext, placements: Mapping[Operation, Placement] | None):
        self.fetches, self.feeds, self.fed, self.ctx = fetches, feeds, fed, ctx
        self.placements = placements
        self.host = ctx.backend
        self.contexts: dict[str, Any] = {self.host.device: ctx}
        self.slots: dict[Tensor, int] = {t: i for i, t in enumerate(feeds)}
        self.n_slots = len(feeds)
        self.slot_device: dict[int, str] = {i: self.host.device for i in range(len(feeds))}
        self.template: dict[int, Any] = {}
        self.folded: set[int] = set()
        self.persistent: set[int] = set(range(len(feeds)))
        self.copies: dict[tuple[int, str], int] = {}
        self.computed: dict[Any, tuple[int, ...]] = {}  # CSE key -> output slots of the op that computes it
        self.steps: list[Step] = []

    def new_slot(self, device: str) -> int:
        slot = self.n_slots
        self.n_slots += 1
        self.slot_device[slot] = device
        return slot

    def device_of(self, op: Operation) -> str:
        return self.placements[op].device.name if self.placements else self.host.device

    def context(self, device: str) -> Any:
        if device not in self.contexts:
            self.contexts[device] = DeviceContext(self.ctx, self.ctx.backend_of(device))
        return self.contexts[device]

    def on_device(self, slot: int, device: str, op: Operation) -> int:
        """``slot`` as seen on ``device``: itself, or a copy made once (at plan time for constants)."""
        src = self.slot_device[slot]
        if src == device:
            return slot
        key = (slot, device)
        if key not in self.copies:
            copy = self.new_slot(device)
            fn = _transfer(self.ctx.backend_of(src), self.ctx.backend_of(device))
            if slot in self.folded:
                self.template[copy] = fn(self.template[slot])
                self.folded.add(copy)
            else:
                self.steps.append(Step(op, fn, (slot,), (copy,), kind="copy"))
            self.copies[key] = copy
        return self.copies[key]

    def build(self, order: Sequence[Operation]) -> ExecutionPlan:
        assigned: set[Operation] = set()
        read_vars: dict[Operation, Any] = {}
        for op in order:
            if op.opdef.role == "feed":
                if any(t not in self.fed for t in op.outputs):
                    _missing_feed(op)
                continue  # its values are the feeds' slots; a control dependency on it is met by the feed
            if op.opdef.role == "initializer":
                assigned.add(op.inputs[0].op)  # may initialize the variable in this very run
            if op.opdef.role == "variable":
                read_vars[op] = self.ctx.cell(op)
            self.add(op)
        fetch_slots = tuple(self.fetch_slot(f) for f in self.fetches)
        if fusion_enabled():
            self.steps = fuse_steps(self.steps, {s for s in fetch_slots if s is not None}, self.fusion_device,
                                    self.on_cupy, self.tensors_of_slots())
        read = {s for step in self.steps for s in step.inputs} | {s for s in fetch_slots if s is not None}
        # a folded value only copied to a device, or only read while folding, is not kept
        template = [self.template.get(i) if i in read else None for i in range(self.n_slots)]
        releases = releases_after(self.steps, fetch_slots)
        hooks = self.accounting_hooks(releases, fetch_slots) if self.placements else {}
        return ExecutionPlan(
            template=template,
            steps=tuple(self.steps),
            feeds=tuple(FeedSpec(self.slots[t], t, t.dtype.base_dtype.np_dtype, t.shape.as_tuple())
                        for t in self.feeds),
            fetch_slots=fetch_slots,
            copy_on_fetch=_copy_on_fetch(fetch_slots, self.persistent),
            precheck=tuple((op, cell) for op, cell in read_vars.items() if op not in assigned),
            runner=generate_runner(self.steps, releases, hooks),
            placements=self.placements,
        )

    def accounting_hooks(self, releases: Sequence[tuple[int, ...]], fetch_slots: Sequence[int | None]
                         ) -> dict[int, Callable[[list[Any]], Any]]:
        """After each step on a device that counts its memory (the simulated GPU), report its working set:
        the slots on it still to be read, and the variables living there."""
        hooks: dict[int, Callable[[list[Any]], Any]] = {}
        released_at = {slot: i for i, dead in enumerate(releases) for slot in dead}
        born = {slot: -1 for slot in self.template}
        for i, step in enumerate(self.steps):
            for slot in step.outputs:
                born.setdefault(slot, i)
        var_cells: dict[str, list[Any]] = {}
        for op, placement in self.placements.items():
            if op.opdef.role == "variable":
                var_cells.setdefault(placement.device.name, []).append(self.ctx.cell(op))
        for i, step in enumerate(self.steps):
            device = self.device_of(step.op) if step.outputs else None
            if device is None or device not in self.slot_device.values():
                continue
            backend = self.ctx.backend_of(device)
            account = getattr(backend, "account", None)
            if account is None:
                continue
            live = tuple(slot for slot, b in born.items() if self.slot_device.get(slot) == device and b <= i
                         and released_at.get(slot, len(self.steps)) > i)
            cells = tuple(var_cells.get(device, ()))
            hooks[i] = _accounting_hook(account, live, cells, step.op.name)
        return hooks

    def add(self, op: Operation) -> None:
        outs = []
        opdef, outputs = op._opdef, op._outputs
        for t in outputs:
            # a fed output of a multi-output op gets a scratch slot: the step must not overwrite the feed
            slot = self.new_slot(self.host.device)
            if t not in self.fed:
                self.slots[t] = slot
            outs.append(slot)
        if not outputs and opdef.bind is None and opdef.impl is None:
            return  # NoOp: only orders the ops it depends on
        if opdef.name == "Const" and not op._control_inputs:  # its value is the graph's own array
            value = np.asarray(op._attrs["value"])  # no copy: the attr is an array already
            value.setflags(write=False)
            key = const_key(value)
            if key is not None:  # equal small constants share one slot, so CSE sees equal inputs
                earlier = self.computed.setdefault(key, (outs[0],))[0]
                if earlier != outs[0]:
                    self.slots[outputs[0]] = earlier
                    return
            self.template[outs[0]] = value
            self.folded.add(outs[0])
            self.persistent.add(outs[0])
            return
        data_inputs = op._inputs[opdef.ref_input:]
        static = _static_shape_fact(op)
        values = static
        if values is None and _foldable(op, self.slots, self.folded):
            ins = tuple(self.slots[t] for t in data_inputs)
            values = _fold(op, _guarded_lower(op, self.ctx), [self.template[i] for i in ins])
            if op.type != "Const" and _value_bytes(values) > FOLD_LIMIT_BYTES:
                values = None  # a shape only the value told: computed at run time, like the others
        if values is not None:
            for slot, value in zip(outs, values):
                if isinstance(value, np.ndarray):
                    value.setflags(write=False)  # shared by every run: an in-place kernel must fail loudly
                self.template[slot] = value
                self.folded.add(slot)
                self.persistent.add(slot)
            return
        device = self.device_of(op)
        for slot in outs:
            self.slot_device[slot] = device
        ins = tuple(self.on_device(self.slots[t], device, op) for t in data_inputs)
        key = cse_key(op, ins, device)
        if key is not None:
            earlier = self.computed.get(key)
            if earlier is not None:  # the same computation ran already: reuse its outputs
                for t, slot in zip(outputs, earlier):
                    if t not in self.fed:
                        self.slots[t] = slot
                return
            self.computed[key] = tuple(outs)
        fn = _guarded_lower(op, self.context(device))
        if device not in (self.host.device, "/device:GPU:0"):
            fn = _on(self.ctx.backend_of(device), fn)  # the run activates GPU:0; others switch per step
        if (op.opdef.stateful and not op.opdef.fresh_outputs) or op.opdef.ref_input or (
                op.opdef.aliases and ins and ins[0] in self.persistent):
            self.persistent.update(outs)
        self.steps.append(Step(op, fn, ins, tuple(outs)))

    def fusion_device(self, step: Step) -> str | None:
        """The device of a step whose region may fuse: the host or GPU:0 (others switch device per step)."""
        device = self.slot_device[step.outputs[0]] if step.outputs else None
        if device not in (self.host.device, "/device:GPU:0"):
            return None
        backend = self.ctx.backend_of(device)  # CuPy fuses through its ElementwiseKernel (stand-ins may lack it)
        return device if backend.name != "cupy" or hasattr(backend.xp, "ElementwiseKernel") else None

    def on_cupy(self, device: str | None) -> bool:
        return device is not None and self.ctx.backend_of(device).name == "cupy"

    def tensors_of_slots(self) -> dict[int, Tensor]:
        tensors: dict[int, Tensor] = {}
        for t, slot in self.slots.items():
            tensors.setdefault(slot, t)
        for (slot, _), copy in self.copies.items():
            if slot in tensors:
                tensors[copy] = tensors[slot]
        return tensors

    def fetch_slot(self, fetch: Tensor | Operation) -> int | None:
        if not isinstance(fetch, Tensor):
            return None
        return self.on_device(self.slots[fetch], self.host.device, fetch.op)


def _copy_on_fetch(fetch_slots: Sequence[int | None], persistent: set[int]) -> tuple[bool, ...]:
    """Fetches handed over as copies: values that outlive the run, and a slot fetched a second time
    (two fetches computing the same value must not be one array)."""
    seen: set[int] = set()
    out = []
    for slot in fetch_slots:
        out.append(slot is not None and (slot in persistent or slot in seen))
        if slot is not None:
            seen.add(slot)
    return tuple(out)


def _on(backend: Backend, fn: Callable[..., Any]) -> Callable[..., Any]:
    def step(*args: Any) -> Any:
        with backend.activate():
            return fn(*args)
    return step


def _accounting_hook(account: Callable[..., Any], live: tuple[int, ...], cells: tuple[Any, ...],
                     what: str) -> Callable[[list[Any]], Any]:
    def hook(s: list[Any]) -> Any:
        return account([s[j] for j in live] + [c.value for c in cells if c.value is not None], what)
    return hook


def _transfer(src: Backend, dst: Backend) -> Callable[[Any], Any]:
    if src.is_host:
        return dst.to_device
    if dst.is_host:
        return src.to_host
    return lambda array: dst.to_device(src.to_host(array))


def _guarded_lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    try:
        return lower(op, ctx)
    except errors.OpError:
        raise
    except Exception as e:  # a bad attr surfaces here, at plan time
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e


def _fold(op: Operation, fn: Callable[..., Any], args: list[Any]) -> tuple[Any, ...]:
    try:
        with np.errstate(all="ignore"):
            out = fn(*args)
    except Exception as e:
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e
    return tuple(out) if len(op.outputs) > 1 else (out,)


def _missing_feed(op: Operation) -> None:
    t = op.outputs[0]
    dims = t.shape.as_tuple()
    shape = "<unknown>" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
    raise errors.InvalidArgumentError(
        None, op,
        f"You must feed a value for placeholder tensor '{op.name}' with dtype {t.dtype.name} "
        f"and shape {shape}")
