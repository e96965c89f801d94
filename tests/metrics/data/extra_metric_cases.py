"""More metric cases, shared by make_extra_metrics_reference.py (TensorFlow) and the gpugraph tests:
``stream(tf, case, data)`` feeds a few batches through one metric's update_op and reads it after each."""

from __future__ import annotations

from typing import Any

import numpy as np

BATCHES = 3
NUM_CLASSES = 5


def make_data() -> dict[str, Any]:
    rng = np.random.default_rng(23)
    n = 6
    batches = []
    for _ in range(BATCHES):
        labels01 = (rng.random(n) > 0.5).astype(float)
        class_scores = rng.random((n, NUM_CLASSES)).round(3)
        class_ids = rng.integers(0, NUM_CLASSES, n)
        class_scores[np.arange(n), class_ids] += 0.3  # the right class often ranks high, not always first
        batches.append({
            "labels01": labels01.tolist(),
            "scores": np.clip(0.35 * labels01 + rng.random(n) * 0.65, 0, 1).round(3).tolist(),
            "class_ids": class_ids.tolist(),
            # two labels a row; NUM_CLASSES is out of range, and repeats are one set element
            "class_ids2": rng.integers(0, NUM_CLASSES + 1, (n, 2)).tolist(),
            "class_scores": class_scores.tolist(),
            # given top-k indices may repeat within a row: a set counts them once
            "topk_idx": rng.integers(0, NUM_CLASSES, (n, 3)).tolist(),
            "classes": rng.integers(0, 3, n).tolist(),
            "class_preds": rng.integers(0, 3, n).tolist(),
            "values": rng.standard_normal(n).tolist(),
            "values2": rng.standard_normal(n).tolist(),
            "normalizer": (rng.random(n) * (rng.random(n) > 0.3)).round(3).tolist(),
            "unit_a": _unit_rows(rng.standard_normal((n, 3))),
            "unit_b": _unit_rows(rng.standard_normal((n, 3))),
            "fixed_tensor": rng.standard_normal((2, 3)).tolist(),
            "fixed_weights": rng.choice([0.0, 1.0, 2.0], (2, 1)).tolist(),
            "weights": rng.choice([0.0, 0.5, 1.0, 2.0], n).tolist(),
        })
    return {"batches": batches}


def _unit_rows(x: np.ndarray) -> list[Any]:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).tolist()


# case name -> (metric, positional data keys, weights key or None, extra kwargs)
CASES: dict[str, tuple[str, list[str], str | None, dict[str, Any]]] = {
    "mean_tensor": ("mean_tensor", ["fixed_tensor"], None, {}),
    "mean_tensor_weighted": ("mean_tensor", ["fixed_tensor"], "fixed_weights", {}),
    "mean_per_class_accuracy": ("mean_per_class_accuracy", ["classes", "class_preds"], None, {"num_classes": 3}),
    "mean_per_class_accuracy_weighted": ("mean_per_class_accuracy", ["classes", "class_preds"], "weights",
                                         {"num_classes": 3}),
    "mean_relative_error": ("mean_relative_error", ["values", "values2", "normalizer"], "weights", {}),
    "mean_cosine_distance": ("mean_cosine_distance", ["unit_a", "unit_b"], None, {"dim": 1}),
    "mean_cosine_distance_weighted": ("mean_cosine_distance", ["unit_a", "unit_b"], "weights", {"dim": 1}),
    "percentage_below": ("percentage_below", ["values"], None, {"threshold": 0.2}),
    "percentage_below_weighted": ("percentage_below", ["values"], "weights", {"threshold": 0.2}),
    "sensitivity_at_specificity": ("sensitivity_at_specificity", ["labels01", "scores"], None,
                                   {"specificity": 0.7, "num_thresholds": 50}),
    "sensitivity_at_specificity_weighted": ("sensitivity_at_specificity", ["labels01", "scores"], "weights",
                                            {"specificity": 0.9}),
    "specificity_at_sensitivity": ("specificity_at_sensitivity", ["labels01", "scores"], None,
                                   {"sensitivity": 0.9, "num_thresholds": 50}),
    "specificity_at_sensitivity_weighted": ("specificity_at_sensitivity", ["labels01", "scores"], "weights",
                                            {"sensitivity": 0.8}),
    "true_positives_at_thresholds": ("true_positives_at_thresholds", ["labels01", "scores"], "weights",
                                     {"thresholds": [0.3, 0.5, 0.7]}),
    "false_positives_at_thresholds": ("false_positives_at_thresholds", ["labels01", "scores"], None,
                                      {"thresholds": [0.3, 0.5, 0.7]}),
    "true_negatives_at_thresholds": ("true_negatives_at_thresholds", ["labels01", "scores"], None,
                                     {"thresholds": [0.3, 0.5, 0.7]}),
    "false_negatives_at_thresholds": ("false_negatives_at_thresholds", ["labels01", "scores"], "weights",
                                      {"thresholds": [0.3, 0.5, 0.7]}),
    "precision_at_k": ("precision_at_k", ["class_ids", "class_scores"], None, {"k": 2}),
    "precision_at_k_weighted": ("precision_at_k", ["class_ids2", "class_scores"], "weights", {"k": 3}),
    "precision_at_k_class": ("precision_at_k", ["class_ids2", "class_scores"], None, {"k": 2, "class_id": 4}),
    "recall_at_k": ("recall_at_k", ["class_ids2", "class_scores"], None, {"k": 3}),
    "recall_at_k_weighted": ("recall_at_k", ["class_ids", "class_scores"], "weights", {"k": 1}),
    "recall_at_k_class": ("recall_at_k", ["class_ids2", "class_scores"], "weights", {"k": 2, "class_id": 3}),
    "precision_at_top_k": ("precision_at_top_k", ["class_ids2", "topk_idx"], None, {}),
    "precision_at_top_k_class": ("precision_at_top_k", ["class_ids", "topk_idx"], "weights", {"class_id": 2}),
    "recall_at_top_k": ("recall_at_top_k", ["class_ids2", "topk_idx"], "weights", {"k": 3}),
    "average_precision_at_k": ("average_precision_at_k", ["class_ids2", "class_scores"], None, {"k": 3}),
    "average_precision_at_k_weighted": ("average_precision_at_k", ["class_ids", "class_scores"], "weights",
                                        {"k": 2}),
    "sparse_precision_at_k": ("sparse_precision_at_k", ["class_ids", "class_scores"], None, {"k": 1}),
    "sparse_average_precision_at_k": ("sparse_average_precision_at_k", ["class_ids2", "class_scores"], None,
                                      {"k": 4}),
}


def _placeholder(tf: Any, key: str, value: Any) -> Any:
    arr = np.asarray(value)
    if key.startswith("class_ids"):
        dtype = tf.int64
    elif key in ("topk_idx", "classes", "class_preds"):
        dtype = tf.int32
    else:
        dtype = tf.float32
    shape = arr.shape if key.startswith("fixed_") else (None,) + arr.shape[1:]
    return tf.placeholder(dtype, shape, name=key)


def _as_list(value: Any) -> Any:
    return np.asarray(value, np.float64).round(6).tolist()


def stream(tf: Any, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """update_op's result and the value after each batch, then the value after a reset and one batch."""
    metric, arg_keys, weights_key, kwargs = CASES[name]
    keys = arg_keys + ([weights_key] if weights_key else [])
    graph = tf.Graph()
    with graph.as_default():
        first = data["batches"][0]
        ph = {k: _placeholder(tf, k, first[k]) for k in keys}
        if weights_key:
            kwargs = dict(kwargs, weights=ph[weights_key])
        value, update_op = getattr(tf.metrics, metric)(*[ph[k] for k in arg_keys], **kwargs)
        updates, values = [], []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.local_variables_initializer())
            for batch in data["batches"]:
                feed = {ph[k]: batch[k] for k in keys}
                updates.append(_as_list(sess.run(update_op, feed)))
                values.append(_as_list(sess.run(value)))
            sess.run(tf.local_variables_initializer())
            sess.run(update_op, {ph[k]: first[k] for k in keys})
            after_reset = _as_list(sess.run(value))
    return {"updates": updates, "values": values, "after_reset": after_reset}
