"""The region IR: built from graph ops, keyed by structure, refusing what does not fuse; the kernel text."""

from __future__ import annotations

import numpy as np
import pytest
from fusion_reference import same_values

import gpugraph as tf
from gpugraph.fusion import NotFusible, Ref, Region, RegionInput, RegionNode, is_fusible, kernel_text, region_from_ops
from gpugraph.fusion.host import NumpyRegion, host_runner


def _ops(*tensors: tf.Tensor) -> list:
    """The ops between placeholders/constants and ``tensors``, in creation (topological) order."""
    g = tensors[0].graph
    return [op for op in g.get_operations() if op.type not in ("Placeholder", "Const")]


def _chain(dtype: tf.DType = tf.float32, shape: tuple = (None,)) -> tuple[list, tf.Tensor]:
    a, b = tf.placeholder(dtype, shape), tf.placeholder(dtype, shape)
    c = tf.placeholder(dtype, [])
    return [a, b, c], tf.nn.relu(a * b + c) - a


def test_region_from_ops_wires_inputs_and_nodes() -> None:
    (a, b, c), out = _chain()
    region = region_from_ops(_ops(out), [a, b, c], [out])
    assert [n.op_type for n in region.nodes] == ["Mul", "Add", "Relu", "Sub"]
    assert region.nodes[0].operands == (Ref(True, 0), Ref(True, 1))
    assert region.nodes[1].operands == (Ref(False, 0), Ref(True, 2))
    assert region.nodes[3].operands == (Ref(False, 2), Ref(True, 0))
    assert region.outputs == (Ref(False, 3),)
    assert [i.is_scalar for i in region.inputs] == [False, False, True]
    assert region.inputs[0] == RegionInput("float32", (None,))


def test_key_is_the_structure_not_the_graph() -> None:
    with tf.Graph().as_default():
        (a, b, c), out = _chain(shape=(5,))
        first = region_from_ops(_ops(out), [a, b, c], [out])
    with tf.Graph().as_default():
        (a, b, c), out = _chain(shape=(7, 3))  # other names and shapes, same structure
        second = region_from_ops(_ops(out), [a, b, c], [out])
    with tf.Graph().as_default():
        (a, b, c), out = _chain(tf.float64)
        other_dtype = region_from_ops(_ops(out), [a, b, c], [out])
    with tf.Graph().as_default():
        (a, b, c), out = _chain()
        swapped = region_from_ops(_ops(out), [b, a, c], [out])  # other wiring
    assert first.key == second.key and kernel_text(first) == kernel_text(second)
    assert other_dtype.key != first.key and swapped.key != first.key
    assert kernel_text(other_dtype).name != kernel_text(first).name
    assert hash(first.key) == hash(second.key)


def test_attrs_that_change_the_code_are_in_the_key() -> None:
    x = tf.placeholder(tf.float32, [3])
    y1, y2 = tf.nn.leaky_relu(x, alpha=0.1), tf.nn.leaky_relu(x, alpha=0.3)
    r1, r2 = region_from_ops([y1.op], [x], [y1]), region_from_ops([y2.op], [x], [y2])
    assert r1.key != r2.key and "0.1f" in kernel_text(r1).operation
    i, j = tf.cast(x, tf.int32), tf.cast(x, tf.int64)
    assert region_from_ops([i.op], [x], [i]).key != region_from_ops([j.op], [x], [j]).key


def test_several_outputs_and_an_input_passed_through() -> None:
    x, y = tf.placeholder(tf.float64, [4]), tf.placeholder(tf.float64, [4])
    s = x + y
    d = tf.maximum(s, y)
    region = region_from_ops([s.op, d.op], [x, y], [d, s, x])
    xs, ys = np.array([1.0, np.nan, -2.0, 0.0]), np.array([3.0, 1.0, np.nan, -0.0])
    for run in (NumpyRegion(region), host_runner(region, "compiled")):
        got = run(xs, ys)
        for g, w in zip(got, (np.maximum(xs + ys, ys), xs + ys, xs)):
            assert same_values(g, w) is None


def test_temporaries_are_reused() -> None:
    x = tf.placeholder(tf.float32, [1000])
    y = x
    for _ in range(8):
        y = tf.square(y) * 0.5 - x * 0.5  # stays within [-1, 1]
    consts = [op.outputs[0] for op in y.graph.get_operations() if op.type == "Const"]
    region = region_from_ops(_ops(y), [x, *consts], [y])
    evaluator = NumpyRegion(region)
    (got,) = evaluator(np.linspace(-1, 1, 1000, dtype=np.float32), *[np.float32(0.5)] * len(consts))
    assert len(region.nodes) == 32 and evaluator.buffers_made <= 3  # not one buffer per node
    want = np.linspace(-1, 1, 1000, dtype=np.float32)
    ref = want
    for _ in range(8):
        ref = ref * ref * np.float32(0.5) - want * np.float32(0.5)
    assert same_values(got, ref) is None


def test_what_does_not_fuse_is_refused_naming_the_op() -> None:
    x = tf.placeholder(tf.float32, [2, 2])
    m = tf.matmul(x, x, name="mm")
    with pytest.raises(NotFusible, match="'mm'.*MatMul"):
        region_from_ops([m.op], [x], [m])
    assert not is_fusible(m.op)
    h = tf.placeholder(tf.float16, [2])
    e = tf.exp(h, name="half_exp")
    with pytest.raises(NotFusible, match="half_exp.*float16"):
        region_from_ops([e.op], [h], [e])
    z = tf.exp(x, name="z")
    with pytest.raises(NotFusible, match="'z' reads"):
        region_from_ops([z.op], [], [z])
    with pytest.raises(NotFusible, match="not computed"):
        region_from_ops([], [x], [z])


def test_select_with_a_vector_condition_picks_rows_and_is_not_fused() -> None:
    cond = tf.placeholder(tf.bool, [3])
    data = tf.placeholder(tf.float32, [3, 2])
    rows = tf.where(cond, data, data)
    assert not is_fusible(rows.op)
    with pytest.raises(NotFusible, match="rows"):
        region_from_ops([rows.op], [cond, data], [rows])
    same = tf.where(tf.placeholder(tf.bool, [3, 2]), data, data)
    assert is_fusible(same.op)


def test_a_region_referring_forward_is_refused() -> None:
    node = RegionNode("Neg", (Ref(False, 1),), "float32")
    with pytest.raises(NotFusible, match="not defined before"):
        Region((RegionInput("float32", (2,)),), (node, node), (Ref(False, 0),))


def test_host_runner_compiles_when_it_can_and_falls_back_to_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpugraph.fusion import compiled, host

    x = tf.placeholder(tf.float32, [3])
    y = tf.abs(x) * x
    region = region_from_ops([y.op.inputs[0].op, y.op], [x], [y])
    assert isinstance(host_runner(region), compiled.CompiledRegion)  # g++ is there (tests/kernels needs it)
    xs = np.array([-2.0, -0.0, np.nan], np.float32)
    monkeypatch.setenv("CXX", "no-such-compiler")
    compiled.compiler.cache_clear()
    monkeypatch.setattr(host, "_runners", {})
    try:
        assert not compiled.available()
        fallback = host_runner(region)
        assert isinstance(fallback, NumpyRegion)
        assert same_values(fallback(xs)[0], np.abs(xs) * xs) is None
        with pytest.raises(RuntimeError, match="no C\\+\\+ compiler"):
            host_runner(region, "compiled")
    finally:
        compiled.compiler.cache_clear()
