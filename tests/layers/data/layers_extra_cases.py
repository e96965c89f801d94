"""tf.layers separable and 3-D layers built the same way by gpugraph and tensorflow.compat.v1
(make_layers_extra_reference.py). Each case takes either module as ``tf`` and returns arrays to compare
(output, gradients of sum(out * w) for the input and every trainable variable) and the names TF1 gives.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def data(seed: int, shape: tuple[int, ...], lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return np.random.RandomState(seed).uniform(lo, hi, shape).astype(np.float32)


def _case(tf: Any, x_shape: tuple[int, ...], make: Callable[..., Any]) -> dict[str, Any]:
    x = tf.constant(data(1, x_shape), name="x")
    out = make(tf, x)
    variables = tf.trainable_variables()
    w = tf.constant(data(99, tuple(out.shape.as_list())))
    grads = tf.gradients(tf.reduce_sum(out * w), [x] + variables)
    fetches = {"out": out, "grad_x": grads[0]}
    fetches.update({f"grad_{v.op.name}": g for v, g in zip(variables, grads[1:])})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(fetches)
    result: dict[str, Any] = {k: np.asarray(v).tolist() for k, v in values.items()}
    result["names"] = {"output": out.name, "variables": [v.name for v in tf.global_variables()],
                       "shapes": [v.shape.as_list() for v in tf.global_variables()]}
    return result


def _init(tf: Any, seed: int, shape: tuple[int, ...]) -> Any:
    return tf.constant_initializer(data(seed, shape, -0.5, 0.5))


CASES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "separable_conv2d": lambda tf: _case(tf, (2, 5, 6, 3), lambda tf, x: tf.layers.separable_conv2d(
        x, 4, (3, 2), padding="same", depth_multiplier=2, activation=tf.nn.relu,
        depthwise_initializer=_init(tf, 2, (3, 2, 3, 2)), pointwise_initializer=_init(tf, 3, (1, 1, 6, 4)),
        bias_initializer=_init(tf, 4, (4,)))),
    "separable_conv2d_strided": lambda tf: _case(tf, (1, 7, 7, 2), lambda tf, x: tf.layers.separable_conv2d(
        x, 3, 3, strides=2, depthwise_initializer=_init(tf, 2, (3, 3, 2, 1)),
        pointwise_initializer=_init(tf, 3, (1, 1, 2, 3)), use_bias=False, name="sep")),
    "separable_conv1d": lambda tf: _case(tf, (2, 8, 3), lambda tf, x: tf.layers.separable_conv1d(
        x, 2, 3, dilation_rate=2, depthwise_initializer=_init(tf, 2, (3, 3, 1)),
        pointwise_initializer=_init(tf, 3, (1, 3, 2)), bias_initializer=_init(tf, 4, (2,)))),
    "conv3d": lambda tf: _case(tf, (2, 4, 5, 4, 2), lambda tf, x: tf.layers.conv3d(
        x, 3, (2, 3, 2), strides=(1, 2, 1), padding="same", kernel_initializer=_init(tf, 2, (2, 3, 2, 2, 3)),
        bias_initializer=_init(tf, 4, (3,)))),
    "conv3d_transpose": lambda tf: _case(tf, (1, 2, 3, 2, 3), lambda tf, x: tf.layers.conv3d_transpose(
        x, 2, 3, strides=2, padding="same", kernel_initializer=_init(tf, 2, (3, 3, 3, 2, 3)),
        bias_initializer=_init(tf, 4, (2,)))),
    "conv3d_transpose_valid": lambda tf: _case(tf, (1, 2, 2, 3, 2), lambda tf, x: tf.layers.conv3d_transpose(
        x, 2, (2, 1, 2), strides=(1, 2, 2), kernel_initializer=_init(tf, 2, (2, 1, 2, 2, 2)), use_bias=False)),
    "max_pooling3d": lambda tf: _case(tf, (1, 4, 5, 4, 2), lambda tf, x: tf.layers.max_pooling3d(
        x, 2, 2, padding="same")),
    "average_pooling3d": lambda tf: _case(tf, (2, 4, 3, 5, 1), lambda tf, x: tf.layers.average_pooling3d(
        x, (3, 2, 2), (1, 1, 2))),
}
