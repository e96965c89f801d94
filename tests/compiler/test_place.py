"""The placer over simulated device tables: explicit specs, colocation, defaults, memory budgets."""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpugraph as tf
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import REGISTRY
from gpugraph.runtime.devices import DeviceTable, simulated_table
from gpugraph.compiler.place import (
    Placement, PlacementError, explain, has_gpu_kernel, log_lines, memory_report, place, primary_variable,
)
from gpugraph.compiler.schedule import needed_ops, schedule
from gpugraph.runtime.sizes import memory_use, resolve_shapes, shape_bytes

BIG = 1 << 40
REASON = re.compile(r"^(explicit|default|no GPU kernel|over memory budget|resident|colocated with \S+"
                    r"|soft placement: .+)$")


def order_of(*fetches: Any, fed: Sequence[Tensor] = ()) -> list[Operation]:
    fed_set = set(fed)
    return schedule(needed_ops(list(fetches), fed_set), fed_set)


def where(placements: dict[Operation, Placement]) -> dict[str, tuple[str, str]]:
    return {op.name: (p.device.name, p.reason) for op, p in placements.items()}


def check_well_formed(order: list[Operation], placements: dict[Operation, Placement], table: DeviceTable) -> None:
    assert list(placements) == order  # every op, in schedule order
    graph = order[0].graph
    for op, p in placements.items():
        assert p.device in table.devices
        assert REASON.match(p.reason), (op.name, p.reason)
        if p.reason.startswith("colocated with "):
            graph.get_operation_by_name(p.reason[len("colocated with "):])


def mlp(var_device: str | None = None) -> dict[str, Any]:
    """x -> matmul(w) + b -> loss, trained by GradientDescent; w optionally under tf.device."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        if var_device is None:
            w = tf.Variable(tf.random_normal([4, 3]), name="w")
        else:
            with g.device(var_device):
                w = tf.Variable(tf.random_normal([4, 3]), name="w")
        b = tf.Variable(tf.zeros([3]), name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    return dict(g=g, x=x, w=w, b=b, loss=loss, train=train, init=init)


# --- defaults ---
def test_defaults_with_one_gpu() -> None:
    m = mlp()
    table = simulated_table(1, BIG)
    order = order_of(m["train"], m["loss"], fed=[m["x"]])
    placed = place(order, table, feed_shapes={m["x"]: (8, 4)})
    check_well_formed(order, placed, table)
    w = where(placed)
    assert w["w"] == ("/device:GPU:0", "default")
    assert w["w/read"] == ("/device:GPU:0", "colocated with w")
    assert w["b/read"] == ("/device:GPU:0", "colocated with b")
    assert w["MatMul"] == ("/device:GPU:0", "default")
    assert w["loss"] == ("/device:GPU:0", "default")
    assert w["GradientDescent/update_w/ApplyGradientDescent"] == ("/device:GPU:0", "colocated with w")
    assert w["GradientDescent/update_b/ApplyGradientDescent"] == ("/device:GPU:0", "colocated with b")
    assert w["GradientDescent"] == ("/device:CPU:0", "default")  # a NoOp runs nothing


def test_initializers_random_ops_run_on_the_gpu() -> None:
    m = mlp()
    table = simulated_table(1, BIG)
    order = order_of(m["init"])
    placed = place(order, table)
    check_well_formed(order, placed, table)
    w = where(placed)
    assert w["random_normal/RandomStandardNormal"] == ("/device:GPU:0", "default")  # drawn on the device
    assert w["random_normal"] == ("/device:GPU:0", "default")
    # the variable op is not part of the init run, its Assign still goes where it lives
    assert w["w/Assign"] == ("/device:GPU:0", "colocated with w")
    assert w["b/Assign"] == ("/device:GPU:0", "colocated with b")
    assert w["init"] == ("/device:CPU:0", "default")


def test_no_gpu_everything_on_cpu_by_default() -> None:
    m = mlp()
    table = simulated_table(0, 0)
    for fetches in ([m["init"]], [m["train"], m["loss"]]):
        order = order_of(*fetches)
        placed = place(order, table)
        check_well_formed(order, placed, table)
        for op, p in placed.items():
            assert p.device.kind == "CPU"
            assert p.reason == "default" or p.reason.startswith("colocated with "), (op.name, p.reason)


def test_two_gpus_default_to_the_first() -> None:
    m = mlp()
    placed = place(order_of(m["loss"], fed=[m["x"]]), simulated_table(2, BIG))
    assert {p.device.name for p in placed.values()} == {"/device:GPU:0"}


# --- explicit specs ---
def test_explicit_specs_pick_the_first_matching_device() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.ones((2, 2), np.float32), name="x")
        with g.device("/gpu:1"):
            a = tf.exp(x, name="a")
        with g.device("/device:GPU:*"):
            b = tf.exp(x, name="b")
        with g.device("/cpu:0"):
            c = tf.exp(x, name="c")
        with g.device("/job:localhost/replica:0/task:0/device:GPU:1"):
            d = tf.exp(x, name="d")
        with g.device("/job:localhost"):  # names this process, leaves the device to the defaults
            e = tf.exp(x, name="e")
    table = simulated_table(2, BIG)
    order = order_of(a, b, c, d, e)
    placed = place(order, table, allow_soft_placement=False)
    check_well_formed(order, placed, table)
    assert where(placed) == {"x": ("/device:GPU:0", "default"), "a": ("/device:GPU:1", "explicit"),
                             "b": ("/device:GPU:0", "explicit"), "c": ("/device:CPU:0", "explicit"),
                             "d": ("/device:GPU:1", "explicit"), "e": ("/device:GPU:0", "default")}


def test_device_function() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.ones((2, 2), np.float32), name="x")
        with g.device(lambda op: "/gpu:1" if op.type == "MatMul" else "/cpu:0"):
            y = tf.matmul(x, x, name="mm")
            z = tf.exp(y, name="z")
    w = where(place(order_of(z), simulated_table(2, BIG), allow_soft_placement=False))
    assert w == {"x": ("/device:GPU:0", "default"), "mm": ("/device:GPU:1", "explicit"),
                 "z": ("/device:CPU:0", "explicit")}


def _gpu_spec_graph(spec: str) -> tuple[Tensor, Tensor]:
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.ones(3, np.float32), name="x")
        with g.device(spec):
            a = tf.exp(x, name="a")
    return x, a


def test_gpu_spec_without_gpus() -> None:
    _, a = _gpu_spec_graph("/gpu:0")
    order = order_of(a)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        place(order, simulated_table(0, 0), allow_soft_placement=False)
    message = str(info.value)
    # TF1's words
    assert message.startswith("Cannot assign a device for operation a: {{node a}} was explicitly assigned to "
                              "/device:GPU:0 but available devices are [ /job:localhost/replica:0/task:0/device:"
                              "CPU:0 ]. Make sure the device specification refers to a valid device.")
    assert "no GPU devices available" in message
    assert isinstance(info.value, PlacementError)
    assert info.value.op is a.op
    w = where(place(order, simulated_table(0, 0), allow_soft_placement=True))
    assert w["a"] == ("/device:CPU:0", "soft placement: no GPU devices available for '/device:GPU:0'")


def test_missing_device_index() -> None:
    _, a = _gpu_spec_graph("/gpu:3")
    order = order_of(a)
    with pytest.raises(tf.errors.InvalidArgumentError, match="was explicitly assigned to /device:GPU:3 but"):
        place(order, simulated_table(2, BIG), allow_soft_placement=False)
    # soft placement keeps the kind asked for when one exists, as TF1 lets the op run on any GPU
    w = where(place(order, simulated_table(2, BIG)))
    assert w["a"] == ("/device:GPU:0", "soft placement: no device matches '/device:GPU:3'")
    _, b = _gpu_spec_graph("/cpu:1")
    assert where(place(order_of(b), simulated_table(2, BIG)))["a"] == (
        "/device:CPU:0", "soft placement: no device matches '/device:CPU:1'")


def test_spec_of_another_job_fails_even_with_soft_placement() -> None:
    for spec in ("/job:worker/task:1", "/job:localhost/replica:1/device:CPU:0", "/task:2/device:GPU:0"):
        _, a = _gpu_spec_graph(spec)
        for soft in (False, True):
            with pytest.raises(tf.errors.InvalidArgumentError, match="Make sure the device specification refers"):
                place(order_of(a), simulated_table(1, BIG), allow_soft_placement=soft)


def test_gpu_spec_on_an_op_without_gpu_kernel() -> None:
    g = tf.Graph()
    with g.as_default(), g.device("/gpu:0"):
        raw = tf.range(3, name="range").op
        r = tf.identity(raw.outputs[0], name="r")
    order = order_of(r)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        place(order, simulated_table(1, BIG), allow_soft_placement=False)
    assert str(info.value).startswith(f"Cannot assign a device for operation {raw.name}: Could not satisfy "
                                      "explicit device specification '/device:GPU:0' because no supported kernel "
                                      "for GPU devices is available")
    assert "no GPU kernel" in str(info.value)
    placed = place(order, simulated_table(1, BIG))
    assert placed[raw].device.name == "/device:CPU:0"
    assert placed[raw].reason == "soft placement: no GPU kernel for Range on /device:GPU:0"
    assert where(placed)["r"] == ("/device:GPU:0", "explicit")


# --- colocation ---
def test_variable_on_cpu_pulls_its_group() -> None:
    m = mlp("/cpu:0")
    g, wv = m["g"], m["w"]
    with g.as_default():
        bump = wv.assign_add(tf.ones([4, 3]), name="bump")  # made outside the device block
    table = simulated_table(1, BIG)
    order = order_of(m["train"], m["loss"], m["init"], bump, fed=[m["x"]])
    placed = place(order, table, allow_soft_placement=False)
    check_well_formed(order, placed, table)
    w = where(placed)
    assert w["w"] == ("/device:CPU:0", "explicit")
    for name in ("w/read", "w/Assign", "GradientDescent/update_w/ApplyGradientDescent", "bump"):
        assert w[name] == ("/device:CPU:0", "colocated with w"), name
    assert w["b"] == ("/device:GPU:0", "default")
    assert w["b/Assign"] == ("/device:GPU:0", "colocated with b")
    assert w["MatMul"] == ("/device:GPU:0", "default")


def test_write_asking_for_another_device_than_its_variable() -> None:
    g = tf.Graph()
    with g.as_default():
        with g.device("/cpu:0"):
            v = tf.Variable(np.zeros(3, np.float32), name="v")
        with g.device("/gpu:0"):
            up = v.assign(np.ones(3, np.float32), name="up")
    order = order_of(up)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot colocate nodes 'up' and 'v'"):
        place(order, simulated_table(1, BIG), allow_soft_placement=False)
    w = where(place(order, simulated_table(1, BIG)))
    assert w["up"] == ("/device:CPU:0", "soft placement: colocated with v")


def test_read_placed_explicitly_elsewhere_copies() -> None:
    g = tf.Graph()
    with g.as_default():
        with g.device("/cpu:0"):
            v = tf.Variable(np.zeros(3, np.float32), name="v")
        with g.device("/gpu:0"):
            r = v.read_value()
    w = where(place(order_of(r, v.value()), simulated_table(1, BIG), allow_soft_placement=False))
    assert w[r.op.name] == ("/device:GPU:0", "explicit")
    assert w["v/read"] == ("/device:CPU:0", "colocated with v")


def test_initialization_checks_run_on_host() -> None:
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(3, np.float32), name="v")
        ok = tf.is_variable_initialized(v)
        report = tf.report_uninitialized_variables()
    w = where(place(order_of(ok, report), simulated_table(1, BIG), allow_soft_placement=False))
    assert w[ok.op.name] == ("/device:CPU:0", "no GPU kernel")
    assert w[report.op.name] == ("/device:CPU:0", "no GPU kernel")


def test_slot_variables_follow_their_primary() -> None:
    g = tf.Graph()
    with g.as_default():
        with g.device("/gpu:1"):
            w = tf.Variable(np.zeros((2, 2), np.float32), name="w")
        slot = tf.Variable(np.zeros((2, 2), np.float32), name="w/Momentum", trainable=False)
        with g.device("/cpu:0"):
            own = tf.Variable(np.zeros((2, 2), np.float32), name="w/Other")  # asks for its own device
        lone = tf.Variable(np.zeros((2, 2), np.float32), name="wx/Momentum")  # no variable "wx"
    assert primary_variable(slot.op) is w.op
    assert primary_variable(own.op) is own.op
    assert primary_variable(lone.op) is lone.op
    order = order_of(slot.value(), own.value(), lone.value(), slot.initializer)
    w_ = where(place(order, simulated_table(2, BIG), allow_soft_placement=False))
    assert w_["w/Momentum"] == ("/device:GPU:1", "colocated with w")
    assert w_["w/Momentum/read"] == ("/device:GPU:1", "colocated with w")
    assert w_["w/Momentum/Assign"] == ("/device:GPU:1", "colocated with w")
    assert w_["w/Other"] == ("/device:CPU:0", "explicit")
    assert w_["wx/Momentum"] == ("/device:GPU:0", "default")


# --- placeholders and no-ops ---
def test_placeholders_go_to_their_first_consumer() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        y = tf.placeholder(tf.float32, [3], name="y")
        alone = tf.placeholder(tf.float32, [3], name="alone")
        with g.device("/cpu:0"):
            pinned_ph = tf.placeholder(tf.float32, [3], name="pinned_ph")
        with g.device("/gpu:1"):
            a = tf.exp(x, name="a")
        with g.device("/cpu:0"):
            b = tf.exp(x, name="b")
            c = tf.add(y, pinned_ph, name="c")
    table = simulated_table(2, BIG)
    order = order_of(a, b, c, alone)
    placed = place(order, table, allow_soft_placement=False)
    check_well_formed(order, placed, table)
    w = where(placed)
    assert w["x"] == ("/device:GPU:1", "colocated with a")
    assert w["y"] == ("/device:CPU:0", "colocated with c")
    assert w["alone"] == ("/device:GPU:0", "default")
    assert w["pinned_ph"] == ("/device:CPU:0", "explicit")


def test_no_ops_stay_on_cpu_unless_asked() -> None:
    g = tf.Graph()
    with g.as_default():
        n = tf.no_op(name="n")
        with g.device("/gpu:0"):
            m = tf.no_op(name="m")
    w = where(place(order_of(n, m), simulated_table(1, BIG), allow_soft_placement=False))
    assert w == {"n": ("/device:CPU:0", "default"), "m": ("/device:GPU:0", "explicit")}


def test_gpu_kernel_flags() -> None:
    host_only = {name for name, opdef in REGISTRY.items() if not opdef.gpu}
    assert {"IsVariableInitialized", "ReportUninitializedVariables"} <= host_only
    assert not {"MatMul", "Placeholder", "VariableV2", "Assign", "ApplyGradientDescent", "Const", "RandomUniform",
                "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt", "RandomShuffle",
                "Multinomial"} & host_only
    g = tf.Graph()
    with g.as_default():
        s = tf.placeholder(tf.string, [2], name="s")
        t = tf.identity(s, name="t")
    assert not has_gpu_kernel(t.op)  # string tensors never live on a GPU
    assert where(place(order_of(t, fed=[s]), simulated_table(1, BIG)))["t"] == ("/device:CPU:0", "no GPU kernel")


def test_explain_and_log_lines() -> None:
    m = mlp()
    order = order_of(m["loss"], fed=[m["x"]])
    placed = place(order, simulated_table(1, BIG))
    rows = explain(placed)
    assert rows == [(op.name, placed[op].device.name, placed[op].reason) for op in order]
    first = placed[order[0]]
    assert first.reason  # the README promises a reason per node
    assert log_lines(placed)[0] == (f"{order[0].name}: ({order[0].type}): /job:localhost/replica:0/task:0/device:GPU:0"
                                    f"  [{first.reason}]")


# --- sizes ---
def test_resolve_shapes_from_feeds() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, tf.constant(np.ones((3, 5), np.float32)), name="y")
        z = tf.reduce_sum(y, axis=1, name="z")
    order = order_of(z, fed=[x])
    shapes = resolve_shapes(order, {x: (7, 3)})
    assert shapes[y].as_tuple() == (7, 5) and shapes[z].as_tuple() == (7,)
    assert y.shape.as_tuple() == (None, 5)  # the graph is left alone
    # a feed that contradicts the graph: infer fails, the static shapes stand
    shapes = resolve_shapes(order, {x: (7, 4)})
    assert shapes[y].as_tuple() == (None, 5) and shapes[z].as_tuple() == (None,)
    assert resolve_shapes(order)[z].as_tuple() == (None,)


def test_shape_bytes_counts_unknown_as_one() -> None:
    assert shape_bytes(TensorShape([2, 3]), tf.float64) == (48, True)
    assert shape_bytes(TensorShape([None, 4]), tf.float32) == (16, False)
    assert shape_bytes(TensorShape(None), tf.int32) == (4, False)
    assert shape_bytes(TensorShape([]), tf.int8) == (1, True)


def _chain(alias: bool) -> tuple[Tensor, Tensor, list[Operation]]:
    """y = x**2; z = identity(y) or exp(y); u = z + y: an alias keeps one buffer for y and z."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.square(x, name="y")
        z = tf.identity(y, name="z") if alias else tf.exp(y, name="z")
        u = tf.add(z, y, name="u")
    return x, u, order_of(u, fed=[x])


def test_peak_of_live_intermediates() -> None:
    table = simulated_table(1, BIG)
    gpu = table.gpus()[0]
    for alias, peak in ((True, 256), (False, 384)):
        x, u, order = _chain(alias)
        assert [op.name for op in order] == ["y", "z", "u"]
        rep = memory_use(order, {op: gpu for op in order}, {}, resolve_shapes(order, {x: (8, 4)}),
                         fed=[x], fetched=[u])
        # each tensor is 8*4*4 = 128 bytes; x [0,0], y [0,2], z [1,2] unless it aliases y, u [2,3]
        assert rep.devices[gpu.name].peak_bytes == peak
        assert rep.devices[gpu.name].variable_bytes == 0


def test_copies_count_on_the_consuming_device() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 4], name="x")
        with g.device("/cpu:0"):
            y = tf.square(x, name="y")
        z = tf.exp(y, name="z")
        w = tf.Variable(np.zeros((4, 3), np.float32), name="w")
        with g.device("/cpu:0"):
            v = tf.Variable(np.zeros((4, 3), np.float32), name="v")
        out = tf.matmul(z, w) + tf.matmul(z, v)
    order = order_of(out, fed=[x])
    placed = place(order, simulated_table(1, BIG), allow_soft_placement=False)
    rep = memory_report(order, placed, feed_shapes={x: (8, 4)}, fetches=[out])
    cpu, gpu = rep.devices["/device:CPU:0"], rep.devices["/device:GPU:0"]
    assert cpu.variable_bytes == 48 and gpu.variable_bytes == 48
    # CPU: x and y (128 each) at y; GPU at the second matmul: y's copy is gone; z 128, v's copy 48,
    # first product 96, second product 96
    assert cpu.peak_bytes == 256
    assert gpu.peak_bytes == 128 + 48 + 96 + 96


# --- memory budget ---
def _wide(width: int = 256) -> tuple[Any, Tensor, Tensor]:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, width], name="x")
        h = tf.exp(tf.tanh(x, name="h1"), name="h2")
        out = tf.reduce_sum(h, name="out")
    return g, x, out


def _gpu_totals(order: list[Operation], placed: dict[Operation, Placement],
                feed_shapes: dict[Tensor, tuple[int, ...]]) -> dict[str, int]:
    rep = memory_report(order, placed, feed_shapes=feed_shapes)
    return {name: m.total for name, m in rep.devices.items() if m.device.kind == "GPU"}


def test_fits_when_the_feed_is_small() -> None:
    _, x, out = _wide()
    order = order_of(out, fed=[x])
    placed = place(order, simulated_table(1, 4096), feed_shapes={x: (1, 256)}, allow_soft_placement=False)
    assert {p.reason for p in placed.values()} == {"default"}
    assert max(_gpu_totals(order, placed, {x: (1, 256)}).values()) <= 4096


def test_over_budget_moves_to_cpu_with_soft_placement() -> None:
    _, x, out = _wide()
    order = order_of(out, fed=[x])
    feeds = {x: (16, 256)}  # 16 KiB per activation, 1 KiB budget
    table = simulated_table(1, 1024)
    placed = place(order, table, feed_shapes=feeds)
    check_well_formed(order, placed, table)
    unconstrained = place(order, simulated_table(1, BIG), feed_shapes=feeds)
    for op in order:
        if placed[op].device != unconstrained[op].device:
            assert placed[op] .reason == "over memory budget" and placed[op].device.kind == "CPU"
    assert where(placed)["h1"] == ("/device:CPU:0", "over memory budget")
    assert all(total <= 1024 for total in _gpu_totals(order, placed, feeds).values())


def test_over_budget_without_soft_placement_raises() -> None:
    _, x, out = _wide()
    order = order_of(out, fed=[x])
    feeds = {x: (16, 256)}
    needed = _gpu_totals(order, place(order, simulated_table(1, BIG), feed_shapes=feeds), feeds)["/device:GPU:0"]
    with pytest.raises(tf.errors.ResourceExhaustedError) as info:
        place(order, simulated_table(1, 1024), feed_shapes=feeds, allow_soft_placement=False)
    message = str(info.value)
    assert f"needs {needed} bytes on /device:GPU:0" in message
    assert "memory budget is 1024 bytes" in message


def test_unknown_dimensions_count_as_one_with_a_note() -> None:
    _, x, out = _wide()
    order = order_of(out, fed=[x])
    placed = place(order, simulated_table(1, 4096))  # no feed shapes: [?, 256] counts as [1, 256]
    assert {p.reason for p in placed.values()} == {"default"}
    rep = memory_report(order, placed)
    assert any("h1:0" in note and "counted as 1" in note for note in rep.notes)
    assert rep.devices["/device:GPU:0"].peak_bytes == 2 * 1024


def test_explicit_ops_move_last() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 256], name="x")
        a = tf.tanh(x, name="a")
        with g.device("/gpu:0"):
            b = tf.exp(x, name="b")
    order = order_of(a, b, fed=[x])
    feeds = {x: (4, 256)}  # 4 KiB each; together a, b and x's copy need 12 KiB
    w = where(place(order, simulated_table(1, 9000), feed_shapes=feeds, fetches=[a, b]))
    assert w == {"a": ("/device:CPU:0", "over memory budget"), "b": ("/device:GPU:0", "explicit")}
    w = where(place(order, simulated_table(1, 5000), feed_shapes=feeds, fetches=[a, b]))
    assert w == {"a": ("/device:CPU:0", "over memory budget"),
                 "b": ("/device:CPU:0", "soft placement: over memory budget")}


def test_variable_moves_with_its_group() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [1, 32], name="x")
        w = tf.Variable(np.zeros((32, 32), np.float32), name="w")  # 4 KiB
        b = tf.Variable(np.zeros(32, np.float32), name="b")  # 128 bytes
        loss = tf.reduce_sum(tf.matmul(x, w) + b, name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    order = order_of(train, loss, fed=[x])
    table = simulated_table(1, 1024)
    placed = place(order, table, feed_shapes={x: (1, 32)})
    check_well_formed(order, placed, table)
    r = where(placed)
    for name in ("w", "w/read", "GradientDescent/update_w/ApplyGradientDescent"):
        assert r[name] == ("/device:CPU:0", "over memory budget"), name
    assert r["b"] == ("/device:GPU:0", "default")
    assert r["GradientDescent/update_b/ApplyGradientDescent"] == ("/device:GPU:0", "colocated with b")
    assert all(total <= 1024 for total in _gpu_totals(order, placed, {x: (1, 32)}).values())


def test_resident_variables_stay() -> None:
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.zeros((32, 32), np.float32), name="w")
        y = tf.reduce_sum(w, name="y")
    table = simulated_table(1, 1024)
    order = order_of(y)
    assert where(place(order, table))["w"] == ("/device:CPU:0", "over memory budget")
    with pytest.raises(tf.errors.ResourceExhaustedError, match="4096 bytes of variables"):
        place(order, table, pinned={w.op: table.gpus()[0]})
    roomy = simulated_table(1, 8192)
    placed = where(place(order, roomy, pinned={w.op: roomy.cpu()}))
    assert placed["w"] == ("/device:CPU:0", "resident")
    assert placed["w/read"] == ("/device:CPU:0", "colocated with w")


def test_budgets_are_per_gpu() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 256], name="x")
        with g.device("/gpu:1"):
            big = tf.exp(x, name="big")
        small = tf.reduce_sum(tf.constant(np.ones(4, np.float32)), name="small")
    order = order_of(big, small, fed=[x])
    w = where(place(order, simulated_table(2, 2048), feed_shapes={x: (4, 256)}))
    assert w["big"] == ("/device:CPU:0", "soft placement: over memory budget")
    assert w["small"] == ("/device:GPU:0", "default")


def test_long_chain_under_a_tiny_budget_terminates() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [64, 64], name="x")
        h = x
        for i in range(300):
            h = tf.tanh(h, name=f"t{i}")
    order = order_of(h, fed=[x])
    table = simulated_table(1, 1024)
    placed = place(order, table, feed_shapes={x: (64, 64)})
    check_well_formed(order, placed, table)
    assert all(p.device.kind == "CPU" for p in placed.values())


def test_intermediates_move_before_variables() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 32], name="x")
        w = tf.Variable(np.zeros((32, 32), np.float32), name="w")  # 4 KiB
        h = tf.tanh(tf.matmul(x, w, name="mm"), name="h")  # 8 KiB each with 64 rows
        loss = tf.reduce_sum(h, name="loss")
    feeds = {x: (64, 32)}
    order = order_of(loss, fed=[x])
    placed = place(order, simulated_table(1, 6000), feed_shapes=feeds, fetches=[loss])
    r = where(placed)
    assert r["w"] == ("/device:GPU:0", "default")
    assert r["w/read"] == ("/device:GPU:0", "colocated with w")
    assert r["mm"] == ("/device:CPU:0", "over memory budget")
    assert r["h"] == ("/device:CPU:0", "over memory budget")
    rep = memory_report(order, placed, feed_shapes=feeds, fetches=[loss])
    assert rep.devices["/device:GPU:0"].variable_bytes == 4096
    assert rep.devices["/device:GPU:0"].total <= 6000


def test_slots_move_with_their_primary() -> None:
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.zeros((32, 32), np.float32), name="w")
        slot = tf.Variable(np.zeros((32, 32), np.float32), name="w/Momentum", trainable=False)
        y = tf.add(tf.reduce_sum(w), tf.reduce_sum(slot), name="y")
    order = order_of(y)
    r = where(place(order, simulated_table(1, 6000)))  # 8 KiB of variables in one group
    assert r["w"] == ("/device:CPU:0", "over memory budget")
    assert r["w/Momentum"] == ("/device:CPU:0", "over memory budget")
    assert r["w/Momentum/read"] == ("/device:CPU:0", "over memory budget")
    with pytest.raises(tf.errors.ResourceExhaustedError, match="8192 bytes of variables"):
        place(order, simulated_table(1, 6000), allow_soft_placement=False)


def test_views_across_devices_use_the_copy() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 4], name="x")
        with g.device("/cpu:0"):
            y = tf.square(x, name="y")
        z = tf.identity(y, name="z")  # on the GPU: a view of y's copy there
        u = tf.add(z, y, name="u")
    order = order_of(u, fed=[x])
    placed = place(order, simulated_table(1, BIG), allow_soft_placement=False)
    rep = memory_report(order, placed, feed_shapes={x: (8, 4)}, fetches=[u])
    # GPU: one copy of y (128) shared by z and u's second input, and u (128)
    assert rep.devices["/device:GPU:0"].peak_bytes == 256
    assert set(rep.live_at_peak["/device:GPU:0"]) == {y, u}


def test_fetched_tensors_live_to_the_end() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 4], name="x")
        a = tf.square(x, name="a")
        b = tf.exp(a, name="b")
        c = tf.tanh(b, name="c")
    order = order_of(c, a, fed=[x])
    placed = place(order, simulated_table(1, BIG))
    # at c's step: b and c, plus a when a is fetched too
    assert memory_report(order, placed, fetches=[c]).devices["/device:GPU:0"].peak_bytes == 256
    assert memory_report(order, placed, fetches=[c, a]).devices["/device:GPU:0"].peak_bytes == 384


# --- properties over random graphs ---
_SPECS = ["", "", "", "/cpu:0", "/gpu:0", "/gpu:1", "/device:GPU:*"]


@st.composite
def _graphs(draw: Any) -> tuple[list[Operation], dict[Tensor, tuple[int, ...]], list[Tensor], Any]:
    g = tf.Graph()
    rows = draw(st.integers(1, 64))
    n_ops = draw(st.integers(1, 12))
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 8], name="x")
        values: list[Tensor] = [x]
        variables = []
        for i in range(n_ops):
            kind = draw(st.sampled_from(["unary", "binary", "matmul", "variable", "random"]))
            with g.device(draw(st.sampled_from(_SPECS))):
                a = values[draw(st.integers(0, len(values) - 1))]
                if kind == "unary":
                    out = tf.tanh(a)
                elif kind == "binary":
                    out = tf.add(a, values[draw(st.integers(0, len(values) - 1))])
                elif kind == "matmul":
                    w = tf.Variable(np.zeros((8, 8), np.float32), name=f"w{i}")
                    variables.append(w)
                    out = tf.matmul(a, w)
                elif kind == "variable":
                    v = tf.Variable(np.zeros((draw(st.integers(1, 64)), 8), np.float32), name=f"v{i}")
                    variables.append(v)
                    out = tf.add(a, tf.reduce_sum(v, axis=0))
                else:
                    out = tf.add(a, tf.random_uniform([8]))
            values.append(out)
        loss = tf.reduce_sum(values[-1], name="loss")
        fetches: list[Any] = [loss]
        if variables:
            opt = tf.train.GradientDescentOptimizer(0.1)
            pairs = [(gr, v) for gr, v in opt.compute_gradients(loss, var_list=variables) if gr is not None]
            if pairs:
                fetches.append(opt.apply_gradients(pairs))
    order = order_of(*fetches, fed=[x])
    return order, {x: (rows, 8)}, fetches, variables


@settings(max_examples=40, deadline=None)
@given(_graphs(), st.integers(0, 2), st.sampled_from([256, 2048, 16384, BIG]), st.booleans())
def test_random_graphs_fit_or_fail_loudly(graph: Any, n_gpus: int, budget: int, soft: bool) -> None:
    order, feeds, fetches, variables = graph
    table = simulated_table(n_gpus, budget)
    try:
        placed = place(order, table, allow_soft_placement=soft, feed_shapes=feeds, fetches=fetches)
    except tf.errors.ResourceExhaustedError:
        assert budget < BIG and not soft  # with soft placement everything may go to the CPU
        return
    except tf.errors.InvalidArgumentError as e:
        assert not soft and "Cannot assign a device" in str(e), str(e)
        return
    check_well_formed(order, placed, table)
    rep = memory_report(order, placed, feed_shapes=feeds, fetches=fetches)
    for mem in rep.devices.values():
        assert not mem.over_budget, (mem.device.name, mem.total)
    for v in variables:  # a variable's writers and readers sit with it
        if v.op not in placed:
            continue
        for op, p in placed.items():
            if op is not v.op and p.reason in ("colocated with " + v.op.name,):
                assert p.device == placed[v.op].device
        if soft:
            continue
        for op in order:
            if op.opdef.ref_input and op.inputs[0].op is v.op and has_gpu_kernel(op):
                assert placed[op].device == placed[v.op].device, op.name
