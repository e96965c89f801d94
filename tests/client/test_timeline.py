"""tf.client.timeline: Chrome traces of traced runs, equal to TensorFlow's for the same StepStats."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.client import timeline
from gpugraph.runtime.tracing import step_stats_classes
from gpugraph.testing import simulated_gpus

REFERENCE = json.loads((Path(__file__).parent / "data" / "timeline_reference.json").read_text())


def reference_step_stats():
    """TensorFlow's StepStats bytes, read into gpugraph's message class (the same field numbers)."""
    return step_stats_classes()["StepStats"].FromString(base64.b64decode(REFERENCE["step_stats"]))


@pytest.mark.parametrize("case", sorted(REFERENCE["traces"]))
def test_trace_equals_tensorflows(case):
    show_dataflow, show_memory, op_time = case.split("-")
    trace = timeline.Timeline(reference_step_stats()).generate_chrome_trace_format(
        show_dataflow=show_dataflow == "True", show_memory=show_memory == "True", op_time=op_time)
    assert json.loads(trace) == REFERENCE["traces"][case]


def test_allocator_maximums_equal_tensorflows():
    analysis = timeline.Timeline(reference_step_stats()).analyze_step_stats(show_memory=True)
    got = {k: [v.timestamp, v.num_bytes, sorted(v.tensors)] for k, v in analysis.allocator_maximums.items()}
    assert got == REFERENCE["allocator_maximums"]


def test_an_unknown_op_time_is_refused():
    with pytest.raises(ValueError, match="op_time"):
        timeline.Timeline(reference_step_stats()).generate_chrome_trace_format(op_time="wall")


def traced_run(sess, fetches, feed_dict=None):
    metadata = tf.RunMetadata()
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    value = sess.run(fetches, feed_dict, options=options, run_metadata=metadata)
    return value, metadata


def test_a_traced_run_gives_one_region_per_step_with_its_output_bytes():
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    w = tf.constant(np.ones((8, 4), np.float32), name="w")
    y = tf.nn.relu(tf.matmul(x, w), name="y")
    with tf.Session() as sess:
        value, metadata = traced_run(sess, y, {x: np.ones((3, 8), np.float32)})
    np.testing.assert_array_equal(value, np.full((3, 4), 8.0, np.float32))
    nodes = {ns.node_name: ns for dev in metadata.step_stats.dev_stats for ns in dev.node_stats}
    assert [o.tensor_description.allocation_description.requested_bytes for o in nodes["MatMul"].output] == [48]
    assert nodes["y"].output[0].tensor_description.allocation_description.allocator_name == "cpu"
    trace = json.loads(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format(show_memory=True))
    regions = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["args"]["name"] for e in regions) == sorted(nodes)
    assert {e["name"] for e in regions} >= {"MatMul", "Relu"}
    matmul = next(e for e in regions if e["args"]["name"] == "MatMul")
    assert matmul["args"]["input0"] == "x" and matmul["args"]["input1"] == "w"
    counters = [e for e in trace["traceEvents"] if e["ph"] == "C"]
    assert counters and max(e["args"]["cpu"] for e in counters) >= 48


def test_a_traced_run_across_devices_draws_its_copies_as_flows():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [6], name="x")
        with tf.device("/cpu:0"):
            a = tf.reduce_sum(x * 2.0, name="a")
        with tf.device("/gpu:0"):
            b = tf.multiply(a, 3.0, name="b")
    with simulated_gpus(1), tf.Session(graph=g) as sess:
        value, metadata = traced_run(sess, b, {x: np.arange(6.0, dtype=np.float32)})
    assert float(value) == 90.0
    devices = [dev.device for dev in metadata.step_stats.dev_stats]
    assert any(d.endswith("GPU:0") for d in devices) and any(d.endswith("CPU:0") for d in devices)
    trace = json.loads(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format())
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M"}
    assert {d + " Compute" for d in devices} <= names
    flows = [e for e in trace["traceEvents"] if e["ph"] in "st"]
    assert any(e["name"] == "a" for e in flows)  # the CPU sum feeds the GPU multiply
