"""Loss cases shared by make_losses_reference.py (run on TensorFlow) and test_losses.py (run on gpugraph):
``evaluate(tf, case, data)`` builds one loss with the given library's ``tf.losses`` and runs it."""

from __future__ import annotations

from typing import Any

import numpy as np

REDUCTIONS = ("NONE", "SUM", "MEAN", "SUM_OVER_BATCH_SIZE", "SUM_BY_NONZERO_WEIGHTS")


def make_data() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    unit = rng.standard_normal((4, 3))
    unit_b = rng.standard_normal((4, 3))
    onehot = np.eye(3)[[0, 2, 1, 2]]
    data = {
        "logits": rng.standard_normal((4, 3)) * 2,
        "onehot": onehot,
        "class_ids": [0, 2, 1, 2],
        "class_ids_col": [[0], [2], [1], [2]],
        "binary": (rng.random((4, 3)) > 0.5).astype(float),
        "soft": rng.random((4, 3)),
        "probs": rng.uniform(0.05, 0.95, (4, 3)),
        "targets": rng.standard_normal((4, 3)),
        "preds": rng.standard_normal((4, 3)) * 1.5,
        "unit_a": unit / np.linalg.norm(unit, axis=1, keepdims=True),
        "unit_b": unit_b / np.linalg.norm(unit_b, axis=1, keepdims=True),
    }
    weights = {
        "float1": 1.0,
        "scalar": 0.5,
        "zero": 0.0,
        "batch": [1.0, 0.0, 2.0, 0.5],
        "batch_col": [[1.0], [0.0], [2.0], [0.5]],
        "full": [[1.0, 0.0, 2.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0], [3.0, 1.0, 1.0]],
    }
    out = {k: np.asarray(v).tolist() for k, v in data.items()}
    out["weights"] = weights
    return out


# loss name -> (function, labels key, predictions key, weights keys, extra kwargs)
ELEMENTWISE_WEIGHTS = ("float1", "scalar", "batch_col", "full")
LOSSES: dict[str, tuple[str, str, str, tuple[str, ...], dict[str, Any]]] = {
    "softmax": ("softmax_cross_entropy", "onehot", "logits", ("float1", "scalar", "zero", "batch"), {}),
    "softmax_smooth": ("softmax_cross_entropy", "onehot", "logits", ("float1", "batch"), {"label_smoothing": 0.1}),
    "sparse": ("sparse_softmax_cross_entropy", "class_ids", "logits", ("float1", "scalar", "batch"), {}),
    "sparse_col": ("sparse_softmax_cross_entropy", "class_ids_col", "logits", ("float1", "batch_col"), {}),
    "sigmoid": ("sigmoid_cross_entropy", "binary", "logits", ELEMENTWISE_WEIGHTS, {}),
    "sigmoid_smooth": ("sigmoid_cross_entropy", "soft", "logits", ("float1", "full"), {"label_smoothing": 0.2}),
    "mse": ("mean_squared_error", "targets", "preds", ELEMENTWISE_WEIGHTS + ("zero",), {}),
    "absolute": ("absolute_difference", "targets", "preds", ELEMENTWISE_WEIGHTS, {}),
    "huber": ("huber_loss", "targets", "preds", ELEMENTWISE_WEIGHTS, {}),
    "huber_delta": ("huber_loss", "targets", "preds", ("float1", "full"), {"delta": 0.5}),
    "log": ("log_loss", "binary", "probs", ELEMENTWISE_WEIGHTS, {}),
    "log_eps": ("log_loss", "soft", "probs", ("float1",), {"epsilon": 0.01}),
    "hinge": ("hinge_loss", "binary", "logits", ELEMENTWISE_WEIGHTS, {}),
    "cosine": ("cosine_distance", "unit_a", "unit_b", ("float1", "scalar", "batch_col"), {"axis": 1}),
    "cosine_dim": ("cosine_distance", "unit_a", "unit_b", ("float1",), {"dim": 1}),
}
PAIRWISE_WEIGHTS = ("float1", "scalar", "batch_col", "zero")


def cases() -> list[dict[str, Any]]:
    out = []
    for name, (_, _, _, weights, _) in LOSSES.items():
        for w in weights:
            for r in REDUCTIONS:
                out.append({"loss": name, "weights": w, "reduction": r})
    out += [{"loss": "pairwise", "weights": w, "reduction": None} for w in PAIRWISE_WEIGHTS]
    return out


def evaluate(tf: Any, case: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The loss value, and (for scalar losses) its gradient w.r.t. the logits/predictions."""
    graph = tf.Graph()
    with graph.as_default():
        if case["loss"] == "pairwise":
            fn, labels_key, preds_key, kwargs = "mean_pairwise_squared_error", "targets", "preds", {}
        else:
            fn, labels_key, preds_key, _, kwargs = LOSSES[case["loss"]]
            kwargs = dict(kwargs, reduction=getattr(tf.losses.Reduction, case["reduction"]))
        preds = tf.placeholder(tf.float32, np.shape(data[preds_key]), name="predictions")
        labels_value = np.asarray(data[labels_key])
        labels = tf.constant(labels_value.astype(np.int32 if labels_value.dtype.kind == "i" else np.float32))
        weights = data["weights"][case["weights"]]
        weights = weights if case["weights"] == "float1" else tf.constant(np.asarray(weights, np.float32))
        loss = getattr(tf.losses, fn)(labels, preds, weights=weights, **kwargs)
        fetches = {"value": loss}
        if case["reduction"] != "NONE":
            fetches["grad"] = tf.gradients(loss, preds)[0]
        with tf.Session(graph=graph) as sess:
            got = sess.run(fetches, {preds: np.asarray(data[preds_key], np.float32)})
    return {k: np.asarray(v, np.float64).round(7).tolist() for k, v in got.items()}
