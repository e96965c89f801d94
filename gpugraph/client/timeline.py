"""``tf.client.timeline``: a traced run's StepStats as a Chrome trace (chrome://tracing, Perfetto).

    run_metadata = tf.RunMetadata()
    sess.run(train, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_metadata)
    trace = timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format()

The trace has TF1's layout: an "Allocators" process, then per device a "<device> Compute" process (one
lane per set of overlapping steps) and a "<device> Tensors" process; an "X" region per step named by
its op type with the node name and inputs as args; flow arrows from a tensor's producer to consumers
on another lane or device; with ``show_memory``, tensor lifetimes and a bytes-in-use counter per
allocator. It reads gpugraph's StepStats and TensorFlow's alike (the same field names).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Timeline", "AllocationMaximum", "StepStatsAnalysis"]


class AllocationMaximum(NamedTuple):
    """The most bytes an allocator held during the step, when, and the tensors it held then."""

    timestamp: int
    num_bytes: int
    tensors: set[str]


class StepStatsAnalysis(NamedTuple):
    chrome_trace: _ChromeTrace
    allocator_maximums: dict[str, AllocationMaximum]


class _ChromeTrace:
    """Events in the Chrome trace format: metadata first, then the rest in the order emitted."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def process(self, name: str, pid: int) -> None:
        self.metadata.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}})

    def event(self, ph: str, category: str, name: str, pid: int, tid: int, ts: int, **extra: Any) -> None:
        self.events.append({"ph": ph, "cat": category, "name": name, "pid": pid, "tid": tid, "ts": ts, **extra})

    def format_to_string(self, pretty: bool = False) -> str:
        trace = {"traceEvents": self.metadata + self.events}
        if pretty:
            return json.dumps(trace, indent=4, separators=(",", ": "))
        return json.dumps(trace, separators=(",", ":"))


@dataclass
class _Tensor:
    name: str
    object_id: int
    created: int
    pid: int
    allocator: str
    num_bytes: int
    unrefs: list[int] = field(default_factory=list)


_OP_LABEL = re.compile(r"(.*) = (.*)\((.*)\)")


def _op_label(label: str) -> tuple[str, list[str]]:
    """(op type, input names) from a label "name = Op(in1, in2)"."""
    found = _OP_LABEL.match(label)
    if found is None:
        return "unknown", []
    _, op, inputs = found.groups()
    return op, inputs.split(", ") if inputs else []


def _kernel_label(label: str, node_name: str) -> tuple[str, str]:
    """(node, op) of a GPU tracer entry: "retval (arg) detail @@node:Op#..." or its node_name "node:Op"."""
    start, end = label.find("@@"), label.find("#")
    if start >= 0 and end >= 0 and start + 2 < end:
        node_name = label[start + 2:end]
    name, op = (node_name.split(":") + ["unknown"])[:2]
    return name, op


def _is_gpu_trace(device: str) -> bool:
    return "/stream:" in device or "/memcpy" in device


class Timeline:
    """``Timeline(step_stats, graph=None)``: the trace of one traced run."""

    def __init__(self, step_stats: Any, graph: Any = None):
        self._origin = step_stats
        self._graph = graph
        self._stats: Any = None
        self._trace = _ChromeTrace()
        self._next_pid = 0
        self._device_pids: dict[str, int] = {}
        self._tensor_pids: dict[str, int] = {}
        self._tensors: dict[str, _Tensor] = {}
        self._flow_starts: dict[str, tuple[int, int, int]] = {}
        self._next_flow = 0
        self._allocators_pid = 0
        self._maximums: dict[str, AllocationMaximum] = {}

    def _pid(self) -> int:
        self._next_pid += 1
        return self._next_pid - 1

    def _prepare(self, op_time: str) -> None:
        """Step times as ``op_time`` asks: "schedule" (as recorded), "gpu" or "all" (stretched over the
        GPU tracer's kernels of each node)."""
        if op_time not in ("schedule", "gpu", "all"):
            raise ValueError(f"op_time must be 'schedule', 'gpu' or 'all', got {op_time!r}")
        if op_time == "schedule":
            self._stats = self._origin
            return
        self._stats = copy.deepcopy(self._origin)
        kernels: dict[str, tuple[int, int]] = {}
        for dev in self._stats.dev_stats:
            if "/stream:all" not in dev.device:
                continue
            for k in dev.node_stats:
                name, _ = _kernel_label(k.timeline_label, k.node_name)
                start, end = k.all_start_micros, k.all_start_micros + k.all_end_rel_micros
                lo, hi = kernels.get(name, (start, end))
                kernels[name] = (min(lo, start), max(hi, end))
        for dev in self._stats.dev_stats:
            if "/stream:all" in dev.device or "/job" not in dev.device:
                continue
            for ns in dev.node_stats:
                if ns.node_name in kernels:
                    start, end = kernels[ns.node_name]
                    end = max(end, ns.all_start_micros + ns.all_end_rel_micros)
                    if op_time == "gpu":
                        ns.all_start_micros = start
                    ns.all_end_rel_micros = end - ns.all_start_micros

    def _assign_pids(self) -> None:
        self._allocators_pid = self._pid()
        self._trace.process("Allocators", self._allocators_pid)
        for dev in self._stats.dev_stats:
            self._device_pids[dev.device] = self._pid()
            self._tensor_pids[dev.device] = self._pid()
            self._trace.process(dev.device + " Compute", self._device_pids[dev.device])
            self._trace.process(dev.device + " Tensors", self._tensor_pids[dev.device])

    def _assign_lanes(self) -> None:
        """Each step goes on the first lane free at its start: overlapping steps get lanes of their own."""
        for dev in self._stats.dev_stats:
            lanes = [0]
            for ns in dev.node_stats:
                lane = next((i for i, busy_until in enumerate(lanes) if ns.all_start_micros > busy_until), None)
                if lane is None:
                    lane = len(lanes)
                    lanes.append(0)
                lanes[lane] = ns.all_start_micros + ns.all_end_rel_micros
                ns.thread_id = lane

    def _track_outputs(self, show_memory: bool) -> None:
        for dev in self._stats.dev_stats:
            device_pid, tensors_pid = self._device_pids[dev.device], self._tensor_pids[dev.device]
            for ns in dev.node_stats:
                start, end = ns.all_start_micros, ns.all_start_micros + ns.all_end_rel_micros
                for index, output in enumerate(ns.output):
                    name = f"{ns.node_name}:{index}" if index else ns.node_name
                    allocation = output.tensor_description.allocation_description
                    tensor = _Tensor(name, len(self._tensors), start, tensors_pid, allocation.allocator_name,
                                     allocation.requested_bytes)
                    self._tensors[name] = tensor
                    tensor.unrefs.append(end)
                    self._flow_starts[name] = (end, device_pid, ns.thread_id)
                    if show_memory:
                        self._trace.event("N", "Tensor", name, tensors_pid, ns.thread_id, start,
                                          id=tensor.object_id)
                        description = str(output.tensor_description).replace('"', "")
                        self._trace.event("O", "Tensor", name, tensors_pid, ns.thread_id, end - 1,
                                          id=tensor.object_id, args={"snapshot": {"tensor_description": description}})

    def _show_compute(self, show_dataflow: bool) -> None:
        for dev in self._stats.dev_stats:
            pid = self._device_pids[dev.device]
            gpu_trace = _is_gpu_trace(dev.device)
            for ns in dev.node_stats:
                start, end = ns.all_start_micros, ns.all_start_micros + ns.all_end_rel_micros
                name, inputs = ns.node_name, []
                if gpu_trace:
                    name, op = _kernel_label(ns.timeline_label, name)
                elif name == "RecvTensor":
                    op = "RecvTensor"
                else:
                    op, inputs = _op_label(ns.timeline_label)
                args = {"name": name, "op": op, **{f"input{i}": n for i, n in enumerate(inputs)}}
                self._trace.event("X", "Op", op, pid, ns.thread_id, start, dur=ns.all_end_rel_micros, args=args)
                if gpu_trace or name == "RecvTensor":
                    continue
                for input_name in inputs:
                    if input_name not in self._tensors and input_name.rfind("/_") > 0:
                        input_name = input_name[:input_name.rfind("/_")]  # a Send/Recv's copy of the tensor
                    tensor = self._tensors.get(input_name)
                    if tensor is None:
                        continue
                    tensor.unrefs.append(end - 1)
                    made_at, made_pid, made_tid = self._flow_starts[input_name]
                    if show_dataflow and (made_pid, made_tid) != (pid, ns.thread_id):
                        flow = self._next_flow
                        self._next_flow += 1
                        self._trace.event("s", "DataFlow", input_name, made_pid, made_tid, made_at, id=flow)
                        self._trace.event("t", "DataFlow", input_name, pid, ns.thread_id, start, id=flow)

    def _show_memory_counters(self) -> None:
        changes: dict[str, list[tuple[int, int, str]]] = {}
        for name, tensor in self._tensors.items():
            last_use = max(tensor.unrefs)
            self._trace.event("D", "Tensor", name, tensor.pid, 0, last_use, id=tensor.object_id)
            changes.setdefault(tensor.allocator, []).extend(
                [(tensor.created, tensor.num_bytes, name), (last_use, -tensor.num_bytes, name)])
        for allocator, events in changes.items():
            total, held = 0, set()
            best = AllocationMaximum(0, 0, set())
            for when, delta, name in sorted(events, key=lambda e: e[0]):
                total += delta
                (held.discard if delta < 0 else held.add)(name)
                if total > best.num_bytes:
                    best = AllocationMaximum(when, total, set(held))
                self._trace.event("C", "Memory", allocator, self._allocators_pid, 0, when, args={allocator: total})
            self._maximums[allocator] = best

    def analyze_step_stats(self, show_dataflow: bool = True, show_memory: bool = True,
                           op_time: str = "schedule") -> StepStatsAnalysis:
        self._prepare(op_time)
        self._assign_pids()
        self._assign_lanes()
        self._track_outputs(show_memory)
        self._show_compute(show_dataflow)
        if show_memory:
            self._show_memory_counters()
        return StepStatsAnalysis(self._trace, self._maximums)

    def generate_chrome_trace_format(self, show_dataflow: bool = True, show_memory: bool = False,
                                     op_time: str = "schedule") -> str:
        """The trace as JSON text (indented, as TF1 writes it)."""
        return self.analyze_step_stats(show_dataflow, show_memory, op_time).chrome_trace.format_to_string(pretty=True)
