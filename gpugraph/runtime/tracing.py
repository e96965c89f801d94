"""Traced runs: ``Session.run(options=RunOptions(trace_level=...), run_metadata=...)`` fills step_stats.

``StepStats`` and ``RunMetadata`` are protobuf messages with TF's field names and numbers (the subset
gpugraph fills), so their bytes read as TF's RunMetadata in TensorBoard. A traced run executes the
same steps through a runner with a clock reading after each step; on a GPU the times are host times
(kernel launches are asynchronous).
"""

from __future__ import annotations

import functools
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from gpugraph.compiler.codegen import generate_runner

if TYPE_CHECKING:
    from gpugraph.compiler.ir import ExecutionPlan

__all__ = ["step_stats_classes", "run_traced", "HOST_DEVICE"]

HOST_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"

_INT64, _INT32, _UINT32, _STRING, _MESSAGE = 3, 5, 13, 9, 11
_OPTIONAL, _REPEATED = 1, 3
_MESSAGES = {
    "NodeExecStats": [("node_name", 1, _STRING), ("all_start_micros", 2, _INT64), ("op_start_rel_micros", 3, _INT64),
                      ("op_end_rel_micros", 4, _INT64), ("all_end_rel_micros", 5, _INT64),
                      ("output", 7, "NodeOutput"), ("timeline_label", 8, _STRING),
                      ("scheduled_micros", 9, _INT64), ("thread_id", 10, _UINT32),
                      ("all_start_nanos", 13, _INT64), ("op_start_rel_nanos", 14, _INT64),
                      ("op_end_rel_nanos", 15, _INT64), ("all_end_rel_nanos", 16, _INT64),
                      ("scheduled_nanos", 17, _INT64)],
    "NodeOutput": [("slot", 1, _INT32), ("tensor_description", 3, "TensorDescription")],
    "TensorDescription": [("allocation_description", 4, "AllocationDescription")],
    "AllocationDescription": [("requested_bytes", 1, _INT64), ("allocated_bytes", 2, _INT64),
                              ("allocator_name", 3, _STRING)],
    "DeviceStepStats": [("device", 1, _STRING), ("node_stats", 2, "NodeExecStats")],
    "StepStats": [("dev_stats", 1, "DeviceStepStats")],
    "RunMetadata": [("step_stats", 1, "StepStats")],
}
_REPEATED_FIELDS = {"node_stats", "dev_stats", "output"}


@functools.cache
def step_stats_classes() -> dict[str, type]:
    """The message classes by name: NodeExecStats, DeviceStepStats, StepStats, RunMetadata."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    package = "gpugraph.tracing"
    proto = descriptor_pb2.FileDescriptorProto(name="gpugraph/step_stats.proto", package=package, syntax="proto3")
    for message, message_fields in _MESSAGES.items():
        m = proto.message_type.add(name=message)
        for name, number, kind in message_fields:
            f = m.field.add(name=name, number=number, json_name=_camel(name))
            f.label = _REPEATED if name in _REPEATED_FIELDS else _OPTIONAL
            if isinstance(kind, str):
                f.type, f.type_name = _MESSAGE, f".{package}.{kind}"
            else:
                f.type = kind
    pool = descriptor_pool.DescriptorPool()  # a pool of our own: no clash with TF's or TensorBoard's names
    pool.Add(proto)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
            for name in _MESSAGES}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def run_traced(plan: ExecutionPlan, run: Callable[[Callable[[list[Any]], None]], None], replay: bool = False) -> Any:
    """Runs ``plan``'s steps through ``run(runner)``, timing each; returns a StepStats. ``replay``: the
    steps whose GPU segments replay as CUDA graphs (one entry per graph launch)."""
    steps = plan.replay_steps if replay and plan.replay_steps is not None else plan.steps
    releases = _releases(steps, plan.fetch_slots) if steps is not plan.steps else plan.releases
    n = len(steps)
    stamps = [0] * (n + 1)
    sizes: list[tuple[int, ...]] = [()] * n  # bytes of each step's outputs, read as the step ends
    hooks = {i: _stamp(stamps, sizes, i, steps[i].outputs) for i in range(n)}
    runner = generate_runner(steps, releases, hooks)
    wall_start = time.time_ns()
    stamps[0] = time.perf_counter_ns()
    run(runner)
    return _step_stats(plan, steps, stamps, sizes, wall_start)


def _releases(steps: Any, fetch_slots: Any) -> Any:
    from gpugraph.compiler.memory_plan import releases_after

    return releases_after(steps, fetch_slots)


def _stamp(stamps: list[int], sizes: list[tuple[int, ...]], step: int,
           outputs: tuple[int, ...]) -> Callable[[list[Any]], None]:
    clock = time.perf_counter_ns

    def hook(slots: list[Any]) -> None:
        stamps[step + 1] = clock()
        sizes[step] = tuple(int(getattr(slots[j], "nbytes", 0)) for j in outputs)
    return hook


def _step_stats(plan: ExecutionPlan, steps: Any, stamps: list[int], sizes: list[tuple[int, ...]],
                wall_start: int) -> Any:
    classes = step_stats_classes()
    thread_id = threading.get_ident() & 0xFFFFFFFF
    by_device: dict[str, list[Any]] = {}
    for i, step in enumerate(steps):
        if step.kind == "shape":  # a stand-in for a value's shape: no kernel, nothing a trace shows
            continue
        op = step.op
        start_ns = wall_start + (stamps[i] - stamps[0])
        duration = max(stamps[i + 1] - stamps[i], 0)
        device = _device_name(plan, op)
        allocator = _allocator_name(device)
        node_name, label = _naming(step)
        if step.kind == "copy":  # a transfer: on the device's memcpy stream, as TF1's GPU tracer shows it
            device += "/memcpy"
        outputs = [classes["NodeOutput"](slot=k, tensor_description=classes["TensorDescription"](
            allocation_description=classes["AllocationDescription"](
                requested_bytes=n, allocated_bytes=n, allocator_name=allocator)))
            for k, n in enumerate(sizes[i])]
        stats = classes["NodeExecStats"](
            node_name=node_name, all_start_micros=start_ns // 1000, op_start_rel_micros=0,
            op_end_rel_micros=duration // 1000, all_end_rel_micros=duration // 1000, output=outputs,
            timeline_label=label, scheduled_micros=start_ns // 1000,
            thread_id=thread_id, all_start_nanos=start_ns, op_start_rel_nanos=0, op_end_rel_nanos=duration,
            all_end_rel_nanos=duration, scheduled_nanos=start_ns)
        by_device.setdefault(device, []).append(stats)
    return classes["StepStats"](dev_stats=[classes["DeviceStepStats"](device=device, node_stats=nodes)
                                           for device, nodes in by_device.items()])


def _tensor_name(t: Any) -> str:
    return t.op.name if t.value_index == 0 else t.name


def _naming(step: Any) -> tuple[str, str]:
    """(node_name, timeline_label) of a step: "name = Op(inputs)"; a fused step names its ops as
    "last = FusedElementwise[op1,op2,...](its inputs from outside)"; a copy is "name:MEMCPY"."""
    op = step.op
    if step.kind == "copy":
        return f"{op.name}:MEMCPY", f"MEMCPY @@{op.name}:MEMCPY#"
    if not step.ops:
        return op.name, f"{op.name} = {op.type}({', '.join(_tensor_name(t) for t in op.inputs)})"
    made = {t for o in step.ops for t in o.outputs}
    outside = list(dict.fromkeys(t for o in step.ops for t in o.inputs if t not in made))
    names = ",".join(o.name for o in step.ops)
    # a graph: one launch of its kernels; a fused region: one kernel; else updates grouped into one step
    kind = "CudaGraph" if step.kind == "graph" else "FusedElementwise" if step.fusion is not None else "Grouped"
    return op.name, f"{op.name} = {kind}[{names}]({', '.join(_tensor_name(t) for t in outside)})"


def _device_name(plan: ExecutionPlan, op: Any) -> str:
    placement = plan.placements.get(op) if plan.placements else None
    if placement is None:
        return HOST_DEVICE
    name = placement.device.name
    return "/job:localhost/replica:0/task:0" + name if name.startswith("/device:") else name


def _allocator_name(device: str) -> str:
    """TF1's allocator names: "cpu", and "GPU_<n>_bfc" for a GPU (here CuPy's pool for that GPU)."""
    kind, _, index = device.rpartition("/device:")[2].partition(":")
    return f"GPU_{index}_bfc" if kind == "GPU" else "cpu"
