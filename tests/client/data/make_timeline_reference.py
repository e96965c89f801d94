"""Reference traces for tests/client/test_timeline.py, made by TensorFlow's own timeline module.

    TF_CPP_MIN_LOG_LEVEL=3 <python with tensorflow> tests/client/data/make_timeline_reference.py

A StepStats with two devices (steps overlapping on the CPU, a GPU consumer of a CPU tensor, a node with
two outputs, a GPU tracer stream) is written as bytes, with TF's Chrome trace of it for each option.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tensorflow.core.framework import step_stats_pb2
from tensorflow.python.client import timeline

CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
GPU = "/job:localhost/replica:0/task:0/device:GPU:0"
STREAM = "/device:GPU:0/stream:all"


def node(stats, name, label, start, duration, outputs=(), allocator="cpu"):
    ns = stats.node_stats.add(node_name=name, all_start_micros=start, op_start_rel_micros=0,
                              op_end_rel_micros=duration, all_end_rel_micros=duration, timeline_label=label)
    for slot, nbytes in enumerate(outputs):
        out = ns.output.add(slot=slot)
        alloc = out.tensor_description.allocation_description
        alloc.requested_bytes, alloc.allocated_bytes, alloc.allocator_name = nbytes, nbytes, allocator


def step_stats() -> step_stats_pb2.StepStats:
    s = step_stats_pb2.StepStats()
    cpu = s.dev_stats.add(device=CPU)
    node(cpu, "x", "x = Const()", 1000, 5, [400])
    node(cpu, "y", "y = Const()", 1002, 10, [400])  # overlaps x: a second lane
    node(cpu, "split", "split = Split(x)", 1020, 7, [200, 200])
    node(cpu, "add", "add = Add(split, split:1)", 1030, 4, [200])
    gpu = s.dev_stats.add(device=GPU)
    node(gpu, "mul", "mul = Mul(add, y)", 1040, 20, [400], "GPU_0_bfc")
    node(gpu, "sum", "sum = Sum(mul, missing)", 1065, 3, [4], "GPU_0_bfc")
    stream = s.dev_stats.add(device=STREAM)
    node(stream, "mul:Mul", "mul_kernel @@mul:Mul#id=1#", 1045, 30)
    return s


def main() -> None:
    stats = step_stats()
    cases = {}
    for show_dataflow in (True, False):
        for show_memory in (False, True):
            for op_time in ("schedule", "gpu", "all"):
                trace = timeline.Timeline(step_stats()).generate_chrome_trace_format(
                    show_dataflow=show_dataflow, show_memory=show_memory, op_time=op_time)
                cases[f"{show_dataflow}-{show_memory}-{op_time}"] = json.loads(trace)
    analysis = timeline.Timeline(step_stats()).analyze_step_stats(show_memory=True)
    maximums = {k: [v.timestamp, v.num_bytes, sorted(v.tensors)] for k, v in analysis.allocator_maximums.items()}
    out = {"step_stats": base64.b64encode(stats.SerializeToString()).decode(), "traces": cases,
           "allocator_maximums": maximums}
    (Path(__file__).parent / "timeline_reference.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
