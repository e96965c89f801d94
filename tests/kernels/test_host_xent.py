"""The host's compiled sparse softmax cross-entropy: the NumPy path's values to the bit (its own pairwise
row sums included), TF1's error for a label out of range, and the NumPy path where it does not apply."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.fusion import compiled
from gpugraph.kernels import host_xent
from built_now import built_on_first_call
from gpugraph.ops import nn_ops

pytestmark = pytest.mark.skipif(not compiled.available(), reason="no host C++ compiler")


@pytest.fixture(autouse=True)
def built(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from built_on_first_call(host_xent._KERNELS, tmp_path_factory.mktemp("host-xent"), monkeypatch)


def _reference(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The NumPy path, in its own words (rows max, exp, NumPy's row sums, log)."""
    top = x.max(axis=-1, keepdims=True)
    shifted = x - top
    e = np.exp(shifted)
    total = e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(shifted, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    loss = np.log(total)[..., 0] - picked
    backprop = e / total
    np.put_along_axis(backprop, labels[..., None].astype(np.int64), np.take_along_axis(
        backprop, labels[..., None].astype(np.int64), axis=-1) - 1, axis=-1)
    return loss, backprop


CLASSES = [1, 2, 7, 8, 9, 10, 16, 17, 100, 128, 129, 300, 1000]


@pytest.mark.parametrize("ldtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", CLASSES)
def test_equals_the_numpy_path_bit_for_bit(n: int, dtype: type, ldtype: type) -> None:
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((37, n)) * rng.uniform(0.1, 30)).astype(dtype)
    labels = rng.integers(0, n, 37).astype(ldtype)
    loss, backprop = host_xent.sparse_xent(x, labels)
    want_loss, want_backprop = _reference(x, labels)
    assert loss.dtype == want_loss.dtype and backprop.dtype == want_backprop.dtype
    assert loss.tobytes() == want_loss.tobytes() and backprop.tobytes() == want_backprop.tobytes()
    old_loss, old_backprop = nn_ops._sparse_xent_rows(np, x, labels, x.dtype)
    assert loss.tobytes() == old_loss.tobytes() and backprop.tobytes() == old_backprop.tobytes()


def test_rows_with_nan_and_infinities_and_more_axes() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 10)).astype(np.float32)
    x[0, 1, 3] = np.nan
    x[1, 2, :] = -np.inf
    x[2, 3, 4] = np.inf
    x[3, 0, :] = -0.0
    labels = rng.integers(0, 10, (4, 6)).astype(np.int32)
    with np.errstate(all="ignore"):
        loss, backprop = host_xent.sparse_xent(x, labels)
        want_loss, want_backprop = _reference(x, labels)
    assert loss.shape == (4, 6) and backprop.shape == (4, 6, 10)
    assert loss.tobytes() == want_loss.tobytes() and backprop.tobytes() == want_backprop.tobytes()


@pytest.mark.parametrize("bad", [-1, 10, 99])
def test_a_label_out_of_range_raises_tf1s_error_naming_the_first(bad: int) -> None:
    labels = np.array([3, 4, bad, 5, 12], np.int64)
    with pytest.raises(ValueError, match=rf"Received a label value of {bad} which is outside the valid range "
                                         r"of \[0, 10\)\."):
        host_xent.sparse_xent(np.zeros((5, 10), np.float32), labels)


@pytest.mark.parametrize("case", ["float16", "int labels as float", "empty", "list", "uint8 labels",
                                  "fewer labels", "labels of another shape"])
def test_what_the_kernels_do_not_take_is_left_to_numpy(case: str) -> None:
    x, labels = np.zeros((3, 4), np.float32), np.zeros(3, np.int32)
    x, labels = {"float16": (x.astype(np.float16), labels), "int labels as float": (x, labels.astype(np.float32)),
                 "empty": (np.zeros((0, 4), np.float32), np.zeros(0, np.int32)), "list": (x.tolist(), labels),
                 "uint8 labels": (x, labels.astype(np.uint8)), "fewer labels": (x, labels[:2]),
                 "labels of another shape": (np.zeros((2, 3, 4), np.float32), np.zeros((3, 2), np.int32))}[case]
    assert host_xent.sparse_xent(x, labels) is None


def test_labels_that_do_not_match_the_logits_get_the_numpy_paths_error() -> None:
    logits = tf.placeholder(tf.float32, [None, 4])
    labels = tf.placeholder(tf.int32, None)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(loss, {logits: np.zeros((3, 4), np.float32), labels: np.zeros(2, np.int32)})


def test_a_training_graph_uses_the_kernels_and_gets_the_numpy_paths_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    xs, ys = rng.standard_normal((64, 10)).astype(np.float32), rng.integers(0, 10, 64).astype(np.int32)
    logits = tf.placeholder(tf.float32, [None, 10])
    labels = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    grad = tf.gradients(tf.reduce_sum(loss), logits)[0]
    with tf.Session() as sess:
        got = sess.run([loss, grad], {logits: xs, labels: ys})
    assert host_xent._KERNELS._functions, "the kernels were not built"
    host_xent._KERNELS.reset()
    monkeypatch.setattr(host_xent._KERNELS, "_functions", [])  # none: the NumPy path
    with tf.Session() as sess:
        want = sess.run([loss, grad], {logits: xs, labels: ys})
    assert got[0].tobytes() == want[0].tobytes() and got[1].tobytes() == want[1].tobytes()
