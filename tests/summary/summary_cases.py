"""Summary graphs built the same way by gpugraph and by tensorflow.compat.v1 (make_summary_reference.py).

``build(tf)`` takes either module as ``tf``; the reference file records what TensorFlow named the ops,
which tags their summaries carry, and the histogram and image messages for the inputs in INPUTS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FEED_X = 0.25
FEED_V = [1.0, 2.0, -3.0, 0.0]


def build(tf: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summaries by key, placeholders by name)."""
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.placeholder(tf.float32, [None], name="v")
    img = tf.placeholder(tf.float32, [None, 2, 3, 3], name="img")
    out: dict[str, Any] = {}
    out["plain"] = tf.summary.scalar("MSE", x)
    out["again"] = tf.summary.scalar("MSE", x)
    with tf.name_scope("loss"):
        mse = tf.reduce_mean(tf.square(v), name="mse")
        out["scoped"] = tf.summary.scalar("MSE", mse)  # "loss/mse" exists: names are case-insensitive
        out["scoped_hist"] = tf.summary.histogram("weights", v)
    out["family"] = tf.summary.scalar("acc", x, family="train")
    out["family_hist"] = tf.summary.histogram("acc", v, family="train")
    out["cleaned"] = tf.summary.scalar("a b:c", x)
    out["images"] = tf.summary.image("pics", img)
    out["one_image"] = tf.summary.image("pic", img, max_outputs=1)
    out["kept_out"] = tf.summary.scalar("private", x, collections=["mine"])
    out["merged"] = tf.summary.merge([out["plain"], out["scoped"]])
    out["merged_named"] = tf.summary.merge([out["again"]], name="mm")
    out["merge_all"] = tf.summary.merge_all()
    return out, {"x": x, "v": v, "img": img}


def feeds(placeholders: dict[str, Any]) -> dict[Any, Any]:
    images = np.linspace(0.0, 1.0, 4 * 2 * 3 * 3, dtype=np.float32).reshape(4, 2, 3, 3)
    return {placeholders["x"]: FEED_X, placeholders["v"]: FEED_V, placeholders["img"]: images}


def histogram_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "normal": rng.standard_normal(200),
        "mixed": np.array([1.0, 2.0, -3.0, 0.0, 0.0, 1e-13, -1e-13, 7.5e3]),
        "huge": np.array([1e25, -1e30, 3.0]),
        "ints": rng.integers(-50, 50, size=40).astype(np.int32),
        "empty": np.zeros(0),
        "matrix": rng.uniform(-2.0, 5.0, size=(6, 7)).astype(np.float32),
    }


def image_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    with_nan = rng.uniform(0.0, 1.0, size=(1, 3, 4, 3)).astype(np.float32)
    with_nan[0, 1, 2, 1] = np.nan
    with_nan[0, 2, 0, 0] = np.inf
    return {
        "positive_rgb": rng.uniform(0.0, 0.6, size=(2, 3, 4, 3)).astype(np.float32),
        "signed_rgb": rng.uniform(-2.0, 1.0, size=(2, 3, 4, 3)).astype(np.float32),
        "gray64": rng.uniform(0.0, 1.0, size=(3, 5, 2, 1)),
        "rgba": rng.uniform(0.0, 1.0, size=(1, 2, 2, 4)).astype(np.float32),
        "uint8": rng.integers(0, 256, size=(2, 3, 3, 3)).astype(np.uint8),
        "zeros": np.zeros((1, 2, 2, 3), np.float32),
        "nonfinite": with_nan,
    }
