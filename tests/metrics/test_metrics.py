"""tf.metrics streams against TensorFlow-made reference values (data/metrics_reference.json), and TF1's
variable names, collections and reset by local_variables_initializer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from metric_cases import CASES, stream  # noqa: E402

REFERENCE = json.loads((DATA / "metrics_reference.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_stream_matches_tensorflow(name: str) -> None:
    want = REFERENCE["cases"][name]
    got = stream(tf, name, REFERENCE["data"])
    for key in ("updates", "values", "after_reset"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=2e-6, err_msg=f"{name}: {key}")


def test_reference_streams_accumulate() -> None:
    # the reference streams really move between batches (so a metric that forgets would fail above)
    for name, case in REFERENCE["cases"].items():
        vals = [np.asarray(v) for v in case["values"]]
        assert any(not np.allclose(vals[0], v) for v in vals[1:]), name


def test_variable_and_value_names_match_tf1() -> None:
    labels = tf.placeholder(tf.float32, [None], name="labels")
    preds = tf.placeholder(tf.float32, [None], name="preds")
    results = [
        tf.metrics.accuracy(labels, preds), tf.metrics.accuracy(labels, preds, weights=preds),
        tf.metrics.root_mean_squared_error(labels, preds), tf.metrics.precision(labels, preds),
        tf.metrics.auc(labels, preds), tf.metrics.true_positives(labels, preds),
        tf.metrics.recall_at_thresholds(labels, preds, [0.5]),
        tf.metrics.mean_iou(tf.cast(labels, tf.int32), tf.cast(preds, tf.int32), 3),
    ]
    # the names TensorFlow 2.21's tf.compat.v1.metrics gives the same graph
    assert [(v.name, u.name) for v, u in results] == [
        ("accuracy/value:0", "accuracy/update_op:0"), ("accuracy_1/value:0", "accuracy_1/update_op:0"),
        ("Sqrt:0", "Sqrt_1:0"), ("precision/value:0", "precision/update_op:0"),
        ("auc/value:0", "auc/update_op:0"), ("true_positives/Identity:0", "true_positives/AssignAdd:0"),
        ("recall_at_thresholds/recall_value:0", "recall_at_thresholds/recall_update_op:0"),
        ("mean_iou/Select_1:0", "mean_iou/AssignAdd:0"),
    ]
    expected_vars = [
        "accuracy/total:0", "accuracy/count:0", "accuracy_1/total:0", "accuracy_1/count:0",
        "root_mean_squared_error/total:0", "root_mean_squared_error/count:0", "precision/true_positives/count:0",
        "precision/false_positives/count:0", "auc/true_positives:0", "auc/false_negatives:0",
        "auc/true_negatives:0", "auc/false_positives:0", "true_positives/count:0",
        "recall_at_thresholds/true_positives:0", "recall_at_thresholds/false_negatives:0",
        "mean_iou/total_confusion_matrix:0",
    ]
    assert [v.name for v in tf.local_variables()] == expected_vars
    assert [v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == expected_vars
    assert tf.GraphKeys.METRIC_VARIABLES == "metric_variables"
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    assert tf.local_variables()[8].shape.as_list() == [200]


def test_collections_take_value_and_update() -> None:
    values = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.mean(values, name="loss_mean", metrics_collections=["m"],
                                    updates_collections=[tf.GraphKeys.UPDATE_OPS])
    assert (value.name, update.name) == ("loss_mean/value:0", "loss_mean/update_op:0")
    assert tf.get_collection("m") == [value]
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == [update]


def test_value_before_any_update_is_zero_and_initializer_resets() -> None:
    values = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.mean(values, weights=weights)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == 0.0
        assert sess.run(update, {values: [1.0, 3.0], weights: [0.0, 0.0]}) == 0.0  # no weight seen: 0, not NaN
        sess.run(update, {values: [1.0, 3.0], weights: [1.0, 3.0]})
        assert sess.run(value) == pytest.approx(2.5)
        sess.run(update, {values: [6.0], weights: [4.0]})
        assert sess.run(value) == pytest.approx((1 + 9 + 24) / 8)
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == 0.0


def test_uninitialized_metric_is_a_failed_precondition() -> None:
    values = tf.placeholder(tf.float32, [None])
    value, _ = tf.metrics.mean(values)
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError):
        sess.run(value)


def test_bad_arguments_raise_at_build_time() -> None:
    labels = tf.placeholder(tf.float32, [4])
    preds = tf.placeholder(tf.float32, [4])
    with pytest.raises(ValueError, match="Curve must be either ROC or PR"):
        tf.metrics.auc(labels, preds, curve="XY")
    with pytest.raises(ValueError, match="incompatible"):
        tf.metrics.accuracy(labels, tf.placeholder(tf.float32, [5]))
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        tf.metrics.mean_squared_error(tf.zeros([4, 3]), tf.zeros([4, 3]), weights=tf.ones([4, 2]))
