"""The rest of tf.metrics (mean_tensor, per-class accuracy, relative error, cosine distance, percentage_below,
counts at thresholds, sensitivity/specificity) against TensorFlow-made streams (data/extra_metrics_reference.json),
and TF1's names and build-time errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from extra_metric_cases import CASES, stream  # noqa: E402

REFERENCE = json.loads((DATA / "extra_metrics_reference.json").read_text(encoding="utf-8"))
AT_K = ("_at_k", "_at_top_k")
NOT_AT_K = sorted(name for name in CASES if not any(part in name for part in AT_K))


@pytest.mark.parametrize("name", NOT_AT_K)
def test_metric_stream_matches_tensorflow(name: str) -> None:
    want = REFERENCE["cases"][name]
    got = stream(tf, name, REFERENCE["data"])
    for key in ("updates", "values", "after_reset"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=2e-6, err_msg=f"{name}: {key}")


def test_reference_streams_accumulate() -> None:
    # every reference stream moves between batches, so a metric that forgets its past would fail above
    for name, case in REFERENCE["cases"].items():
        vals = [np.asarray(v) for v in case["values"]]
        assert any(not np.allclose(vals[0], v, equal_nan=True) for v in vals[1:]), name


def test_names_match_tf1() -> None:
    f = tf.placeholder(tf.float32, [None], name="f")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    results = [
        tf.metrics.mean_per_class_accuracy(labels, tf.cast(f, tf.int64), 3),
        tf.metrics.mean_tensor(tf.placeholder(tf.float32, [2, 4])),
        tf.metrics.mean_relative_error(f, f, f),
        tf.metrics.mean_cosine_distance(f, f, 0),
        tf.metrics.percentage_below(f, 0.5),
        tf.metrics.sensitivity_at_specificity(f, f, 0.5),
        tf.metrics.specificity_at_sensitivity(f, f, 0.5, name="spec"),
        tf.metrics.true_positives_at_thresholds(f, f, [0.5]),
        tf.metrics.false_negatives_at_thresholds(f, f, [0.5, 0.7]),
    ]
    # the names, dtypes and shapes TensorFlow 2.21's tf.compat.v1.metrics gives the same graph
    assert [(v.name, u.name) for v, u in results] == [
        ("mean_accuracy/mean_accuracy:0", "mean_accuracy/update_op:0"), ("mean/value:0", "mean/update_op:0"),
        ("mean_relative_error/value:0", "mean_relative_error/update_op:0"),
        ("Sub_1:0", "Sub_2:0"),  # after mean_relative_error's "sub": names are unique regardless of case
        ("percentage_below_threshold/value:0", "percentage_below_threshold/update_op:0"),
        ("sensitivity_at_specificity/value:0", "sensitivity_at_specificity/update_op:0"),
        ("spec/value:0", "spec/update_op:0"),
        ("true_positives/Identity:0", "true_positives/AssignAdd:0"),
        ("false_negatives/Identity:0", "false_negatives/AssignAdd:0"),
    ]
    assert results[0][1].shape.as_list() == [3] and results[1][0].shape.as_list() == [2, 4]
    assert results[8][0].shape.as_list() == [2]
    assert [v.name for v in tf.local_variables()] == [
        "mean_accuracy/total:0", "mean_accuracy/count:0", "mean/total_tensor:0", "mean/count_tensor:0",
        "mean_relative_error/total:0", "mean_relative_error/count:0", "mean_cosine_distance/total:0",
        "mean_cosine_distance/count:0", "percentage_below_threshold/total:0", "percentage_below_threshold/count:0",
        "sensitivity_at_specificity/true_positives:0", "sensitivity_at_specificity/false_negatives:0",
        "sensitivity_at_specificity/true_negatives:0", "sensitivity_at_specificity/false_positives:0",
        "spec/true_positives:0", "spec/false_negatives:0", "spec/true_negatives:0", "spec/false_positives:0",
        "true_positives/true_positives:0", "false_negatives/false_negatives:0",
    ]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()
    assert tf.local_variables()[10].shape.as_list() == [200]


def test_collections() -> None:
    f = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.percentage_below(f, 0.0, metrics_collections=["m"], updates_collections=["u"])
    tp, tp_update = tf.metrics.true_positives_at_thresholds(f, f, [0.5], metrics_collections=["m"],
                                                            updates_collections=["u"])
    assert tf.get_collection("m") == [value, tp] and tf.get_collection("u") == [update, tp_update]


def test_per_class_accuracy_against_numpy() -> None:
    labels = tf.placeholder(tf.int32, [None, 1])
    preds = tf.placeholder(tf.int32, [None, 1])
    value, update = tf.metrics.mean_per_class_accuracy(labels, preds, 4)
    y, p = np.array([0, 0, 1, 1, 1, 3]), np.array([0, 1, 1, 1, 0, 2])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        per_class = sess.run(update, {labels: y[:, None], preds: p[:, None]})
        got = sess.run(value)
    # class 2 never appears: accuracy 0, and it still counts in the mean, as in TF1
    want = [np.mean(p[y == c] == c) if (y == c).any() else 0.0 for c in range(4)]
    np.testing.assert_allclose(per_class, want, rtol=1e-6)
    assert got == pytest.approx(np.mean(want))


def test_bad_arguments_raise_at_build_time() -> None:
    f = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
        tf.metrics.sensitivity_at_specificity(f, f, 1.5)
    with pytest.raises(ValueError, match=r"`sensitivity` must be in the range \[0, 1\]"):
        tf.metrics.specificity_at_sensitivity(f, f, -0.1)
    with pytest.raises(ValueError, match="partially known TensorShape"):
        tf.metrics.mean_tensor(tf.placeholder(tf.float32, [None, 4]))
    with pytest.raises(ValueError, match="incompatible"):
        tf.metrics.mean_relative_error(f, f, tf.placeholder(tf.float32, [None, 3]))
