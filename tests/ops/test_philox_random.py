"""Seeded random ops give TF1's own numbers (TF's Philox4x32-10 CPU kernels), checked against TF data.

philox_reference.json is written by data/make_philox_reference.py with TensorFlow: two runs of each case
in one session. Here the same graphs run twice in one session and once in a new one (which replays run 1).
Uniforms, integers, shuffles and categorical draws are compared exactly. Normals are compared to a few ulp:
glibc's logf/sincosf (used by TF) are not always correctly rounded, NumPy's functions round differently
in about 1% of values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops.random_extra_ops import fisher_yates_sources

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from make_philox_reference import CASES, build, layer_values  # noqa: E402

REFERENCE = json.loads((Path(__file__).resolve().parent / "data" / "philox_reference.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _assert_matches_tf(got: np.ndarray, want: list, normal: bool) -> None:
    want_arr = np.asarray(want, dtype=got.dtype)
    assert got.shape == want_arr.shape
    if normal:
        # an ulp of the raw normal, scaled by stddev and shifted by mean: a few ulp of max(|value|, 1)
        ulp = np.spacing(np.maximum(np.abs(want_arr), want_arr.dtype.type(1)))
        assert np.all(np.abs(got - want_arr) <= 8 * ulp), np.max(np.abs(got - want_arr) / ulp)
        assert np.mean(got == want_arr) > 0.95  # nearly all bit-equal
    else:
        np.testing.assert_array_equal(got, want_arr)


@pytest.mark.parametrize("name", list(CASES))
def test_values_equal_tensorflow_run_after_run_and_in_a_new_session(name):
    t = build(tf, name)
    with tf.Session() as sess:
        runs = [sess.run(t) for _ in range(2)]
    with tf.Session() as sess:
        runs.append(sess.run(t))
    want = REFERENCE["cases"][name]
    normal = CASES[name][0] in ("normal", "truncated")
    for got, ref in zip(runs, [want[0], want[1], want[0]]):
        _assert_matches_tf(got, ref, normal)
    assert not np.array_equal(runs[0], runs[1])  # each run draws new values


def test_glorot_dense_kernel_initializer_and_dropout_equal_tensorflow():
    got = layer_values(tf)
    want = REFERENCE["layers"]
    np.testing.assert_array_equal(np.asarray(got["kernel"], np.float32), np.asarray(want["kernel"], np.float32))
    w_got, w_want = np.asarray(got["w"], np.float32), np.asarray(want["w"], np.float32)
    assert np.all(np.abs(w_got - w_want) <= 8 * np.spacing(np.float32(0.1)))  # truncated normals, stddev 0.1
    for got_run, want_run in zip(got["dropout_runs"], want["dropout_runs"]):
        got_run, want_run = np.asarray(got_run, np.float32), np.asarray(want_run, np.float32)
        np.testing.assert_array_equal(got_run == 0, want_run == 0)  # the same mask
        np.testing.assert_allclose(got_run, want_run, rtol=1e-6)


def test_no_seed_is_nondeterministic_and_graph_seed_hands_out_op_seeds_in_order():
    r = tf.random_uniform([16])
    with tf.Session() as s1, tf.Session() as s2:
        assert not np.array_equal(s1.run(r), s2.run(r))
    tf.set_random_seed(5)
    assert tf.get_seed(None) == (5, 0)
    tf.constant(1.0)  # other ops do not count: TF's graph-seed counter
    assert tf.get_seed(None) == (5, 1)
    tf.set_random_seed(6)
    assert tf.get_seed(None) == (6, 2)  # the count goes on under a new graph seed, as in TF


def _sequential_fisher_yates(targets: list[int]) -> list[int]:
    perm = list(range(len(targets) + 1))
    for t, j in enumerate(targets):
        perm[t], perm[j] = perm[j], perm[t]
    return perm


def test_vectorised_fisher_yates_equals_the_sequential_walk():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 64, 257):
        for _ in range(20):
            targets = [t + int(rng.integers(0, n - t)) for t in range(n - 1)]
            got = fisher_yates_sources(np, np.asarray([*targets, n - 1], dtype=np.int64))
            assert got.tolist() == _sequential_fisher_yates(targets)


def test_shuffle_keeps_rows_and_passes_small_inputs_through():
    x = np.arange(24).reshape(8, 3)
    s = tf.random_shuffle(x, seed=1)
    one = tf.random_shuffle([[4.0, 5.0]], seed=1)
    scalar = tf.random.shuffle(3, seed=2)
    assert s.name == "RandomShuffle:0" and s.shape.as_list() == [8, 3]
    with tf.Session() as sess:
        sv, ov, cv = sess.run([s, one, scalar])
    assert sorted(sv[:, 0].tolist()) == x[:, 0].tolist() and np.array_equal(sv, x[sv[:, 0] // 3])
    np.testing.assert_array_equal(ov, [[4.0, 5.0]])
    assert cv == 3
    v = tf.constant([1.0, 2.0])
    assert tf.gradients(tf.reduce_sum(tf.random_shuffle(v)), v) == [None]  # TF: not differentiable


def test_multinomial_names_dtypes_errors_and_frequencies():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]]))
    m = tf.multinomial(logits, 4000, seed=3)
    c = tf.random.categorical(logits, 5, dtype=tf.int32, seed=3)
    assert m.name == "multinomial/Multinomial:0" and m.dtype == tf.int64 and m.shape.as_list() == [2, 4000]
    assert c.name == "categorical/Multinomial:0" and c.dtype == tf.int32
    with pytest.raises(ValueError, match="dtype"):
        tf.random.categorical(logits, 2, dtype=tf.float32)
    with pytest.raises(ValueError, match="rank 2"):
        tf.multinomial([0.0, 1.0], 2)
    with tf.Session() as sess:
        mv = sess.run(m)
    freq = np.stack([np.bincount(row, minlength=3) / 4000 for row in mv])
    np.testing.assert_allclose(freq, np.exp(logits), atol=0.03)
    bad = tf.multinomial(np.zeros((2, 0), np.float32), 3, seed=1)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="num_classes should be positive"):
        sess.run(bad)


def test_uniform_int_needs_minval_below_maxval_at_run_time():
    lo = tf.placeholder(tf.int32, [])
    r = tf.random_uniform([3], lo, 5, dtype=tf.int32, seed=1)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval"):
        sess.run(r, {lo: 5})


def test_run_time_shape():
    n = tf.placeholder(tf.int32, [])
    r = tf.random_uniform(tf.stack([n, 2]), seed=5)
    fixed = tf.random_uniform([3, 2], seed=5)
    with tf.Session() as sess:
        got = sess.run(r, {n: 3})
    with tf.Session() as sess:
        want = sess.run(fixed)
    np.testing.assert_array_equal(got, want)  # the same op seed: the same stream


def _device_like_numpy():
    """NumPy under another name: the lowerings take their device branch (one piece, no host checks)."""
    import types

    xp = types.ModuleType("device_numpy")
    xp.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    return xp


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_device_branch_draws_the_host_values(dtype):
    from gpugraph.ops import philox

    xp, key, dt = _device_like_numpy(), (12345, 6), np.dtype(dtype)
    for draw in (philox.uniform, philox.normal, philox.truncated_normal):
        np.testing.assert_array_equal(draw(xp, key, 77 << 64, 70001, dt), draw(np, key, 77 << 64, 70001, dt))
    lo, hi = np.asarray(-3, np.int64), np.asarray(2**40, np.int64)
    np.testing.assert_array_equal(philox.uniform_int(xp, key, 5, 999, lo, hi, np.dtype(np.int64)),
                                  philox.uniform_int(np, key, 5, 999, lo, hi, np.dtype(np.int64)))


def test_truncated_normal_groups_short_of_values_read_on_through_their_blocks(monkeypatch):
    from gpugraph.ops import philox

    key, dt = (3, 4), np.dtype(np.float32)
    want = philox.truncated_normal(np, key, 0, 4001, dt)
    monkeypatch.setattr(philox, "_TRUNCATED_FIRST_BLOCKS", {4: 1, 2: 1})  # many groups now come up short
    monkeypatch.setattr(philox, "_TRUNCATED_RETRIES", 4001)
    np.testing.assert_array_equal(philox.truncated_normal(np, key, 0, 4001, dt), want)
    assert np.all(np.abs(want) < 2.0)
