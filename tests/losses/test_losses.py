"""tf.losses against TensorFlow-made reference values (data/losses_reference.json), and TF1's op names,
collections and build-time errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from loss_cases import evaluate  # noqa: E402

REFERENCE = json.loads((DATA / "losses_reference.json").read_text(encoding="utf-8"))


def _case_id(case: dict) -> str:
    return f"{case['loss']}-{case['weights']}-{case['reduction']}"


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=_case_id)
def test_loss_matches_tensorflow(case: dict) -> None:
    got = evaluate(tf, case, REFERENCE["data"])
    np.testing.assert_allclose(got["value"], case["value"], rtol=2e-5, atol=2e-6)
    if "grad" in case:
        np.testing.assert_allclose(got["grad"], case["grad"], rtol=2e-5, atol=2e-6)


def test_every_loss_and_reduction_is_covered() -> None:
    covered = {(c["loss"], c["reduction"]) for c in REFERENCE["cases"]}
    assert len({c["loss"] for c in REFERENCE["cases"]}) == 16
    assert all((loss, r) in covered for loss, _ in covered for r in ("NONE", "SUM", "MEAN",
                                                                     "SUM_OVER_BATCH_SIZE",
                                                                     "SUM_BY_NONZERO_WEIGHTS")
               if loss != "pairwise")


def _inputs() -> tuple[tf.Tensor, tf.Tensor]:
    return tf.placeholder(tf.float32, [4, 3], name="labels"), tf.placeholder(tf.float32, [4, 3], name="logits")


def test_result_names_match_tf1() -> None:
    labels, logits = _inputs()
    ids = tf.placeholder(tf.int32, [4], name="ids")
    names = [
        tf.losses.softmax_cross_entropy(labels, logits).name,
        tf.losses.softmax_cross_entropy(labels, logits, label_smoothing=0.1).name,
        tf.losses.sparse_softmax_cross_entropy(ids, logits).name,
        tf.losses.sigmoid_cross_entropy(labels, logits).name,
        tf.losses.hinge_loss(labels, logits).name,
        tf.losses.cosine_distance(labels, logits, axis=1).name,
        tf.losses.mean_pairwise_squared_error(labels, logits).name,
        tf.losses.compute_weighted_loss(logits).name,
        tf.losses.mean_squared_error(labels, logits, reduction=tf.losses.Reduction.NONE).name,
        tf.losses.mean_squared_error(labels, logits, reduction=tf.losses.Reduction.SUM).name,
        tf.losses.huber_loss(labels, logits, scope="custom").name,
    ]
    with tf.name_scope("outer"):
        names.append(tf.losses.log_loss(labels, logits).name)
    # the names TensorFlow 2.21's tf.compat.v1.losses gives the same graph
    assert names == [
        "softmax_cross_entropy_loss/value:0", "softmax_cross_entropy_loss_1/value:0",
        "sparse_softmax_cross_entropy_loss/value:0", "sigmoid_cross_entropy_loss/value:0", "hinge_loss/value:0",
        "cosine_distance_loss/value:0", "mean_pairwise_squared_error/value_2:0", "weighted_loss/value:0",
        "mean_squared_error/Mul:0", "mean_squared_error_1/Sum:0", "custom/value:0", "outer/log_loss/value:0",
    ]
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("softmax_cross_entropy_loss/xentropy") is not None
    assert graph.get_operation_by_name("softmax_cross_entropy_loss/labels_stop_gradient") is not None


def test_losses_collect_and_total() -> None:
    labels, logits = _inputs()
    feed = {labels: np.full((4, 3), 0.5), logits: np.arange(12.0).reshape(4, 3) / 10}
    a = tf.losses.mean_squared_error(labels, logits)
    b = tf.losses.absolute_difference(labels, logits, loss_collection="mine")
    c = tf.losses.hinge_loss(labels, logits, loss_collection=None)
    with tf.name_scope("tower"):
        d = tf.losses.huber_loss(labels, logits)
    assert tf.losses.get_losses() == [a, d]
    assert tf.losses.get_losses(scope="tower") == [d]
    assert tf.losses.get_losses(loss_collection="mine") == [b]
    assert c not in tf.get_collection(tf.GraphKeys.LOSSES)
    with tf.Session() as sess:
        assert sess.run(tf.losses.get_regularization_loss()) == 0.0
        reg = tf.constant(0.25, name="reg")
        tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, reg)
        tf.losses.add_loss(tf.constant(1.0, name="extra"))
        total = tf.losses.get_total_loss()
        no_reg = tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")
        reg_loss = tf.losses.get_regularization_loss()
        assert (total.name, no_reg.name, reg_loss.name) == ("total_loss:0", "data_loss:0",
                                                              "total_regularization_loss:0")
        va, vd, vt, vn, vr = sess.run([a, d, total, no_reg, reg_loss], feed)
    assert vt == pytest.approx(va + vd + 1.0 + 0.25, rel=1e-6)
    assert vn == pytest.approx(va + vd + 1.0, rel=1e-6)
    assert vr == pytest.approx(0.25)
    assert tf.losses.get_regularization_losses() == [reg]


def test_weights_of_batch_shape_broadcast_over_dynamic_batch() -> None:
    labels = tf.placeholder(tf.float32, [None, 3])
    preds = tf.placeholder(tf.float32, [None, 3])
    weights = tf.placeholder(tf.float32, [None, 1])
    loss = tf.losses.mean_squared_error(labels, preds, weights=weights)
    y, p, w = np.zeros((2, 3)), np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]]), np.array([[0.0], [2.0]])
    with tf.Session() as sess:
        got = sess.run(loss, {labels: y, preds: p, weights: w})
    # plain NumPy: weighted squared errors over the count of non-zero (broadcast) weights
    assert got == pytest.approx(((p - y) ** 2 * w).sum() / 3, rel=1e-6)


def test_build_time_errors_match_tf1() -> None:
    labels, logits = _inputs()
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.losses.mean_squared_error(labels, logits, weights=tf.constant([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="Mismatch at dim 1"):
        tf.losses.mean_squared_error(labels, logits, weights=tf.ones([4, 2]))
    with pytest.raises(ValueError, match="incompatible"):
        tf.losses.mean_squared_error(labels, tf.zeros([4, 2]))
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error(labels, logits, reduction="average")
    with pytest.raises(ValueError, match="`labels` must not be None"):
        tf.losses.absolute_difference(None, logits)
    with pytest.raises(ValueError, match="specify argument `axis`"):
        tf.losses.cosine_distance(labels, logits)


def test_reduction_keys_match_tf1() -> None:
    r = tf.losses.Reduction
    assert r.all() == ("none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
                       "weighted_sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights")
    assert r.SUM_OVER_NONZERO_WEIGHTS == r.SUM_BY_NONZERO_WEIGHTS
    assert tf.compat.v1.losses.softmax_cross_entropy is tf.losses.softmax_cross_entropy
