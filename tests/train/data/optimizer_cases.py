"""The optimizer reference problem, written once against the TF1 API.

``make_optimizer_reference.py`` runs it with ``tensorflow.compat.v1`` and stores the results in
``optimizer_reference.json``; ``tests/train/test_optimizers.py`` runs the same code with gpugraph
and compares. The module imports neither library: ``train(tf, case, data)`` gets the one to use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STEPS = 100

# name -> optimizer class in tf.train, constructor kwargs, and how the learning rate is given:
# a number in kwargs, "placeholder" (fed 0.005 * 0.99**step), or "decay" (a tensor computed from the
# global step); "tensor" lists kwargs passed as tf.constant tensors instead of Python numbers;
# global_step=True passes the global step to minimize, "argument" to the constructor as well.
CASES: dict[str, dict[str, Any]] = {
    "gd": dict(opt="GradientDescentOptimizer", kwargs=dict(learning_rate=0.01)),
    "gd_placeholder_lr": dict(opt="GradientDescentOptimizer", lr="placeholder", global_step=True),
    "momentum": dict(opt="MomentumOptimizer", kwargs=dict(learning_rate=0.002, momentum=0.9)),
    "momentum_nesterov": dict(opt="MomentumOptimizer",
                              kwargs=dict(learning_rate=0.002, momentum=0.9, use_nesterov=True)),
    "momentum_decay_lr_tensor_momentum": dict(opt="MomentumOptimizer", kwargs=dict(momentum=0.8),
                                              tensor=("momentum",), lr="decay", global_step=True),
    "adam": dict(opt="AdamOptimizer", kwargs=dict(learning_rate=0.005)),
    "adam_placeholder_lr": dict(opt="AdamOptimizer", kwargs=dict(beta1=0.8, beta2=0.99, epsilon=1e-4),
                                lr="placeholder", global_step=True),
    "adam_tensor_hyper": dict(opt="AdamOptimizer", kwargs=dict(learning_rate=0.004, beta1=0.85, beta2=0.995),
                              tensor=("learning_rate", "beta1", "beta2")),
    "adam_float64": dict(opt="AdamOptimizer", kwargs=dict(learning_rate=0.01), dtype="float64"),
    "rmsprop": dict(opt="RMSPropOptimizer", kwargs=dict(learning_rate=0.002)),
    "rmsprop_momentum": dict(opt="RMSPropOptimizer", kwargs=dict(learning_rate=0.001, momentum=0.5)),
    "rmsprop_centered": dict(opt="RMSPropOptimizer", kwargs=dict(learning_rate=0.001, decay=0.99, centered=True)),
    "rmsprop_centered_momentum": dict(opt="RMSPropOptimizer", kwargs=dict(
        learning_rate=0.0005, decay=0.99, momentum=0.5, epsilon=1e-6, centered=True)),
    "adagrad": dict(opt="AdagradOptimizer", kwargs=dict(learning_rate=0.02)),
    "adagrad_accumulator_placeholder_lr": dict(opt="AdagradOptimizer",
                                               kwargs=dict(initial_accumulator_value=1.0), lr="placeholder"),
    "adadelta": dict(opt="AdadeltaOptimizer", kwargs={}),
    "adadelta_fast": dict(opt="AdadeltaOptimizer", kwargs=dict(learning_rate=0.3, rho=0.9, epsilon=1e-6)),
    "adadelta_float64": dict(opt="AdadeltaOptimizer", kwargs=dict(learning_rate=0.5), dtype="float64"),
    "ftrl": dict(opt="FtrlOptimizer", kwargs=dict(learning_rate=0.05)),
    "ftrl_l1_l2_power": dict(opt="FtrlOptimizer", kwargs=dict(
        learning_rate=0.05, learning_rate_power=-0.7, initial_accumulator_value=0.5,
        l1_regularization_strength=0.01, l2_regularization_strength=0.02)),
    "ftrl_shrinkage_beta": dict(opt="FtrlOptimizer", kwargs=dict(
        learning_rate=0.05, l1_regularization_strength=0.001, l2_shrinkage_regularization_strength=0.03, beta=0.5)),
    "ftrl_placeholder_lr_float64": dict(opt="FtrlOptimizer", kwargs=dict(l2_regularization_strength=0.01),
                                        lr="placeholder", dtype="float64"),
    "proximal_gd": dict(opt="ProximalGradientDescentOptimizer", kwargs=dict(learning_rate=0.01)),
    "proximal_gd_l1_l2": dict(opt="ProximalGradientDescentOptimizer", kwargs=dict(
        learning_rate=0.01, l1_regularization_strength=0.01, l2_regularization_strength=0.05)),
    "proximal_adagrad": dict(opt="ProximalAdagradOptimizer", kwargs=dict(learning_rate=0.05)),
    "proximal_adagrad_l1_l2": dict(opt="ProximalAdagradOptimizer", kwargs=dict(
        learning_rate=0.05, initial_accumulator_value=0.5, l1_regularization_strength=0.005,
        l2_regularization_strength=0.01)),
    "adagrad_da": dict(opt="AdagradDAOptimizer", kwargs=dict(learning_rate=0.1), global_step="argument"),
    "adagrad_da_l1_l2": dict(opt="AdagradDAOptimizer", kwargs=dict(
        learning_rate=0.1, initial_gradient_squared_accumulator_value=0.5, l1_regularization_strength=0.001,
        l2_regularization_strength=0.001), global_step="argument"),
}


def make_data(seed: int = 0) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    w_true = np.array([[1.0, -0.5], [2.0, 0.3], [-1.5, 0.8]], np.float32)
    y = (x @ w_true + np.array([0.4, -0.2], np.float32)
         + 0.1 * rng.standard_normal((32, 2)).astype(np.float32)).astype(np.float32)
    w0 = (0.1 * rng.standard_normal((3, 2))).astype(np.float32)
    return {"x": x.tolist(), "y": y.tolist(), "W": w0.tolist(), "b": [0.0, 0.0], "scale": 1.0}


def placeholder_lr(step: int) -> float:
    return 0.005 * 0.99 ** step


def train(tf: Any, case: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Train y ~ scale * x @ W + b for STEPS steps; the losses, final variables and slot names."""
    dtype = np.dtype(case.get("dtype", "float32"))
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(np.asarray(data["x"], dtype), name="x")
        y = tf.constant(np.asarray(data["y"], dtype), name="y")
        w = tf.Variable(np.asarray(data["W"], dtype), name="W")
        b = tf.Variable(np.asarray(data["b"], dtype), name="b")
        scale = tf.Variable(np.asarray(data["scale"], dtype), name="scale")
        loss = tf.reduce_mean(tf.square(scale * tf.matmul(x, w) + b - y), name="loss")
        global_step = tf.train.get_or_create_global_step() if case.get("global_step") else None
        kwargs = dict(case.get("kwargs", {}))
        if case.get("global_step") == "argument":  # AdagradDA takes the step in its constructor
            kwargs["global_step"] = global_step
        for key in case.get("tensor", ()):
            kwargs[key] = tf.constant(kwargs[key], name=key + "_value")
        feed_lr = None
        if case.get("lr") == "placeholder":
            feed_lr = tf.placeholder(tf.float32, shape=[], name="lr")
            kwargs["learning_rate"] = feed_lr
        elif case.get("lr") == "decay":
            kwargs["learning_rate"] = 0.004 / (1.0 + 0.02 * tf.cast(global_step, tf.float32))
        opt = getattr(tf.train, case["opt"])(**kwargs)
        train_op = opt.minimize(loss, global_step=global_step)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for step in range(STEPS):
                feed = {feed_lr: placeholder_lr(step)} if feed_lr is not None else None
                losses.append(float(sess.run(loss)))
                sess.run(train_op, feed_dict=feed)
            losses.append(float(sess.run(loss)))
            values = {v.op.name: np.asarray(sess.run(v)).tolist() for v in tf.global_variables()}
        return {"losses": losses, "variables": values, "slot_names": opt.get_slot_names(),
                "optimizer_variables": sorted(v.op.name for v in opt.variables()),
                "train_op": [train_op.name, train_op.type]}
