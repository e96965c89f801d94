"""A compiled region writing its outputs into given arrays, one of them an input it reads: the values are
NumPy's, bit for bit, and an array the loop cannot fill is left as it was."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.fusion import compiled, region_from_ops

pytestmark = pytest.mark.skipif(not compiled.available(), reason="no host C++ compiler")


def _ops(*tensors: tf.Tensor) -> list:
    return [op for op in tensors[0].graph.get_operations() if op.type not in ("Placeholder", "Const")]


def bias_relu_region(dtype=tf.float32):
    """relu(x + b) * 2 - b and x * b: two outputs over a batch x (n, 8) and a row b (8,)."""
    x, b = tf.placeholder(dtype, [None, 8]), tf.placeholder(dtype, [8])
    y = tf.nn.relu(x + b) * tf.constant(2, dtype) - b
    z = x * b
    ops = [op for op in _ops(y, z) if op.type != "Const"]
    two = [op for op in y.graph.get_operations() if op.type == "Const"][0].outputs[0]
    return region_from_ops(ops, [x, b, two], [y, z])


def float32_inputs(seed):
    """A batch x (1000, 8), a row b (8,) and the constant 2 for ``bias_relu_region()``."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((1000, 8)).astype(np.float32), rng.standard_normal(8).astype(np.float32),
            np.asarray(2, np.float32))


def want(xs, bs):
    two = xs.dtype.type(2)
    return np.maximum(xs + bs, 0) * two - bs, xs * bs


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32])
def test_an_output_written_over_its_input_equals_a_fresh_one(dtype):
    region = bias_relu_region(dtype)
    loop = compiled.CompiledRegion(region)
    rng = np.random.default_rng(0)
    np_dtype = dtype.as_numpy_dtype
    xs = (rng.standard_normal((1000, 8)) * 10).astype(np_dtype)
    bs = (rng.standard_normal(8) * 10).astype(np_dtype)
    two = np.asarray(2, np_dtype)
    fresh_y, fresh_z = loop(xs.copy(), bs, two)
    x_buffer = xs.copy()
    y, z = loop.into((x_buffer, None), x_buffer, bs, two)  # y over x
    assert y is x_buffer and z is not x_buffer
    want_y, want_z = want(xs, bs)
    for got, fresh, ref in ((y, fresh_y, want_y), (z, fresh_z, want_z)):
        assert got.tobytes() == fresh.tobytes() == ref.tobytes()
    x_buffer = xs.copy()
    y, z = loop.into((None, x_buffer), x_buffer, bs, two)  # z over x, read by y's nodes too
    assert z is x_buffer and y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()


@pytest.mark.parametrize("unfit", ["dtype", "shape", "strided", "read-only"])
def test_an_array_the_loop_cannot_fill_is_left_alone(unfit):
    region = bias_relu_region()
    loop = compiled.CompiledRegion(region)
    xs, bs, two = float32_inputs(1)
    given = {"dtype": np.zeros((1000, 8), np.float64), "shape": np.zeros((999, 8), np.float32),
             "strided": np.zeros((1000, 16), np.float32)[:, ::2], "read-only": np.zeros((1000, 8), np.float32)}[unfit]
    if unfit == "read-only":
        given.flags.writeable = False
    y, z = loop.into((given, None), xs, bs, two)
    assert y is not given and not given.any()
    want_y, want_z = want(xs, bs)
    assert y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()


def test_the_in_place_loop_promises_no_restrict_and_states_its_independence():
    region = bias_relu_region()
    text, name = compiled.host_source(region, ("a", "r", "s"), in_place=True)
    assert "__restrict__" not in text and "#pragma GCC ivdep" in text and name.endswith("_inplace")
    text, name = compiled.host_source(region, ("a", "r", "s"))
    assert "__restrict__" in text and "ivdep" not in text and not name.endswith("_inplace")


def test_a_loop_bound_to_its_shapes_runs_what_into_runs_and_refuses_what_it_cannot_take():
    """``bound`` skips ``into``'s working out for arrays of the shapes it was made for: the values and the
    in-place writes are ``into``'s; other arrays get None (the caller then runs ``into``)."""
    region = bias_relu_region()
    loop = compiled.CompiledRegion(region)
    xs, bs, two = float32_inputs(2)
    assert loop.bound((xs.shape, bs.shape, two.shape)) is None  # no call of these shapes yet
    loop(xs, bs, two)
    run = loop.bound((xs.shape, bs.shape, two.shape))
    want_y, want_z = want(xs, bs)
    y, z = run(None, (xs, bs, two))
    assert y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()
    x_buffer = xs.copy()
    y, z = run((x_buffer, None), (x_buffer, bs, two))  # y written over x, as into does
    assert y is x_buffer and y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()
    unfit = np.zeros((1000, 8), np.float64)
    y, _ = run((unfit, None), (xs, bs, two))
    assert y is not unfit and not unfit.any() and y.tobytes() == want_y.tobytes()
    wide = np.zeros((1000, 16), np.float32)
    wide[:, ::2] = xs
    others = [(xs[:999], bs, two), (xs.astype(np.float64), bs, two), (wide[:, ::2], bs, two),
              (xs.tolist(), bs, two), (xs, bs, 2.0)]
    for arrays in others:
        assert run(None, arrays) is None


def test_no_bound_loop_for_shapes_into_copies_or_shrinks():
    region = bias_relu_region()
    loop = compiled.CompiledRegion(region)
    xs = np.ones((1000, 8), np.float32)
    column = np.ones((1000, 1), np.float32)  # broadcast along the row: copied out in full
    two = np.asarray(2, np.float32)
    loop(xs, column, two)
    assert loop.bound((xs.shape, column.shape, two.shape)) is None
