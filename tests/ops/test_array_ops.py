"""Shape and structure ops: reshape, expand/squeeze, fill/zeros/ones(_like), stack, transpose,
shape/size/rank, ``tensor[...]`` indexing and tf.strided_slice's bit masks, against NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


X = np.arange(24.0).reshape(2, 3, 4)


def test_default_op_names() -> None:
    t = tf.constant(X)
    made = {
        "Reshape": tf.reshape(t, [4, 6]), "transpose": tf.transpose(t), "zeros": tf.zeros([2]), "ones": tf.ones([2]),
        "zeros_like": tf.zeros_like(t), "ones_like": tf.ones_like(t), "Fill": tf.fill([2], 1.0),
        "stack": tf.stack([t, t]), "ExpandDims": tf.expand_dims(t, 0), "Squeeze": tf.squeeze(tf.ones([1, 2])),
        "Shape": tf.shape(t), "Size": tf.size(t), "Rank": tf.rank(t), "Identity": tf.identity(t),
        "StopGradient": tf.stop_gradient(t), "strided_slice": t[0], "StridedSlice": tf.strided_slice(t, [0], [1]),
    }
    for name, out in made.items():
        assert out.op.name == name
    assert tf.transpose(t, name="tp").op.name == "tp"
    with tf.name_scope("s"):
        assert tf.zeros([2]).op.name == "s/zeros" and tf.ones_like(t).op.name == "s/ones_like"


# --- reshape ---
def test_reshape_with_minus_one() -> None:
    t = tf.constant(X)
    outs = [tf.reshape(t, [-1, 4]), tf.reshape(t, [4, -1]), tf.reshape(t, [-1]), tf.reshape(t, (2, -1, 2)),
            tf.reshape(tf.constant([3.0]), []), tf.reshape(t, tf.TensorShape([6, 4])), tf.reshape(t, np.array([3, 8]))]
    wants = [X.reshape(-1, 4), X.reshape(4, -1), X.reshape(-1), X.reshape(2, -1, 2), np.float64(3.0),
             X.reshape(6, 4), X.reshape(3, 8)]
    for o, w in zip(outs, wants):
        assert o.shape.as_tuple() == np.shape(w)
    for got, w in zip(run(*outs), wants):
        np.testing.assert_array_equal(got, w)


def test_reshape_invalid_sizes_fail_when_built() -> None:
    t = tf.constant(X)
    with pytest.raises(ValueError, match="24 elements.*'Reshape'.*\\[2,3,4\\]"):
        tf.reshape(t, [5, 5])
    with pytest.raises(ValueError, match="24 elements"):
        tf.reshape(t, [5, -1])
    with pytest.raises(ValueError, match="more than one -1"):
        tf.reshape(t, [-1, -1])
    with pytest.raises(ValueError, match=">= -1"):
        tf.reshape(t, [-2, 12])
    assert tf.reshape(t, tf.constant([4, 6])).shape.as_tuple() == (4, 6)  # a constant shape tensor is static
    with pytest.raises(TypeError, match="list of ints"):
        tf.reshape(t, [2.5, -1])  # no silent truncation to 2
    with pytest.raises(TypeError, match="list of ints"):
        tf.reshape(t, [tf.Dimension(None), 4])
    assert tf.reshape(t, [t.shape[2], -1]).shape.as_tuple() == (4, 6)  # TF1 Dimensions are ints here


def test_reshape_with_unknown_dims() -> None:
    p = tf.placeholder(tf.float64, [None, 4])
    assert tf.reshape(p, [-1, 2, 2]).shape.as_tuple() == (None, 2, 2)
    assert tf.reshape(p, [2, -1]).shape.as_tuple() == (2, None)
    v = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(run(tf.reshape(p, [-1, 2, 2]), feed={p: v}), v.reshape(-1, 2, 2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Reshape"):
        run(tf.reshape(p, [5, -1]), feed={p: v})


# --- expand_dims / squeeze ---
@pytest.mark.parametrize("axis", [0, 1, 3, -1, -2, -4])
def test_expand_dims(axis: int) -> None:
    out = tf.expand_dims(tf.constant(X), axis)
    want = np.expand_dims(X, axis)
    assert out.shape.as_tuple() == want.shape
    np.testing.assert_array_equal(run(out), want)


def test_expand_dims_errors_and_legacy_dim() -> None:
    t = tf.constant(X)
    assert tf.expand_dims(t, dim=1).shape.as_tuple() == (2, 1, 3, 4)
    assert tf.expand_dims(t, [2]).shape.as_tuple() == (2, 3, 1, 4)  # a one-element axis list, as in TF1
    with pytest.raises(ValueError, match="single axis"):
        tf.expand_dims(t, [0, 1])
    with pytest.raises(TypeError, match="integer"):
        tf.expand_dims(t, 1.0)
    for bad in (4, -5):
        with pytest.raises(ValueError, match="ExpandDims"):
            tf.expand_dims(t, bad)
    assert tf.expand_dims(tf.placeholder(tf.float32), 0).shape.as_tuple() is None


def test_squeeze() -> None:
    v = np.arange(6.0).reshape(1, 3, 1, 2)
    t = tf.constant(v)
    cases = [(None, None), ([0], (0,)), (-2, (-2,)), ([0, 2], (0, 2)), ([], None)]
    outs = [tf.squeeze(t, a) for a, _ in cases] + [tf.squeeze(t, squeeze_dims=[2])]
    wants = [np.squeeze(v, a) for _, a in cases] + [np.squeeze(v, 2)]
    for o, w in zip(outs, wants):
        assert o.shape.as_tuple() == w.shape
    for got, w in zip(run(*outs), wants):
        np.testing.assert_array_equal(got, w)
    with pytest.raises(ValueError, match="Can not squeeze dim\\[1\\].*'Squeeze'"):
        tf.squeeze(t, 1)
    with pytest.raises(ValueError, match="Squeeze"):
        tf.squeeze(t, 4)
    with pytest.raises(TypeError, match="integer"):
        tf.squeeze(t, 0.5)


def test_squeeze_with_unknown_dims() -> None:
    p = tf.placeholder(tf.float64, [None, 1, 3])
    assert tf.squeeze(p).shape.as_tuple() is None  # the None dim may or may not be 1
    assert tf.squeeze(p, [1]).shape.as_tuple() == (None, 3)
    assert tf.squeeze(p, [0]).shape.as_tuple() == (1, 3)
    np.testing.assert_array_equal(run(tf.squeeze(p), feed={p: np.ones((1, 1, 3))}), np.ones(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Squeeze"):
        run(tf.squeeze(p, [0]), feed={p: np.ones((2, 1, 3))})


# --- fill, zeros, ones and their _like forms ---
def test_fill_zeros_ones_dtypes_and_values() -> None:
    outs = [tf.fill([2, 3], 7), tf.fill((2,), 1.5), tf.zeros([2, 2], tf.int32), tf.zeros([3]),
            tf.ones((2,), tf.float64), tf.ones(3, dtype=tf.bool), tf.zeros([]),
            tf.fill([2], tf.constant(2.5, tf.float64)), tf.zeros(tf.TensorShape([1, 2]), "int64")]
    wants = [np.full((2, 3), 7, np.int32), np.full(2, 1.5, np.float32), np.zeros((2, 2), np.int32),
             np.zeros(3, np.float32), np.ones(2), np.ones(3, bool), np.float32(0), np.full(2, 2.5),
             np.zeros((1, 2), np.int64)]
    for o, w in zip(outs, wants):
        assert o.dtype == tf.as_dtype(w.dtype) and o.shape.as_tuple() == w.shape
    for got, w in zip(run(*outs), wants):
        assert got.dtype == w.dtype
        np.testing.assert_array_equal(got, w)
    with pytest.raises(ValueError, match="rank 0.*'Fill'"):
        tf.fill([2], [1.0, 2.0])


def test_zeros_like_ones_like_with_dtype() -> None:
    t = tf.constant(X)
    p = tf.placeholder(tf.float64, [None, 3])
    outs = [tf.zeros_like(t), tf.ones_like(t, dtype=tf.int32), tf.zeros_like(tf.constant([True])),
            tf.ones_like([1.0, 2.0]), tf.ones_like(p), tf.zeros_like(p, dtype=tf.bool), tf.ones_like(p, tf.int64),
            tf.zeros_like(t, optimize=False)]
    wants = [np.zeros_like(X), np.ones(X.shape, np.int32), np.zeros(1, bool), np.ones(2, np.float32),
             np.ones((4, 3)), np.zeros((4, 3), bool), np.ones((4, 3), np.int64), np.zeros_like(X)]
    for o, w in zip(outs, wants):
        assert o.dtype == tf.as_dtype(w.dtype)
    assert outs[4].shape.as_tuple() == (None, 3) and outs[4].op.type == "OnesLike"
    assert outs[0].op.type == "Fill"  # a known shape gives a constant fill, as TF1's optimize=True
    assert outs[7].op.type == "ZerosLike"
    got = run(*outs, feed={p: np.full((4, 3), 5.0)})
    for g, w in zip(got, wants):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


# --- stack / unstack ---
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -4])
def test_stack_unstack_round_trip(axis: int) -> None:
    others = [X + k for k in range(3)]
    stacked = tf.stack([tf.constant(o) for o in others], axis=axis)
    want = np.stack(others, axis=axis)
    assert stacked.shape.as_tuple() == want.shape
    parts = tf.unstack(stacked, axis=axis)
    assert len(parts) == 3 and all(p.shape.as_tuple() == X.shape for p in parts)
    back = tf.stack(parts, axis=axis)
    got = run(stacked, back, *parts)
    np.testing.assert_array_equal(got[0], want)
    np.testing.assert_array_equal(got[1], want)
    for g, o in zip(got[2:], others):
        np.testing.assert_array_equal(g, o)


def test_stack_errors_and_mixed_values() -> None:
    t = tf.constant(X)
    with pytest.raises(ValueError, match="'stack'.*'Pack'"):
        tf.stack([t, t], axis=4)
    with pytest.raises(ValueError, match="Pack"):
        tf.stack([t, tf.constant(np.ones((3, 2)))])
    with pytest.raises(ValueError):
        tf.stack([])
    mixed = tf.stack([1.0, tf.constant(2.0), 3])
    assert mixed.dtype == tf.float32
    np.testing.assert_array_equal(run(mixed), [1.0, 2.0, 3.0])


# --- transpose ---
@pytest.mark.parametrize("perm", [None, [0, 1, 2], [2, 0, 1], [1, 2, 0], (0, 2, 1)])
def test_transpose_and_its_gradient(perm: Any) -> None:
    x = tf.constant(X)
    out = tf.transpose(x, perm)
    want = np.transpose(X, perm)
    assert out.shape.as_tuple() == want.shape
    w = np.arange(want.size, dtype=np.float64).reshape(want.shape)
    g = tf.gradients(tf.reduce_sum(out * w), x)[0]
    got_out, got_g = run(out, g)
    np.testing.assert_array_equal(got_out, want)
    inverse = None if perm is None else np.argsort(perm)
    np.testing.assert_array_equal(got_g, np.transpose(w, inverse))


def test_transpose_errors() -> None:
    t = tf.constant(X)
    for bad in ([0, 1], [0, 1, 1], [0, 1, 3]):
        with pytest.raises(ValueError, match=r"permutation.*\(op: 'Transpose'\)"):
            tf.transpose(t, bad)
    with pytest.raises(TypeError, match="integer"):
        tf.transpose(t, [1.0, 0.0, 2.0])
    assert tf.transpose(tf.placeholder(tf.float32, [None, 2])).shape.as_tuple() == (2, None)
    np.testing.assert_array_equal(run(tf.transpose(t, np.array([2, 1, 0]))), X.T)


# --- shape, size, rank ---
def test_shape_size_rank_at_run_time() -> None:
    p = tf.placeholder(tf.float32, [None, 4])
    u = tf.placeholder(tf.float32)
    sh, sz, rk = tf.shape(p), tf.size(p), tf.rank(p)
    assert sh.dtype == tf.int32 and sh.shape.as_tuple() == (2,) and sz.shape.as_tuple() == ()
    assert tf.shape(u).shape.as_tuple() == (None,)
    sh64, sz64 = tf.shape(u, out_type=tf.int64), tf.size(u, out_type=tf.int64)
    v, w = np.ones((3, 4), np.float32), np.ones((2, 5, 1), np.float32)
    got = run(sh, sz, rk, sh64, sz64, tf.rank(u), feed={p: v, u: w})
    np.testing.assert_array_equal(got[0], [3, 4])
    assert got[1] == 12 and got[2] == 2 and got[5] == 3
    assert got[3].dtype == np.int64 and got[3].tolist() == [2, 5, 1]
    assert got[4].dtype == np.int64 and got[4] == 10
    np.testing.assert_array_equal(run(tf.shape(tf.constant(X))), [2, 3, 4])


# --- tensor[...] ---
SPECS: list[Any] = [
    1, -1, slice(1, 3), slice(None, None, -1), (slice(None), slice(0, 1)), (Ellipsis, None), (-1, -2),
    (slice(None), -1, slice(None, None, -2)), (None, 0, Ellipsis, 1), (Ellipsis, 2), (0, Ellipsis, None, 1),
    slice(5, 10), slice(-10, 10, 2), (slice(None, None, -2), slice(2, 0, -1)), (1, 2, 3), Ellipsis,
    (np.int64(1), np.int32(-1)),
]


@pytest.mark.parametrize("spec", SPECS, ids=[repr(s) for s in SPECS])
def test_indexing_matches_numpy(spec: Any) -> None:
    t = tf.constant(X)
    out = t[spec]
    want = X[spec]
    assert out.op.type == "StridedSlice" and out.shape.as_tuple() == np.shape(want)
    np.testing.assert_array_equal(run(out), want)


def test_indexing_errors() -> None:
    t = tf.constant(X)
    for bad in (2, -3, (slice(None), 3), (0, 0, 4)):
        with pytest.raises(ValueError, match="out of bounds.*'strided_slice(_\\d+)?'"):
            t[bad]
    with pytest.raises(ValueError, match="more dimensions"):
        t[0, 0, 0, 0]
    with pytest.raises(ValueError, match="Multiple ellipses"):
        t[..., 0, ...]
    with pytest.raises(ValueError, match="step"):
        t[::0]
    with pytest.raises(TypeError, match="scalar tf.int32/tf.int64 tensors are valid indices"):
        t[tf.constant(0.0)]
    for bad_item in (1.0, True, [0, 1], "a"):
        with pytest.raises(TypeError, match="valid indices"):
            t[bad_item]


def test_indexing_unknown_dims_and_gradient() -> None:
    p = tf.placeholder(tf.float64, [None, 4])
    assert p[0].shape.as_tuple() == (4,) and p[:, 1].shape.as_tuple() == (None,)
    assert p[1:3].shape.as_tuple() == (None, 4) and p[..., None].shape.as_tuple() == (None, 4, 1)
    u = tf.placeholder(tf.float64)
    assert u[0].shape.as_tuple() is None
    v = np.arange(12.0).reshape(3, 4)
    got = run(p[-1], p[:, ::-2], u[1], feed={p: v, u: v})
    np.testing.assert_array_equal(got[0], v[-1])
    np.testing.assert_array_equal(got[1], v[:, ::-2])
    np.testing.assert_array_equal(got[2], v[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="strided_slice"):
        run(p[5], feed={p: v})
    g = tf.gradients(tf.reduce_sum(p[::-1, 1:3] * 2.0) + tf.reduce_sum(p[1] * p[1]), p)[0]
    want = np.zeros_like(v)
    want[:, 1:3] = 2.0
    want[1] += 2 * v[1]
    np.testing.assert_array_equal(run(g, feed={p: v}), want)


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-5, 5)), st.one_of(st.none(), st.integers(-5, 5)),
                          st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))),
                min_size=1, max_size=3))
def test_random_slices_match_numpy(parts: list[tuple[Any, Any, Any]]) -> None:
    spec = tuple(slice(*p) for p in parts)
    with tf.Graph().as_default():
        out = tf.constant(X)[spec]
        assert out.shape.as_tuple() == X[spec].shape
        np.testing.assert_array_equal(run(out), X[spec])


# --- tf.strided_slice with bit masks (TF1 semantics; NumPy gives the expected value) ---
MASKS: list[tuple[Any, dict[str, int], Any]] = [
    (([0, 1, 0], [2, 3, 4], [1, 1, 1]), {}, np.s_[0:2, 1:3, 0:4]),
    (([1, 0, 0], [0, 3, 4], [1, 1, 1]), {"begin_mask": 1, "end_mask": 1}, np.s_[:, 0:3, 0:4]),
    (([0, 0, 3], [0, 0, 0], [1, 1, -1]), {"begin_mask": 3, "end_mask": 7}, np.s_[:, :, 3::-1]),
    (([0, 0, 0], [0, 0, 0], [-1, 1, -2]), {"begin_mask": 7, "end_mask": 7}, np.s_[::-1, :, ::-2]),
    (([1, 0], [2, 0], [1, 1]), {"shrink_axis_mask": 1, "end_mask": 2}, np.s_[1, :]),
    (([0, 1], [0, 2], [1, 1]), {"ellipsis_mask": 1, "shrink_axis_mask": 2}, np.s_[..., 1]),
    (([0, 0, 1], [0, 0, 3], [1, 1, 1]), {"ellipsis_mask": 1, "new_axis_mask": 2}, np.s_[..., None, 1:3]),
    (([-1, 0], [0, 0], [1, 1]), {"shrink_axis_mask": 1, "new_axis_mask": 2}, np.s_[-1, None]),
    (([0, 5], [2, 9], [1, 1]), {"new_axis_mask": 1, "shrink_axis_mask": 1}, np.s_[None, 5:9]),  # new axis wins
    (([0], [2], [1]), {"shrink_axis_mask": 1, "ellipsis_mask": 1}, np.s_[...]),  # ellipsis wins
    (([0, 0, 0], [2, 3, 4], [2, 2, 3]), {}, np.s_[0:2:2, 0:3:2, 0:4:3]),
    (([1, 2, 3], [2, 3, 4], [1, 1, 1]), {"shrink_axis_mask": 7}, np.s_[1, 2, 3]),
    (([1], [-1], [1]), {"end_mask": 0}, np.s_[1:-1]),
    (([0, -1], [0, 0], [1, 1]), {"begin_mask": 1, "end_mask": 1, "shrink_axis_mask": 2}, np.s_[:, -1]),
]


@pytest.mark.parametrize("args,masks,np_spec", MASKS, ids=[f"{m[1]}-{m[0][0]}" for m in MASKS])
def test_strided_slice_masks(args: Any, masks: dict[str, int], np_spec: Any) -> None:
    out = tf.strided_slice(tf.constant(X), *args, **masks)
    want = X[np_spec]
    assert out.op.type == "StridedSlice" and out.shape.as_tuple() == np.shape(want)
    np.testing.assert_array_equal(run(out), want)


def test_strided_slice_defaults_errors_and_gradient() -> None:
    x = tf.constant(X)
    np.testing.assert_array_equal(run(tf.strided_slice(x, [0, 1], [1, 3])), X[0:1, 1:3])
    assert tf.strided_slice(x, [0], [1], name="head").op.name == "head"
    with pytest.raises(ValueError, match="same length"):
        tf.strided_slice(x, [0, 1], [1])
    with pytest.raises(ValueError, match="Multiple ellipses"):
        tf.strided_slice(x, [0, 0], [0, 0], ellipsis_mask=3)
    with pytest.raises(ValueError, match="step"):
        tf.strided_slice(x, [0], [1], [0])
    g = tf.gradients(tf.reduce_sum(tf.strided_slice(x, [0, 0, 3], [0, 0, 0], [1, 1, -2], begin_mask=3,
                                                    end_mask=7)), x)[0]
    want = np.zeros_like(X)
    want[:, :, 3::-2] = 1.0
    np.testing.assert_array_equal(run(g), want)


def test_stop_gradient_and_identity() -> None:
    x = tf.constant(np.array([1.0, 2.0]))
    y = tf.identity(x) * 3.0 + tf.stop_gradient(x) * 5.0
    np.testing.assert_array_equal(run(tf.gradients(tf.reduce_sum(y), x)[0]), [3.0, 3.0])
    assert tf.gradients(tf.reduce_sum(tf.stop_gradient(x)), x) == [None]


@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_expand_dims_at_every_axis_is_numpys_view(rank: int) -> None:
    value = np.arange(int(np.prod((2, 3, 4)[:rank])), dtype=np.float32).reshape((2, 3, 4)[:rank])
    known = tf.placeholder(tf.float32, value.shape)
    unknown = tf.placeholder(tf.float32)  # the rank known only at run time: NumPy's expand_dims
    for axis in range(-rank - 1, rank + 1):
        with tf.Session() as sess:
            got_known, got_unknown = sess.run([tf.expand_dims(known, axis), tf.expand_dims(unknown, axis)],
                                              {known: value, unknown: value})
        want = np.expand_dims(value, axis)
        for got in (got_known, got_unknown):
            assert got.shape == want.shape and got.dtype == np.float32
            np.testing.assert_array_equal(got, want)
