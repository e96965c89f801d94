"""The built-in models, written with gpugraph's TF1 API as a user would write them.

Each builder takes the input and target placeholders and returns the model's loss and metrics:
regressors report MSE and R^2, classifiers cross-entropy and accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import gpugraph as tf
from gpugraph.config_files import CLASSIFIERS


@dataclass
class Model:
    description: str
    loss: Any  # mean data loss plus the L2 penalty: what the optimizer minimizes
    metrics: dict[str, Any] = field(default_factory=dict)  # TensorBoard tag -> scalar tensor over the fed batch
    labels: dict[str, str] = field(default_factory=dict)  # tag -> how the final report names it
    weights: list[Any] = field(default_factory=list)


def is_classifier(model_type: str) -> bool:
    return model_type in CLASSIFIERS


def build_model(settings: SimpleNamespace, x: Any, y: Any, num_features: int, num_classes: int) -> Model:
    """The model of the [model] section on inputs ``x`` (float32 [None, features]) and targets ``y``."""
    kind = settings.type
    if kind == "linear_regression":
        out, weights = _dense(x, num_features, 1, "linear")
        return _regressor(tf.reshape(out, [-1]), y, weights, settings.l2,
                          f"linear regression on {_inputs(num_features)}")
    if kind == "polynomial_regression":
        powers = [x] + [tf.pow(x, float(p)) for p in range(2, settings.degree + 1)]
        features = tf.concat(powers, axis=1, name="powers") if len(powers) > 1 else x
        out, weights = _dense(features, num_features * settings.degree, 1, "polynomial")
        return _regressor(tf.reshape(out, [-1]), y, weights, settings.l2,
                          f"polynomial regression of degree {settings.degree} on {_inputs(num_features)}")
    if kind == "logistic_regression":
        binary = num_classes == 2
        logits, weights = _dense(x, num_features, 1 if binary else num_classes, "logistic")
        what = "binary (sigmoid)" if binary else f"{num_classes}-class (softmax)"
        return _classifier(logits, y, weights, settings.l2,
                           f"{what} logistic regression on {_inputs(num_features)}")
    if kind == "mlp_classifier":
        activation = {"relu": tf.nn.relu, "tanh": tf.nn.tanh, "sigmoid": tf.nn.sigmoid}[settings.activation]
        h, width, weights = x, num_features, []
        for i, units in enumerate(settings.hidden_sizes):
            h, w = _dense(h, width, units, f"hidden{i + 1}")
            h, width = activation(h), units
            weights += w
        logits, w = _dense(h, width, num_classes, "logits")
        sizes = " -> ".join(str(n) for n in [num_features, *settings.hidden_sizes, num_classes])
        return _classifier(logits, y, weights + w, settings.l2, f"MLP classifier {sizes} ({settings.activation})",
                           binary_ok=False)
    raise ValueError(f"unknown model type {kind!r}")


def _inputs(n: int) -> str:
    return "1 input" if n == 1 else f"{n} inputs"


def _dense(x: Any, fan_in: int, units: int, scope: str) -> tuple[Any, list[Any]]:
    with tf.variable_scope(scope):
        w = tf.get_variable("weights", [fan_in, units], tf.float32, initializer=tf.glorot_uniform_initializer())
        b = tf.get_variable("biases", [units], tf.float32, initializer=tf.zeros_initializer())
        return tf.matmul(x, w) + b, [w]


def _penalty(weights: list[Any], l2: float) -> Any:
    return l2 * tf.add_n([tf.nn.l2_loss(w) for w in weights]) if l2 > 0 else None


def _regressor(prediction: Any, y: Any, weights: list[Any], l2: float, description: str) -> Model:
    with tf.name_scope("metrics"):
        mse = tf.reduce_mean(tf.square(prediction - y), name="mse")
        total = tf.reduce_sum(tf.square(y - tf.reduce_mean(y)))
        r2 = tf.subtract(1.0, tf.reduce_sum(tf.square(y - prediction)) / tf.maximum(total, 1e-12), name="r2")
    penalty = _penalty(weights, l2)
    loss = tf.add(mse, penalty, name="total_loss") if penalty is not None else tf.identity(mse, name="total_loss")
    return Model(description, loss, {"loss": mse, "r2": r2}, {"loss": "loss (MSE)", "r2": "R^2"}, weights)


def _classifier(logits: Any, y: Any, weights: list[Any], l2: float, description: str,
                binary_ok: bool = True) -> Model:
    with tf.name_scope("metrics"):
        if binary_ok and logits.shape.as_tuple()[-1] == 1:
            logit = tf.reshape(logits, [-1])
            xent = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(y, tf.float32),
                                                                          logits=logit), name="cross_entropy")
            predicted = tf.cast(tf.greater(logit, 0.0), tf.int64)
        else:
            xent = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits),
                                  name="cross_entropy")
            predicted = tf.argmax(logits, 1)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32), name="accuracy")
    penalty = _penalty(weights, l2)
    loss = tf.add(xent, penalty, name="total_loss") if penalty is not None else tf.identity(xent, name="total_loss")
    return Model(description, loss, {"loss": xent, "accuracy": accuracy},
                 {"loss": "loss (cross-entropy)", "accuracy": "accuracy"}, weights)
