"""Write embedding_reference.json: embedding lookups and sampled losses (fixed sampled_values) in TensorFlow.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/nn/data/make_embedding_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

HERE = Path(__file__).resolve().parent
PARTITION_ROWS = (3, 3, 2)  # 8 ids: the same partitions fit "mod" and "div"


def _lookup_cases(rng: np.random.Generator) -> list[dict]:
    params = rng.standard_normal((8, 3))
    ids = [[0, 5, 7], [2, 2, 4]]
    out_weights = rng.standard_normal((2, 3, 3))
    cases = []
    for strategy, partitioned, max_norm in (("mod", False, None), ("mod", False, 1.5), ("mod", True, None),
                                            ("div", True, None), ("mod", True, 1.5)):
        tf.reset_default_graph()
        if partitioned:
            splits = np.cumsum(PARTITION_ROWS)[:-1]
            if strategy == "mod":  # partition p holds ids p, p + 3, ...
                parts_np = [params[p::3] for p in range(3)]
            else:
                parts_np = np.split(params, splits)
            parts = [tf.constant(p) for p in parts_np]
            out = tf.nn.embedding_lookup(parts, ids, partition_strategy=strategy, max_norm=max_norm)
        else:
            parts_np = [params]
            parts = [tf.constant(params)]
            out = tf.nn.embedding_lookup(parts[0], ids, max_norm=max_norm)
        grads = tf.gradients(tf.reduce_sum(out * out_weights), parts)
        grads = [tf.convert_to_tensor(g) for g in grads]  # IndexedSlices -> dense
        with tf.Session() as s:
            value, grad_values = s.run([out, grads])
        cases.append({"strategy": strategy, "max_norm": max_norm, "params": [p.tolist() for p in parts_np],
                      "ids": ids, "out_weights": out_weights.tolist(), "output": value.tolist(),
                      "grads": [g.tolist() for g in grad_values]})
    return cases


def _loss_cases(rng: np.random.Generator) -> list[dict]:
    num_classes, dim, batch = 10, 4, 3
    weights = rng.standard_normal((num_classes, dim)) * 0.5
    biases = rng.standard_normal(num_classes) * 0.1
    inputs = rng.standard_normal((batch, dim))
    sampled = np.array([3, 7, 0, 5, 8])  # 3 and 5 are true classes below: accidental hits
    cases = []
    for loss in ("nce_loss", "sampled_softmax_loss"):
        for num_true in (1, 2):
            for remove_hits in (False, True):
                for partitioned in (False, True):
                    if partitioned and num_true == 1:
                        continue
                    labels = np.array([[3, 1], [5, 3], [9, 2]])[:, :num_true]
                    true_count = rng.uniform(0.1, 0.9, (batch, num_true))
                    sampled_count = rng.uniform(0.1, 0.9, len(sampled))
                    tf.reset_default_graph()
                    w_parts = [tf.constant(weights[p::2]) for p in range(2)] if partitioned else [tf.constant(weights)]
                    b, x = tf.constant(biases), tf.constant(inputs)
                    fn = getattr(tf.nn, loss)
                    out = fn(w_parts if partitioned else w_parts[0], b, tf.constant(labels, tf.int64), x,
                             len(sampled), num_classes, num_true=num_true,
                             sampled_values=(tf.constant(sampled, tf.int64), tf.constant(true_count),
                                             tf.constant(sampled_count)),
                             remove_accidental_hits=remove_hits)
                    out_weights = np.array([1.0, -0.5, 2.0])
                    grads = tf.gradients(tf.reduce_sum(out * out_weights), w_parts + [b, x])
                    grads = [tf.convert_to_tensor(g) for g in grads]
                    with tf.Session() as s:
                        value, grad_values = s.run([out, grads])
                    w_grad = np.zeros_like(weights)
                    if partitioned:
                        for p in range(2):
                            w_grad[p::2] = grad_values[p]
                    else:
                        w_grad = grad_values[0]
                    cases.append({
                        "loss": loss, "num_true": num_true, "remove_accidental_hits": remove_hits,
                        "partitioned": partitioned, "num_classes": num_classes, "weights": weights.tolist(),
                        "biases": biases.tolist(), "inputs": inputs.tolist(), "labels": labels.tolist(),
                        "sampled": sampled.tolist(), "true_expected_count": true_count.tolist(),
                        "sampled_expected_count": sampled_count.tolist(), "out_weights": out_weights.tolist(),
                        "output": value.tolist(), "weights_grad": w_grad.tolist(),
                        "biases_grad": grad_values[-2].tolist(), "inputs_grad": grad_values[-1].tolist()})
    return cases


def main() -> None:
    rng = np.random.default_rng(7)
    out = {"tensorflow": tf.__version__, "lookup": _lookup_cases(rng), "losses": _loss_cases(rng)}
    path = HERE / "embedding_reference.json"
    path.write_text(json.dumps(out) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(out['lookup'])} lookups, {len(out['losses'])} losses)")


if __name__ == "__main__":
    main()
