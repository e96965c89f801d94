"""How many bytes a scheduled graph needs on each device: shapes resolved from the feeds,
variables held for the session, and the peak of intermediates alive at once.

Shapes: static shapes with unknown dimensions filled in from the fed shapes, by running each
op's ``infer`` again on stand-ins that carry the resolved shapes. Anything still unknown counts
as one element, with a note, so estimates err low only where the graph itself cannot tell.

Liveness: a buffer is a tensor's storage on one device. A tensor lives on its producer's device
from the producing op until its last consumer there (to the end when fetched); each other device
that consumes it holds a copy from its first to its last consumer there (fed tensors: from the
start, as feeds are copied before the first step). Outputs of ops that may return a view of
input 0 (``aliases``) and of ops writing a variable in place share the input's buffer on the
same device (see ``storage_root``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.runtime.devices import Device


class _Standin:
    """What ``infer`` reads of a tensor, with the feed-resolved shape."""

    __slots__ = ("shape", "dtype", "name", "op", "value_index")

    def __init__(self, t: Tensor, shape: TensorShape):
        self.shape = shape
        self.dtype = t.dtype
        self.name = t.name
        self.op = t.op
        self.value_index = t.value_index

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def graph(self) -> Any:
        return self.op.graph


def resolve_shapes(order: Sequence[Operation],
                   feed_shapes: Mapping[Tensor, Sequence[int]] | None = None) -> dict[Tensor, TensorShape]:
    """Each tensor met in ``order`` (inputs and outputs) with the best shape known for this run."""
    known: dict[Tensor, TensorShape] = {}
    fed = set(feed_shapes or ())
    for t, dims in (feed_shapes or {}).items():
        known[t] = TensorShape(tuple(int(d) for d in dims))
    for op in order:
        refined = False
        for t in op.inputs:
            if t not in known:
                known[t] = t.shape
            elif known[t] is not t.shape:
                refined = True
        specs = _reinfer(op, known) if refined else None
        for i, t in enumerate(op.outputs):
            if t in fed:
                continue
            shape = t.shape
            if specs is not None:
                try:
                    shape = t.shape.merge_with(specs[i])
                except ValueError:  # infer on resolved shapes disagrees: keep what the graph says
                    shape = t.shape
            known[t] = shape
    return known


def _reinfer(op: Operation, known: Mapping[Tensor, TensorShape]) -> list[TensorShape] | None:
    standins = [_Standin(t, known[t]) for t in op.inputs]
    try:
        specs = op.opdef.infer(*standins, **op._attrs)
    except Exception:  # any failure: the static shapes stand
        return None
    if specs is None:
        return None
    if isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[1], dtypes.DType):
        specs = [specs]
    try:
        shapes = [TensorShape(s) for s, _ in specs]
    except Exception:
        return None
    return shapes if len(shapes) == len(op.outputs) else None


def shape_bytes(shape: TensorShape, dtype: dtypes.DType) -> tuple[int, bool]:
    """(bytes, exact): unknown dimensions and an unknown rank count as 1."""
    dims = shape.as_tuple()
    n = 1
    exact = dims is not None
    for d in dims or ():
        if d is None:
            exact = False
        else:
            n *= d
    return n * dtype.base_dtype.size, exact


def variable_bytes(var_op: Operation) -> tuple[int, bool]:
    t = var_op.outputs[0]
    return shape_bytes(t.shape, t.dtype)


@dataclass(frozen=True)
class DeviceMemory:
    device: Device
    variable_bytes: int  # the variables kept on this device
    peak_bytes: int  # the most intermediate bytes alive at one time
    peak_index: int  # the index in ``order`` where that peak is reached (len(order): after the last op)

    @property
    def total(self) -> int:
        return self.variable_bytes + self.peak_bytes

    @property
    def over_budget(self) -> bool:
        budget = self.device.memory_budget
        return budget is not None and self.total > budget


@dataclass
class MemoryReport:
    devices: dict[str, DeviceMemory]
    # per device: buffers (keyed by the tensor that owns the storage) alive at the peak, with sizes
    live_at_peak: dict[str, dict[Tensor, int]]
    notes: list[str] = field(default_factory=list)
    # per device: every buffer as (first index, last index, owning tensor, bytes)
    intervals: dict[str, list[tuple[int, int, Tensor, int]]] = field(default_factory=dict)


def storage_root(t: Tensor, device_of: Mapping[Operation, Device], memo: dict[Tensor, Tensor],
                 shapes: Mapping[Tensor, TensorShape] | None = None) -> Tensor:
    """The tensor whose storage ``t`` uses on the device that makes it: itself, the input a view
    was taken of, or the variable an in-place write returns.

    An op that only *may* return a view (``aliases``) is taken to when its output is at least as
    large as its input (identity, reshape, transpose, broadcast) or a size is unknown; a smaller
    output counts as a new array (a reduction's is; a slice's view would keep its parent alive,
    so this errs low for a parent whose other uses end first). A chain stops at the device
    boundary: what comes from elsewhere is a copy of just that tensor.
    """
    root = memo.get(t)
    if root is not None:
        return root
    chain = [t]
    cur = t
    while True:
        op = cur.op
        dev = device_of.get(op)
        if dev is None or op.opdef.role == "variable" or not op.inputs:
            break
        if not (op.opdef.ref_input or (op.opdef.aliases and _maybe_view(cur, op.inputs[0], shapes or {}))):
            break
        cur = op.inputs[0]
        if device_of.get(cur.op) != dev:
            break  # a copy of cur made for this device, a feed, or a variable
        if cur in memo:
            cur = memo[cur]
            break
        chain.append(cur)
    for c in chain:
        memo[c] = cur
    return cur


def _maybe_view(out: Tensor, src: Tensor, shapes: Mapping[Tensor, TensorShape]) -> bool:
    out_bytes, out_exact = shape_bytes(shapes.get(out, out.shape), out.dtype)
    src_bytes, src_exact = shape_bytes(shapes.get(src, src.shape), src.dtype)
    return not (out_exact and src_exact) or out_bytes >= src_bytes


def buffer_of(t: Tensor, device: Device, device_of: Mapping[Operation, Device], memo: dict[Tensor, Tensor],
              shapes: Mapping[Tensor, TensorShape] | None = None) -> Tensor:
    """The buffer ``t`` occupies on ``device``: its producer's storage there, else its own copy."""
    if device_of.get(t.op) == device:
        return storage_root(t, device_of, memo, shapes)
    return t


def memory_use(order: Sequence[Operation], device_of: Mapping[Operation, Device],
               variables: Mapping[Operation, Device], shapes: Mapping[Tensor, TensorShape], *,
               fed: Iterable[Tensor] = (), fetched: Iterable[Tensor] | None = None) -> MemoryReport:
    """Bytes needed per device for one run of ``order`` placed by ``device_of``.

    ``variables`` maps each variable op the run touches to the device holding it; ``fetched``
    None means every output no op in ``order`` consumes is fetched (the safe assumption).
    """
    memo: dict[Tensor, Tensor] = {}
    notes: list[str] = []
    noted: set[Tensor] = set()
    # (buffer tensor, device name) -> [first touch, last touch]
    spans: dict[tuple[Tensor, str], list[int]] = {}
    devices: dict[str, Device] = {d.name: d for d in list(device_of.values()) + list(variables.values())}

    def touch(t: Tensor, device: Device, i: int) -> None:
        key = (buffer_of(t, device, device_of, memo, shapes), device.name)
        span = spans.get(key)
        if span is None:
            spans[key] = [i, i]
        else:
            span[0] = min(span[0], i)
            span[1] = max(span[1], i)

    fed_set = set(fed)
    end = len(order)
    consumed: set[Tensor] = set()
    for i, op in enumerate(order):
        dev = device_of[op]
        for t in op.inputs:
            consumed.add(t)
            touch(t, dev, i)
            if t in fed_set:
                touch(t, dev, 0)
        for t in op.outputs:
            touch(t, dev, i)
    fetch_list = [t for op in order for t in op.outputs if t not in consumed] if fetched is None else fetched
    for t in fetch_list:
        if isinstance(t, Tensor) and t.op in device_of:
            touch(t, device_of[t.op], end)

    var_bytes: dict[str, int] = {}
    for var_op, dev in variables.items():
        size, exact = variable_bytes(var_op)
        var_bytes[dev.name] = var_bytes.get(dev.name, 0) + size
        if not exact:
            notes.append(f"variable {var_op.name}: shape {var_op.outputs[0].shape} has unknown dimensions, "
                         f"counted as 1")

    intervals: dict[str, list[tuple[int, int, Tensor, int]]] = {}
    for (root, dev_name), (start, stop) in spans.items():
        var_op = root.op if root.op.opdef.role == "variable" else None
        if var_op is not None and var_op in variables and variables[var_op].name == dev_name:
            continue  # the variable itself: counted once, for the whole session
        shape = shapes.get(root, root.shape)
        size, exact = shape_bytes(shape, root.dtype)
        if not exact and root not in noted:
            noted.add(root)
            notes.append(f"{root.name}: shape {shape} has unknown dimensions, counted as 1")
        intervals.setdefault(dev_name, []).append((start, stop, root, size))

    report = MemoryReport({}, {}, notes, intervals)
    for name, dev in devices.items():
        peak, at, live = _peak(intervals.get(name, []))
        report.devices[name] = DeviceMemory(dev, var_bytes.get(name, 0), peak, at)
        report.live_at_peak[name] = live
    return report


def _peak(intervals: list[tuple[int, int, Tensor, int]]) -> tuple[int, int, dict[Tensor, int]]:
    """The largest sum of sizes of intervals covering one index, that index, and who is alive."""
    if not intervals:
        return 0, 0, {}
    deltas: dict[int, int] = {}
    for start, stop, _, size in intervals:
        deltas[start] = deltas.get(start, 0) + size
        deltas[stop + 1] = deltas.get(stop + 1, 0) - size
    running = peak = 0
    at = intervals[0][0]
    for i in sorted(deltas):
        running += deltas[i]
        if running > peak:
            peak, at = running, i
    live = {root: size for start, stop, root, size in intervals if start <= at <= stop}
    return peak, at, live
