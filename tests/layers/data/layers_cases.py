"""tf.layers graphs built the same way by gpugraph and by tensorflow.compat.v1 (make_layers_reference.py).

Every function takes either module as ``tf``. VALUE_CASES build one layer with fixed weights (constant
initializers), run it, and return its outputs and the gradients of ``sum(out * w)``; the BN cases also
run training steps. NAME_CASES return the names TF1 gives variables, outputs and collections.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def data(seed: int, shape: tuple[int, ...], lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return np.random.RandomState(seed).uniform(lo, hi, shape).astype(np.float32)


def _grads(tf: Any, out: Any, wrt: dict[str, Any], seed: int = 99) -> dict[str, Any]:
    w = data(seed, tuple(out.shape.as_list()))
    loss = tf.reduce_sum(out * tf.constant(w))
    grads = tf.gradients(loss, list(wrt.values()))
    return {f"grad_{k}": g for k, g in zip(wrt, grads)}


def _run(tf: Any, fetches: dict[str, Any], feed: dict[Any, Any] | None = None) -> dict[str, Any]:
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(fetches, feed)
    return {k: np.asarray(v).tolist() for k, v in values.items()}


def _weighted(tf: Any, make: Callable[..., Any], x_shape: tuple[int, ...], kernel_shape: tuple[int, ...],
              bias_size: int | None) -> dict[str, Any]:
    """One weighted layer: output and gradients with respect to input, kernel and bias (None: no bias)."""
    x = tf.constant(data(1, x_shape))
    init = {"kernel_initializer": tf.constant_initializer(data(2, kernel_shape, -0.5, 0.5))}
    if bias_size:
        init["bias_initializer"] = tf.constant_initializer(data(3, (bias_size,), -0.5, 0.5))
    out = make(x, use_bias=bias_size is not None, **init)
    variables = tf.trainable_variables()
    wrt = {"x": x, "kernel": variables[0]}
    if bias_size:
        wrt["bias"] = variables[1]
    return _run(tf, {"out": out, **_grads(tf, out, wrt)})


def _pool(tf: Any, make: Callable[..., Any], x_shape: tuple[int, ...], *args: Any, **kwargs: Any) -> dict[str, Any]:
    x = tf.constant(data(4, x_shape))
    out = make(x, *args, **kwargs)
    return _run(tf, {"out": out, **_grads(tf, out, {"x": x})})


def _batch_norm(tf: Any, x_shape: tuple[int, ...], axis: int = -1, fused: Any = None,
                tensor_training: bool = False) -> dict[str, Any]:
    """Three training steps (moving stats after each), then the inference output; gradients in training."""
    channels = x_shape[axis]
    x = tf.placeholder(tf.float32, x_shape)
    training: Any = tf.placeholder(tf.bool, []) if tensor_training else True
    kwargs = dict(axis=axis, momentum=0.9, fused=fused,
                  gamma_initializer=tf.constant_initializer(data(5, (channels,), 0.5, 1.5)),
                  beta_initializer=tf.constant_initializer(data(6, (channels,), -0.5, 0.5)))
    out = tf.layers.batch_normalization(x, training=training, **kwargs)
    gamma, beta, moving_mean, moving_variance = tf.global_variables()
    grads = _grads(tf, out, {"x": x, "gamma": gamma, "beta": beta})
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    result: dict[str, Any] = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        steps = [True, True, False, True] if tensor_training else [True, True, True]
        for i, flag in enumerate(steps):
            feed = {x: data(10 + i, x_shape, 0.0, 3.0)}
            if tensor_training:
                feed[training] = flag
            fetched = sess.run({"out": out, **grads, "updates": updates}, feed)
            if i == 0:
                result.update({k: np.asarray(v).tolist() for k, v in fetched.items() if k != "updates"})
            mean, var = sess.run([moving_mean, moving_variance])
            result[f"moving_mean_{i}"], result[f"moving_variance_{i}"] = mean.tolist(), var.tolist()
        if tensor_training:
            result["inference"] = sess.run(out, {x: data(20, x_shape, 0.0, 3.0), training: False}).tolist()
    if not tensor_training:  # the same variables read by an inference-mode layer
        inference = tf.layers.batch_normalization(x, training=False, name="batch_normalization", reuse=True, **kwargs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                sess.run(updates, {x: data(10 + i, x_shape, 0.0, 3.0)})
            result["inference"] = sess.run(inference, {x: data(20, x_shape, 0.0, 3.0)}).tolist()
    return result


VALUE_CASES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "dense_relu": lambda tf: _weighted(tf, lambda x, **k: tf.layers.dense(x, 5, activation=tf.nn.relu, **k),
                                       (3, 4), (4, 5), 5),
    "dense_rank3_tanh": lambda tf: _weighted(tf, lambda x, **k: tf.layers.dense(x, 2, activation=tf.tanh, **k),
                                             (2, 3, 4), (4, 2), 2),
    "dense_no_bias": lambda tf: _weighted(tf, lambda x, **k: tf.layers.dense(x, 3, **k), (3, 4), (4, 3), None),
    "conv2d_valid_relu": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv2d(x, 4, 3, activation=tf.nn.relu, **k), (2, 6, 6, 3), (3, 3, 3, 4), 4),
    "conv2d_same_stride2": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv2d(x, 4, (3, 2), strides=2, padding="same", **k), (2, 7, 6, 3),
        (3, 2, 3, 4), None),
    "conv2d_dilated": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv2d(x, 2, 3, dilation_rate=2, **k), (1, 7, 7, 2), (3, 3, 2, 2), 2),
    "conv1d_same": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv1d(x, 4, 3, padding="same", **k), (2, 8, 3), (3, 3, 4), 4),
    "conv1d_valid_stride2": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv1d(x, 2, 3, strides=2, **k), (2, 9, 3), (3, 3, 2), 2),
    "conv1d_causal_dilated": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv1d(x, 2, 2, padding="causal", dilation_rate=2, **k), (1, 7, 2), (2, 2, 2), 2),
    "conv2d_transpose_same_stride2": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv2d_transpose(x, 3, 3, strides=2, padding="same", **k), (2, 3, 3, 2),
        (3, 3, 3, 2), 3),
    "conv2d_transpose_valid_stride2": lambda tf: _weighted(
        tf, lambda x, **k: tf.layers.conv2d_transpose(x, 2, (3, 2), strides=2, **k), (1, 3, 4, 2), (3, 2, 2, 2), 2),
    "max_pooling2d_valid": lambda tf: _pool(tf, tf.layers.max_pooling2d, (2, 5, 5, 2), 2, 2),
    "max_pooling2d_same": lambda tf: _pool(tf, tf.layers.max_pooling2d, (1, 5, 6, 2), 3, 2, padding="same"),
    "average_pooling2d_same": lambda tf: _pool(tf, tf.layers.average_pooling2d, (1, 5, 5, 2), 3, 2,
                                               padding="same"),
    "average_pooling2d_valid": lambda tf: _pool(tf, tf.layers.average_pooling2d, (2, 4, 6, 1), (2, 3), (2, 3)),
    "max_pooling1d": lambda tf: _pool(tf, tf.layers.max_pooling1d, (2, 7, 3), 2, 2),
    "average_pooling1d_same": lambda tf: _pool(tf, tf.layers.average_pooling1d, (2, 7, 3), 3, 2, padding="same"),
    "batch_norm_fused_nhwc": lambda tf: _batch_norm(tf, (4, 3, 3, 2)),
    "batch_norm_2d": lambda tf: _batch_norm(tf, (6, 3)),
    "batch_norm_unfused_4d": lambda tf: _batch_norm(tf, (4, 2, 2, 3), fused=False),
    "batch_norm_axis1_3d": lambda tf: _batch_norm(tf, (4, 3, 5), axis=1),
    "batch_norm_training_tensor_fused": lambda tf: _batch_norm(tf, (4, 2, 3, 2), tensor_training=True),
    "batch_norm_training_tensor_2d": lambda tf: _batch_norm(tf, (5, 3), tensor_training=True),
}


# --- names ---
def _names(items: Any) -> list[str]:
    return [getattr(v, "name", str(v)) for v in items]


def names_dense(tf: Any) -> dict[str, Any]:
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    out: dict[str, Any] = {}
    y = tf.layers.dense(x, 3, activation=tf.nn.relu, kernel_regularizer=lambda w: tf.reduce_sum(w),
                        activity_regularizer=lambda a: tf.reduce_mean(a))
    out["relu"], out["relu_input"] = y.name, y.op.inputs[0].name
    out["second"] = tf.layers.dense(x, 3).name
    with tf.variable_scope("gen"):
        out["gen_named"] = tf.layers.dense(x, 3, name="fc").name
        out["gen_named_reuse"] = tf.layers.dense(x, 3, name="fc", reuse=True).name
    with tf.variable_scope("gen", reuse=True):
        out["inherited_reuse"] = tf.layers.dense(x, 3, name="fc").name
    with tf.variable_scope("gen", reuse=tf.AUTO_REUSE):
        out["auto_reuse"] = tf.layers.dense(x, 3, name="fc").name
        out["auto_reuse_unnamed"] = tf.layers.dense(x, 3).name
    layer = tf.layers.Dense(5, name="cls")
    out["class_calls"] = [layer(x).name, layer(x).name, layer.apply(x).name]
    out["class_kernel"], out["class_bias"] = layer.kernel.name, layer.bias.name
    out["class_variables"] = _names(layer.variables)
    out["class_trainable"] = _names(layer.trainable_variables)
    out["class_updates"] = len(layer.updates)
    frozen = tf.layers.Dense(2, trainable=False)
    frozen(x)
    out["frozen_trainable"] = _names(frozen.trainable_variables)
    out["frozen_non_trainable"] = _names(frozen.non_trainable_variables)
    out["frozen_name"] = frozen.name
    out["rank3"] = tf.layers.dense(tf.placeholder(tf.float32, [None, 5, 4]), 3).name
    out["global"] = _names(tf.global_variables())
    out["trainable"] = _names(tf.trainable_variables())
    out["regularization"] = _names(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
    out["update_ops"] = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    return out


def names_core(tf: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["flatten"] = str(tf.layers.flatten(tf.placeholder(tf.float32, [None, 2, 3])))
    out["flatten_known"] = str(tf.layers.flatten(tf.placeholder(tf.float32, [2, 3, 4])))
    out["flatten_first"] = str(tf.layers.flatten(tf.placeholder(tf.float32, [None, 2, 3, 4]),
                                                 data_format="channels_first"))
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    out["dropout_off"] = str(tf.layers.dropout(x, 0.3))
    out["dropout_shape"] = str(tf.layers.dropout(x, 0.3, training=True).shape)
    out["flatten_compute"] = str(tf.layers.Flatten().compute_output_shape(tf.TensorShape([None, 3, 4])))
    out["dense_compute"] = str(tf.layers.Dense(7).compute_output_shape(tf.TensorShape([None, 3, 4])))
    return out


def names_conv(tf: Any) -> dict[str, Any]:
    x = tf.placeholder(tf.float32, [None, 8, 8, 3], name="x")
    x1 = tf.placeholder(tf.float32, [None, 10, 3], name="x1")
    out: dict[str, Any] = {}
    out["conv2d"] = str(tf.layers.conv2d(x, 4, 3, activation=tf.nn.relu))
    out["conv2d_same"] = str(tf.layers.conv2d(x, 4, (3, 2), strides=2, padding="same", use_bias=False))
    out["conv2d_first"] = str(tf.layers.conv2d(x, 4, 3, data_format="channels_first"))
    out["conv2d_dilated_shape"] = str(tf.layers.conv2d(x, 4, 3, dilation_rate=2).shape)
    out["transpose_same"] = str(tf.layers.conv2d_transpose(x, 5, 3, strides=2, padding="same"))
    out["transpose_valid"] = str(tf.layers.conv2d_transpose(x, 5, 3, strides=2, padding="valid"))
    out["conv1d"] = str(tf.layers.conv1d(x1, 4, 3, padding="same"))
    out["conv1d_causal_shape"] = str(tf.layers.conv1d(x1, 4, 3, padding="causal").shape)
    out["max2d"] = str(tf.layers.max_pooling2d(x, 2, 2))
    out["avg2d"] = str(tf.layers.average_pooling2d(x, 3, 2, padding="same"))
    out["max1d"] = str(tf.layers.max_pooling1d(x1, 2, 2))
    out["avg1d"] = str(tf.layers.average_pooling1d(x1, 2, 2))
    out["max2d_first"] = str(tf.layers.max_pooling2d(x, 2, 2, data_format="channels_first"))
    out["variables"] = [f"{v.name}{v.shape}" for v in tf.global_variables()]
    conv = tf.layers.Conv2D(4, 3, strides=2, padding="same")
    out["conv_class_shape"] = str(conv.compute_output_shape(tf.TensorShape([None, 9, 8, 3])))
    out["conv_class_name"] = conv.name
    out["transpose_class_shape"] = str(tf.layers.Conv2DTranspose(2, 3, strides=2).compute_output_shape(
        tf.TensorShape([None, 4, 5, 3])))
    out["pool_class_shape"] = str(tf.layers.MaxPooling2D(3, 2, padding="same").compute_output_shape(
        tf.TensorShape([None, 7, 8, 3])))
    return out


def names_batch_norm(tf: Any) -> dict[str, Any]:
    x = tf.placeholder(tf.float32, [None, 4, 4, 3], name="x")
    x2 = tf.placeholder(tf.float32, [None, 5], name="x2")
    out: dict[str, Any] = {}
    out["fused_training"] = str(tf.layers.batch_normalization(x, training=True))
    out["fused_inference"] = str(tf.layers.batch_normalization(x, training=False))
    out["unfused_training"] = str(tf.layers.batch_normalization(x2, training=True))
    out["unfused_inference"] = str(tf.layers.batch_normalization(x2, training=False))
    out["tensor_training_shape"] = str(tf.layers.batch_normalization(x, training=tf.placeholder(tf.bool, [])).shape)
    with tf.variable_scope("net"):
        tf.layers.batch_normalization(x, training=True, name="bn", trainable=False)
    layer = tf.layers.BatchNormalization(momentum=0.5)
    layer(x, training=True)
    out["class_updates"] = _names(layer.updates)
    out["class_variables"] = _names(layer.variables)
    out["class_trainable"] = _names(layer.trainable_variables)
    out["class_moving_mean"] = layer.moving_mean.name
    out["update_ops"] = _names(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    out["global"] = _names(tf.global_variables())
    out["trainable"] = _names(tf.trainable_variables())
    return out


NAME_CASES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "dense": names_dense, "core": names_core, "conv": names_conv, "batch_norm": names_batch_norm,
}
