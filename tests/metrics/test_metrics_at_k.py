"""tf.metrics at k (precision/recall at k and at given top-k indices, average precision) against TensorFlow-made
streams (data/extra_metrics_reference.json), against a plain-Python set computation, and TF1's names."""

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
AT_K = sorted(name for name in CASES if "_at_k" in name or "_at_top_k" in name)


@pytest.mark.parametrize("name", AT_K)
def test_at_k_stream_matches_tensorflow(name: str) -> None:
    want = REFERENCE["cases"][name]
    got = stream(tf, name, REFERENCE["data"])
    for key in ("updates", "values", "after_reset"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-9, err_msg=f"{name}: {key}")


def test_label_rows_are_sets() -> None:
    # dense label rows read as sets: repeats count once, every value (-1 too) is an element
    labels = np.array([[1, 1, -1], [0, 5, 2]])
    idx = np.array([[1, 3], [2, 2]])
    l_ph, i_ph = tf.placeholder(tf.int64, [None, 3]), tf.placeholder(tf.int32, [None, 2])
    prec, prec_up = tf.metrics.precision_at_top_k(l_ph, i_ph)
    rec, rec_up = tf.metrics.recall_at_top_k(l_ph, i_ph)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        got = sess.run([prec_up, rec_up], {l_ph: labels, i_ph: idx})
        tp, fp, tp2, fn = sess.run(tf.local_variables())
    sets = [(set(p), set(l)) for p, l in zip(idx.tolist(), labels.tolist())]
    want_tp = sum(len(p & l) for p, l in sets)
    want_fp = sum(len(p - l) for p, l in sets)
    want_fn = sum(len(l - p) for p, l in sets)
    assert (tp, fp, tp2, fn) == (want_tp, want_fp, want_tp, want_fn)
    assert got == pytest.approx([want_tp / (want_tp + want_fp), want_tp / (want_tp + want_fn)])


def test_average_precision_against_python() -> None:
    scores = np.array([[0.1, 0.5, 0.2, 0.3], [0.4, 0.1, 0.9, 0.0], [0.3, 0.2, 0.1, 0.0]])
    labels = np.array([[1, 1, -1], [0, 7, 2], [3, 3, 3]])  # 7 is out of range: never relevant
    k = 3
    value, update = tf.metrics.average_precision_at_k(tf.constant(labels, tf.int64), tf.constant(scores), k)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update)
        got = sess.run(value)
    aps = []
    for row, lab in zip(scores, labels):
        top = np.argsort(-row)[:k]
        hits = np.isin(top, lab)
        precision_sum = sum(hits[: j + 1].mean() for j in range(k) if hits[j])
        aps.append(precision_sum / min(int(((lab >= 0) & (lab < 4)).sum()), k))
    assert got == pytest.approx(np.mean(aps))


def test_names_match_tf1() -> None:
    labels = tf.placeholder(tf.int64, [None], name="labels")
    labels2 = tf.placeholder(tf.int64, [None, 2], name="labels2")
    preds = tf.placeholder(tf.float32, [None, 4], name="preds")
    idx = tf.placeholder(tf.int32, [None, 2], name="idx")
    w = tf.placeholder(tf.float32, [None], name="w")
    results = [
        tf.metrics.precision_at_k(labels, preds, 2),
        tf.metrics.precision_at_k(labels2, preds, 2, class_id=1, weights=w),
        tf.metrics.recall_at_k(labels2, preds, 2),
        tf.metrics.precision_at_top_k(labels2, idx),
        tf.metrics.recall_at_top_k(labels, idx, k=2),
        tf.metrics.average_precision_at_k(labels2, preds, 3, weights=w),
        tf.metrics.sparse_precision_at_k(labels2, preds, 1, name="sp"),
    ]
    # what TensorFlow 2.21's tf.compat.v1.metrics names the same graph
    assert [(v.name, u.name) for v, u in results] == [
        ("precision_at_2:0", "precision_at_2/update:0"),
        ("precision_at_2_class1:0", "precision_at_2_class1/update:0"),
        ("recall_at_2:0", "recall_at_2/update:0"), ("precision_at_k:0", "precision_at_k/update:0"),
        ("recall_at_2_1:0", "recall_at_2_1/update:0"),
        ("average_precision_at_3/mean:0", "average_precision_at_3:0"), ("sp:0", "sp/update:0"),
    ]
    assert all(t.dtype == tf.float64 and t.shape.as_list() == [] for pair in results for t in pair)
    assert [v.name for v in tf.local_variables()] == [
        "precision_at_2/true_positive_at_2:0", "precision_at_2/false_positive_at_2:0",
        "precision_at_2_class1/true_positive_at_2_class1:0", "precision_at_2_class1/false_positive_at_2_class1:0",
        "recall_at_2/true_positive_at_2:0", "recall_at_2/false_negative_at_2:0",
        "precision_at_k/true_positive_at_k:0", "precision_at_k/false_positive_at_k:0",
        "recall_at_2_1/true_positive_at_2:0", "recall_at_2_1/false_negative_at_2:0",
        "average_precision_at_3/max_1:0", "average_precision_at_3/total:0",
        "sp/true_positive_at_1:0", "sp/false_positive_at_1:0",
    ]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()


def test_collections_and_reset() -> None:
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.float32, [None, 3])
    value, update = tf.metrics.recall_at_k(labels, preds, 1, metrics_collections=["m"], updates_collections=["u"])
    assert tf.get_collection("m") == [value] and tf.get_collection("u") == [update]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(update, {labels: [0, 1], preds: [[0.9, 0.0, 0.1], [0.9, 0.0, 0.1]]}) == 0.5
        assert sess.run(update, {labels: [2], preds: [[0.0, 0.0, 1.0]]}) == pytest.approx(2 / 3)
        sess.run(tf.local_variables_initializer())
        assert np.isnan(sess.run(value))  # 0 / 0 after a reset, as in TF1


def test_bad_arguments() -> None:
    preds = tf.placeholder(tf.float32, [None, 4])
    with pytest.raises(ValueError, match="Invalid k=0"):
        tf.metrics.average_precision_at_k(tf.placeholder(tf.int64, [None]), preds, 0)
    with pytest.raises(ValueError, match="Unexpected labels shape"):
        tf.metrics.precision_at_k(tf.placeholder(tf.int64, [None, 2, 2, 2]), preds, 2)
    with pytest.raises(ValueError, match="can not be broadcast"):
        tf.metrics.recall_at_k(tf.placeholder(tf.int64, [None]), preds, 2, weights=tf.ones([3, 1, 1]))

    class SparseLabels:  # what a SparseTensorValue looks like to the metric
        indices, values, dense_shape = [[0, 0]], [1], [1, 1]

    with pytest.raises(TypeError, match="SparseTensor labels are not supported"):
        tf.metrics.recall_at_k(SparseLabels(), preds, 2)
