"""Metric cases shared by make_metrics_reference.py (run on TensorFlow) and test_metrics.py (run on gpugraph):
``stream(tf, case, data)`` feeds a few batches through one metric's update_op and reads it after each."""

from __future__ import annotations

from typing import Any

import numpy as np

BATCHES = 3


def make_data() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    n = 6
    batches = []
    for _ in range(BATCHES):
        labels01 = (rng.random(n) > 0.5).astype(float)
        batches.append({
            "labels01": labels01.tolist(),
            "preds01": (rng.random(n) > 0.4).astype(float).tolist(),
            # scores correlated with the labels, so the AUCs are neither 0.5 nor 1
            "scores": np.clip(0.35 * labels01 + rng.random(n) * 0.65, 0, 1).round(3).tolist(),
            "classes": rng.integers(0, 3, n).tolist(),
            "class_preds": rng.integers(0, 3, n).tolist(),
            "values": rng.standard_normal(n).tolist(),
            "targets": rng.standard_normal((n, 3)).tolist(),
            "preds": rng.standard_normal((n, 3)).tolist(),
            "weights": rng.choice([0.0, 0.5, 1.0, 2.0], n).tolist(),
        })
    return {"batches": batches}


# case name -> (metric, labels key, predictions key, weighted, extra kwargs); labels None: a one-input metric
CASES: dict[str, tuple[str, str | None, str, bool, dict[str, Any]]] = {
    "mean": ("mean", None, "values", False, {}),
    "mean_weighted": ("mean", None, "values", True, {}),
    "accuracy": ("accuracy", "classes", "class_preds", False, {}),
    "accuracy_weighted": ("accuracy", "classes", "class_preds", True, {}),
    "mse": ("mean_squared_error", "targets", "preds", False, {}),
    "mse_weighted": ("mean_squared_error", "targets", "preds", True, {}),
    "rmse_weighted": ("root_mean_squared_error", "targets", "preds", True, {}),
    "mae_weighted": ("mean_absolute_error", "targets", "preds", True, {}),
    "precision": ("precision", "labels01", "preds01", False, {}),
    "precision_weighted": ("precision", "labels01", "preds01", True, {}),
    "recall_weighted": ("recall", "labels01", "preds01", True, {}),
    "true_positives": ("true_positives", "labels01", "preds01", True, {}),
    "false_positives": ("false_positives", "labels01", "preds01", True, {}),
    "true_negatives": ("true_negatives", "labels01", "preds01", False, {}),
    "false_negatives": ("false_negatives", "labels01", "preds01", True, {}),
    "auc_roc": ("auc", "labels01", "scores", False, {}),
    "auc_roc_weighted": ("auc", "labels01", "scores", True, {"num_thresholds": 50}),
    "auc_pr": ("auc", "labels01", "scores", True, {"curve": "PR"}),
    "auc_pr_careful": ("auc", "labels01", "scores", True, {"curve": "PR", "summation_method": "careful_interpolation"}),
    "auc_roc_minoring": ("auc", "labels01", "scores", False, {"summation_method": "minoring"}),
    "auc_thresholds": ("auc", "labels01", "scores", False, {"thresholds": [0.25, 0.5, 0.75]}),
    "precision_at_thresholds": ("precision_at_thresholds", "labels01", "scores", True, {"thresholds": [0.3, 0.6]}),
    "recall_at_thresholds": ("recall_at_thresholds", "labels01", "scores", False, {"thresholds": [0.3, 0.6, 0.9]}),
    "mean_iou": ("mean_iou", "classes", "class_preds", False, {"num_classes": 3}),
    "mean_iou_weighted": ("mean_iou", "classes", "class_preds", True, {"num_classes": 3}),
}


def _placeholder(tf: Any, value: Any, name: str) -> Any:
    arr = np.asarray(value)
    dtype = tf.int32 if name in ("classes", "class_preds") else tf.float32
    return tf.placeholder(dtype, (None,) + arr.shape[1:], name=name)


def stream(tf: Any, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """update_op's result and the value after each batch, then the value after a reset and one batch."""
    metric, labels_key, preds_key, weighted, kwargs = CASES[name]
    graph = tf.Graph()
    with graph.as_default():
        first = data["batches"][0]
        keys = [k for k in (labels_key, preds_key) if k is not None] + (["weights"] if weighted else [])
        ph = {k: _placeholder(tf, first[k], k) for k in keys}
        args = [ph[labels_key]] if labels_key is not None else []
        args.append(ph[preds_key])
        if weighted:
            kwargs = dict(kwargs, weights=ph["weights"])
        value, update_op = getattr(tf.metrics, metric)(*args, **kwargs)
        updates, values = [], []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.local_variables_initializer())
            for batch in data["batches"]:
                feed = {ph[k]: batch[k] for k in keys}
                updates.append(np.asarray(sess.run(update_op, feed), np.float64).round(6).tolist())
                values.append(np.asarray(sess.run(value), np.float64).round(6).tolist())
            sess.run(tf.local_variables_initializer())
            sess.run(update_op, {ph[k]: data["batches"][0][k] for k in keys})
            after_reset = np.asarray(sess.run(value), np.float64).round(6).tolist()
    return {"updates": updates, "values": values, "after_reset": after_reset}
