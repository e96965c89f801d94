"""Traced Session.run -> RunMetadata.step_stats -> FileWriter.add_run_metadata -> TensorBoard.

The reader is TensorBoard's own EventAccumulator and RunMetadata protobuf (TF's field numbers), so
the bytes are checked by an independent parser.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


def traced_program(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        w = tf.Variable([1.0, 2.0, 3.0], name="w")
        y = tf.reduce_sum(x * w, name="y")
        init = tf.global_variables_initializer()
    return g, x, y, init


def test_traced_run_fills_step_stats_and_tensorboard_reads_it(tmp_path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.compat.proto import config_pb2

    g, x, y, init = traced_program(tmp_path)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for i in range(2):
            run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
            run_metadata = tf.RunMetadata()
            value = sess.run(y, {x: [1.0, 1.0, 1.0]}, options=run_options, run_metadata=run_metadata)
            assert value == pytest.approx(6.0)
            writer.add_run_metadata(run_metadata, f"step{i}", global_step=i)
        with pytest.raises(ValueError, match="already used"):  # TF1: a tag once per writer
            writer.add_run_metadata(run_metadata, "step1")
        writer.close()

    nodes = run_metadata.step_stats.dev_stats[0].node_stats
    assert {"mul", "y"} <= {n.node_name for n in nodes}
    assert all(n.all_end_rel_nanos >= 0 and n.all_start_micros > 0 for n in nodes)

    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()["run_metadata"] == ["step0", "step1"]
    read = acc.RunMetadata("step1")
    assert isinstance(read, config_pb2.RunMetadata)
    (dev,) = read.step_stats.dev_stats
    assert dev.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert [n.node_name for n in dev.node_stats] == [n.node_name for n in nodes]
    assert [n.op_end_rel_micros for n in dev.node_stats] == [n.op_end_rel_micros for n in nodes]
    assert dev.node_stats[-1].timeline_label.startswith("y = Sum(mul")


def test_untraced_run_leaves_metadata_empty_and_serializes() -> None:
    from tensorboard.compat.proto import config_pb2

    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 3.0
    run_metadata = tf.RunMetadata()
    with tf.Session(graph=g) as sess:
        sess.run(y, {x: np.float32(2.0)}, run_metadata=run_metadata)  # no trace_level: nothing collected (TF1 too)
        assert len(run_metadata.step_stats.dev_stats) == 0
        sess.run(y, {x: np.float32(2.0)}, options=tf.RunOptions(trace_level=tf.RunOptions.SOFTWARE_TRACE),
                 run_metadata=run_metadata)
    parsed = config_pb2.RunMetadata.FromString(run_metadata.SerializeToString())
    assert len(parsed.step_stats.dev_stats) == 1


def test_traced_run_error_names_the_op() -> None:
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, None, name="a")
        b = tf.placeholder(tf.float32, None, name="b")
        y = tf.matmul(a, b, name="mm")
    with tf.Session(graph=g) as sess:
        feeds = {a: np.ones((2, 3), np.float32), b: np.ones((2, 3), np.float32)}
        with pytest.raises(tf.errors.InvalidArgumentError, match="mm"):
            sess.run(y, feeds, options=tf.RunOptions(trace_level=3), run_metadata=tf.RunMetadata())


def test_traced_run_on_a_simulated_gpu_groups_steps_by_device(tmp_path) -> None:
    from gpugraph.testing import simulated_gpus

    g, x, y, init = traced_program(tmp_path)
    with simulated_gpus(1), tf.Session(graph=g) as sess:
        sess.run(init)
        run_metadata = tf.RunMetadata()
        traced = sess.run(y, {x: [1.0, 2.0, 3.0]}, options=tf.RunOptions(trace_level=3), run_metadata=run_metadata)
        assert traced == pytest.approx(14.0) and sess.run(y, {x: [1.0, 2.0, 3.0]}) == pytest.approx(14.0)
    devices = {d.device: [n.timeline_label for n in d.node_stats] for d in run_metadata.step_stats.dev_stats}
    # x * w runs on the GPU: as its own step ("mul = Mul(...)") or in a fused one ("y = FusedElementwise[..,mul,y]")
    gpu_ops = [name for label in devices["/job:localhost/replica:0/task:0/device:GPU:0"]
               for name in (label.partition("[")[2].partition("]")[0].split(",") if "[" in label
                            else [label.partition(" = ")[0]])]
    assert "mul" in gpu_ops and "y" in gpu_ops
