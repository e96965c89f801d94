"""Assign each scheduled op a device: plain logic over the graph and a device table.

Rules, in order (TF1's, plus a memory budget):
1. Explicit specs (``tf.device``) win: the first device of the table that matches. A spec that
   nothing matches, or a GPU spec on an op without a GPU kernel, is an InvalidArgumentError,
   unless soft placement is allowed: then the op goes to a device of the kind asked for when
   one exists and can run it, else to its default device. A spec naming another job, replica
   or task fails even then, as in TF1.
2. Colocation: a variable decides the device of its group: the ops writing it in place (ref
   inputs: Assign, AssignAdd, optimizer updates), the ops reading it directly (its "read"
   Identity), and its optimizer slots. A slot is a variable named "<primary>/<more>" where
   "<primary>" names another variable op of the same graph (longest such prefix) and that asks
   for no other device: TF1 names slots "w/Momentum", "w/Adam_1" and creates them on their
   primary's device. A member with no GPU kernel (IsVariableInitialized only asks the session
   whether the cell is set) runs on the CPU instead.
3. Default: GPU:0 when the table has a GPU and the op has a GPU kernel, else the CPU.
   Placeholders go where their first consumer runs (feeds are copied once, to where they are
   used); ops with no outputs (NoOp) run nothing and stay on the CPU.
4. Memory: per GPU, the bytes of its variables plus the peak of live intermediates (see
   sizes.py) must fit its budget. Otherwise, with soft placement, ops move to the CPU: at each
   step of the schedule still over budget, those making (or alone reading) the largest live
   buffers; variables, with their whole group, only when they alone exceed the budget or
   nothing else is left; explicitly placed nodes last. Without soft placement, a
   ResourceExhaustedError says what was needed.

``pinned`` (optional) maps variable ops to the device their session cell already lives on:
they stay there (reason "resident"), so a later run never strands a variable's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.device import DeviceSpec
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.runtime.devices import Device, DeviceTable
from gpugraph.runtime.sizes import DeviceMemory, MemoryReport, memory_use, resolve_shapes, variable_bytes

EXPLICIT = "explicit"
DEFAULT = "default"
NO_GPU_KERNEL = "no GPU kernel"
OVER_BUDGET = "over memory budget"
RESIDENT = "resident"
SOFT = "soft placement: "


class PlacementError(errors.InvalidArgumentError):  # type: ignore[misc, valid-type]
    """No device satisfies an op's explicit device spec (and soft placement is off)."""


@dataclass(frozen=True)
class Placement:
    device: Device
    reason: str


def has_gpu_kernel(op: Operation) -> bool:
    """The op can run on a GPU: its OpDef has a GPU lowering and no string tensor is involved."""
    if not op.opdef.gpu:
        return False
    return all(t.dtype.base_dtype != dtypes.string for t in (*op.inputs, *op.outputs))


def _is_variable(op: Operation) -> bool:
    return op.opdef.role == "variable"


def primary_variable(var_op: Operation) -> Operation:
    """The variable an optimizer slot belongs to ("w" for "w/Momentum"); itself otherwise."""
    name = var_op.name
    graph = var_op.graph
    cut = name.rfind("/")
    while cut > 0:
        try:
            candidate = graph.get_operation_by_name(name[:cut])
        except (KeyError, ValueError):
            candidate = None
        if candidate is not None and _is_variable(candidate):
            # a slot asking for a device of its own is not treated as one
            return primary_variable(candidate) if var_op.device in ("", candidate.device) else var_op
        cut = name.rfind("/", 0, cut)
    return var_op


def _anchor(op: Operation) -> Operation | None:
    """The variable whose group ``op`` belongs to, if any."""
    if _is_variable(op):
        return primary_variable(op)
    if op.opdef.ref_input and _is_variable(op.inputs[0].op):
        return primary_variable(op.inputs[0].op)
    if len(op.inputs) == 1 and op.inputs[0].dtype.is_ref and _is_variable(op.inputs[0].op):
        return primary_variable(op.inputs[0].op)  # a direct read of the variable's buffer
    return None


def _explicit_type(spec: str) -> bool:
    return bool(spec) and DeviceSpec.from_string(spec).device_type is not None


class _Placer:
    def __init__(self, order: Sequence[Operation], table: DeviceTable, soft: bool,
                 pinned: Mapping[Operation, Device]):
        self.order = list(order)
        self.table = table
        self.soft = soft
        self.pinned = {op: d for op, d in pinned.items() if d.name in table.names()}
        self.index = {op: i for i, op in enumerate(self.order)}
        self.out: dict[Operation, Placement] = {}
        # variable groups: root variable -> members in order, and every variable op of the group
        self.members: dict[Operation, list[Operation]] = {}
        self.group_vars: dict[Operation, set[Operation]] = {}
        self.root_placement: dict[Operation, Placement] = {}
        self.feeds: list[Operation] = []  # placeholders that follow their first consumer

    # --- rule 1: explicit specs ---
    def _fail(self, op: Operation, message: str) -> None:
        raise PlacementError(None, op, f"Cannot assign a device for operation {op.name}: {message}")

    def _unmatched(self, op: Operation, spec: str, parsed: DeviceSpec) -> str:
        available = ", ".join(d.full_name for d in self.table.devices)
        message = (f"{{{{node {op.name}}}}} was explicitly assigned to {spec} but available devices are "
                   f"[ {available} ]. Make sure the device specification refers to a valid device.")
        if parsed.device_type == "GPU" and not self.table.gpus():
            message += " The requested device appears to be a GPU, but there are no GPU devices available."
        return message

    def explicit(self, op: Operation) -> Placement | None:
        """The placement ``op.device`` asks for; None when it leaves the choice to the defaults."""
        spec = op.device
        if not spec:
            return None
        parsed = DeviceSpec.from_string(spec)
        if not self.table.matching(DeviceSpec(parsed.job, parsed.replica, parsed.task).to_string()):
            # another job, replica or task: as in TF1, soft placement does not reach that far
            self._fail(op, self._unmatched(op, spec, parsed))
        matches = self.table.matching(spec)
        if parsed.device_type is None:
            return None  # only job/replica/task, and they name this process
        if matches and (matches[0].kind != "GPU" or has_gpu_kernel(op)):
            return Placement(matches[0], EXPLICIT)
        if matches:
            message = (f"Could not satisfy explicit device specification '{spec}' because no supported kernel "
                       f"for GPU devices is available (no GPU kernel for op type '{op.type}').")
            short = f"no GPU kernel for {op.type} on {matches[0].name}"
        else:
            message = self._unmatched(op, spec, parsed)
            short = (f"no GPU devices available for '{spec}'" if parsed.device_type == "GPU" and not self.table.gpus()
                     else f"no device matches '{spec}'")
        if not self.soft:
            self._fail(op, message + " Set allow_soft_placement=True in the session config to let it run elsewhere.")
        same_kind = [d for d in self.table.devices if d.kind == parsed.device_type]
        if same_kind and (same_kind[0].kind != "GPU" or has_gpu_kernel(op)):
            return Placement(same_kind[0], SOFT + short)
        return Placement(self.default(op).device, SOFT + short)

    # --- rule 3: defaults ---
    def default(self, op: Operation) -> Placement:
        gpus = self.table.gpus()
        if not op.outputs:
            return Placement(self.table.cpu(), DEFAULT)
        if not gpus:
            return Placement(self.table.cpu(), DEFAULT)
        if not has_gpu_kernel(op):
            return Placement(self.table.cpu(), NO_GPU_KERNEL)
        return Placement(gpus[0], DEFAULT)

    def own(self, op: Operation) -> Placement:
        return self.explicit(op) or self.default(op)

    # --- rule 2: variable groups ---
    def build_groups(self) -> None:
        for op in self.order:
            root = _anchor(op)
            if root is None:
                continue
            if not _is_variable(op) and op.opdef.ref_input == 0 and op.device and root.device != op.device:
                continue  # a read explicitly placed elsewhere: it copies the value there
            self.members.setdefault(root, []).append(op)
        for op in self.order:  # the variables this run keeps: run, written or read by it
            for v in [op, *(t.op for t in op.inputs)]:
                if _is_variable(v) and primary_variable(v) in self.members:
                    self.group_vars.setdefault(primary_variable(v), set()).add(v)
        for root in self.members:
            if root in self.pinned:
                self.root_placement[root] = Placement(self.pinned[root], RESIDENT)
            else:
                self.root_placement[root] = self.own(root)

    def place_group(self, root: Operation, device: Device, moved: str | None = None) -> None:
        root_pl = self.root_placement[root]
        if moved is not None:
            root_pl = self.root_placement[root] = Placement(device, moved)
        for op in self.members[root]:
            if op is root:
                self.out[op] = root_pl
                continue
            reason = moved or f"colocated with {root.name}"
            if device.kind == "GPU" and not has_gpu_kernel(op):
                self.out[op] = Placement(self.table.cpu(), NO_GPU_KERNEL)
                continue
            if op.device and op.device != root.device and _explicit_type(op.device) \
                    and device not in self.table.matching(op.device):
                if not self.soft:
                    raise PlacementError(
                        None, op, f"Cannot colocate nodes '{op.name}' and '{root.name}': '{op.name}' asks for "
                                  f"device '{op.device}' but writes variable '{root.name}', which is on "
                                  f"{device.name}. Set allow_soft_placement=True to place it with the variable.")
                reason = SOFT + f"colocated with {root.name}"
            self.out[op] = Placement(device, reason)

    # --- placeholders follow their first consumer ---
    def place_feeds(self, feeds: list[Operation]) -> None:
        for op in feeds:
            users = [u for t in op.outputs for u in t.consumers() if u in self.index]
            if not users:
                self.out[op] = self.default(op)
                continue
            first = min(users, key=self.index.__getitem__)
            self.out[op] = Placement(self.out[first].device, f"colocated with {first.name}")

    def variable_devices(self) -> dict[Operation, Device]:
        return {v: self.root_placement[root].device for root, vs in self.group_vars.items() for v in vs}

    def run(self) -> None:
        self.build_groups()
        grouped = {op for ms in self.members.values() for op in ms}
        for op in self.order:
            if op in grouped:
                continue
            if op.opdef.role == "feed" and not op.device:
                self.feeds.append(op)
                continue
            self.out[op] = self.own(op)
        for root in self.members:
            self.place_group(root, self.root_placement[root].device)
        self.place_feeds(self.feeds)


def place(order: Sequence[Operation], table: DeviceTable, *, allow_soft_placement: bool = True,
          feed_shapes: Mapping[Tensor, tuple[int, ...]] | None = None,
          fetches: Iterable[Tensor | Operation] | None = None,
          pinned: Mapping[Operation, Device] | None = None) -> dict[Operation, Placement]:
    """A device and the reason for it, for each op of ``order`` (a schedule), in that order.

    ``feed_shapes`` resolves unknown dimensions for the memory estimate; ``fetches`` (optional)
    keeps those tensors alive to the end (without it, every output nothing consumes is).
    """
    placer = _Placer(order, table, allow_soft_placement, pinned or {})
    placer.run()
    _fit_memory(placer, feed_shapes or {}, fetches)
    return {op: placer.out[op] for op in placer.order}


def memory_report(order: Sequence[Operation], placements: Mapping[Operation, Placement], *,
                  feed_shapes: Mapping[Tensor, tuple[int, ...]] | None = None,
                  fetches: Iterable[Tensor | Operation] | None = None) -> MemoryReport:
    """Per-device bytes (variables + peak of intermediates) of ``order`` as placed."""
    device_of = {op: p.device for op, p in placements.items()}
    variables = {op: device_of[op] for op in order if _is_variable(op)}
    for op in sorted(order, key=lambda o: (not o.opdef.ref_input, not has_gpu_kernel(o))):  # writers: with it
        for t in op.inputs:
            if _is_variable(t.op):  # a variable written or read but not itself in the run
                variables.setdefault(t.op, device_of[op])
    feed_shapes = feed_shapes or {}
    fetched = None if fetches is None else [f for f in fetches if isinstance(f, Tensor)]
    return memory_use(order, device_of, variables, resolve_shapes(order, feed_shapes),
                      fed=feed_shapes.keys(), fetched=fetched)


def _fit_memory(placer: _Placer, feed_shapes: Mapping[Tensor, tuple[int, ...]],
                fetches: Iterable[Tensor | Operation] | None) -> None:
    shapes = resolve_shapes(placer.order, feed_shapes)
    fetched = None if fetches is None else [f for f in fetches if isinstance(f, Tensor)]
    # each round moves at least one node or stops, so this bound is never what ends the loop
    for _ in range(len(placer.order) + len(placer.members) + 1):
        device_of = {op: p.device for op, p in placer.out.items()}
        report = memory_use(placer.order, device_of, placer.variable_devices(), shapes,
                            fed=feed_shapes.keys(), fetched=fetched)
        over = [m for m in report.devices.values() if m.over_budget]
        if not over:
            return
        mem = over[0]
        if not placer.soft or not _Relief(placer, mem, report.intervals.get(mem.device.name, [])).run():
            _exhausted(mem, report, placer.soft)
        placer.place_feeds(placer.feeds)


class _Relief:
    """One pass over a device's timeline moving nodes to the CPU wherever it is over budget.

    Variables go first when they alone exceed the budget (largest group first). Then, at each
    step still over, the largest buffers alive there leave: the op producing one, or for a copy
    of a value made elsewhere, the ops using it here. What the user placed explicitly moves only
    when nothing else can. Estimates are rough (a moved op's users may copy its value back);
    the caller recomputes and calls again until the device fits or nothing can move.
    """

    def __init__(self, placer: _Placer, mem: DeviceMemory, intervals: list[tuple[int, int, Tensor, int]]):
        self.placer = placer
        self.device = mem.device
        self.avail = (mem.device.memory_budget or 0) - mem.variable_bytes
        self.intervals = intervals
        self.moved = False
        self.gone: set[Operation] = set()
        grouped = {op for ms in placer.members.values() for op in ms}
        follow = set(placer.feeds)
        on_device = [op for op in placer.order if placer.out[op].device == self.device]
        self.movable = {op for op in on_device if op not in grouped and op not in follow}
        # who reads a copy made for this device: moving them all frees the copy
        self.readers: dict[Tensor, list[Operation]] = {}
        for op in on_device:
            for t in op.inputs:
                if t.op not in placer.out or placer.out[t.op].device != self.device:
                    self.readers.setdefault(t, []).append(op)

    def tier(self, op: Operation) -> int:
        return int(self.placer.out[op].reason == EXPLICIT)

    def move(self, op: Operation) -> None:
        reason = OVER_BUDGET if self.tier(op) == 0 else SOFT + OVER_BUDGET
        self.placer.out[op] = Placement(self.placer.table.cpu(), reason)
        self.movable.discard(op)
        self.gone.add(op)
        self.moved = True

    def move_groups(self, need: int) -> int:
        """Move variable groups off the device, largest first, until ``need`` bytes are freed."""
        placer = self.placer
        groups = [(int(p.reason == EXPLICIT), -sum(variable_bytes(v)[0] for v in placer.group_vars.get(root, ())),
                   placer.index[placer.members[root][0]], root)
                  for root, p in placer.root_placement.items() if p.device == self.device and p.reason != RESIDENT]
        freed = 0
        for tier, neg_bytes, _, root in sorted(groups):
            if freed >= need:
                break
            placer.place_group(root, placer.table.cpu(), moved=OVER_BUDGET if tier == 0 else SOFT + OVER_BUDGET)
            freed -= neg_bytes
            self.moved = True
        return freed

    def owners(self, root: Tensor) -> list[Operation]:
        """What must leave for ``root``'s buffer to leave the device."""
        producer = root.op
        if producer in self.placer.out and self.placer.out[producer].device == self.device:
            return [producer] if producer in self.movable else []
        users = self.readers.get(root, [])
        return users if users and all(u in self.movable for u in users) else []

    def run(self) -> bool:
        if self.avail < 0:
            self.avail += self.move_groups(-self.avail)
        by_start = sorted(self.intervals, key=lambda iv: iv[0])
        active: list[tuple[int, int, Tensor, int]] = []
        relieved: set[Tensor] = set()
        running = nxt = 0
        end = max((iv[1] for iv in self.intervals), default=0)
        for i in range(end + 1):
            while nxt < len(by_start) and by_start[nxt][0] <= i:
                active.append(by_start[nxt])
                running += by_start[nxt][3]
                nxt += 1
            still = []
            for iv in active:
                if iv[1] >= i:
                    still.append(iv)
                elif iv[2] not in relieved:
                    running -= iv[3]
            active = still
            if running <= self.avail:
                continue
            running -= self._relieve_at(active, relieved, running - self.avail)
            if running > self.avail:
                self.avail += self.move_groups(running - self.avail)
        return self.moved

    def _relieve_at(self, active: list[tuple[int, int, Tensor, int]], relieved: set[Tensor], excess: int) -> int:
        freed = 0
        live = sorted((iv for iv in active if iv[2] not in relieved), key=lambda iv: -iv[3])
        for allowed in (0, 1):  # what the user placed explicitly only when the rest is not enough
            for _, _, root, size in live:
                if freed >= excess:
                    return freed
                if root in relieved:
                    continue
                if root.op in self.gone:  # left already, with another buffer
                    relieved.add(root)
                    freed += size
                    continue
                ops = self.owners(root)
                if not ops or any(self.tier(op) > allowed for op in ops):
                    continue
                for op in ops:
                    self.move(op)
                relieved.add(root)
                freed += size
        return freed


def _exhausted(mem: DeviceMemory, report: MemoryReport, soft: bool) -> None:
    budget = mem.device.memory_budget
    largest = sorted(report.live_at_peak.get(mem.device.name, {}).items(), key=lambda kv: -kv[1])[:3]
    alive = ", ".join(f"{t.name} ({size} bytes)" for t, size in largest) or "none"
    hint = ("nothing more can move to the CPU" if soft
            else "set allow_soft_placement=True to let ops move to the CPU")
    raise errors.ResourceExhaustedError(
        None, None, f"Placing the graph needs {mem.total} bytes on {mem.device.name} ({mem.variable_bytes} bytes of "
                    f"variables + a peak of {mem.peak_bytes} bytes of intermediates) but its memory budget is "
                    f"{budget} bytes; largest tensors alive at the peak: {alive}; {hint}.")


def explain(placements: Mapping[Operation, Placement]) -> list[tuple[str, str, str]]:
    """(op name, device name, reason) for each placed op, in the placement's order."""
    return [(op.name, p.device.name, p.reason) for op, p in placements.items()]


def log_lines(placements: Mapping[Operation, Placement]) -> list[str]:
    """TF1's ``log_device_placement`` lines, "name: (Type): /job:localhost/replica:0/task:0/device:GPU:0",
    each followed by why the node is there: "  [reason]"."""
    return [f"{op.name}: ({op.type}): {p.device.full_name}" + (f"  [{p.reason}]" if p.reason else "")
            for op, p in placements.items()]
