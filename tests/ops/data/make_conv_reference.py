"""Write conv_reference.json: tf.nn convolutions and pooling computed by TensorFlow (float64).

Each case stores its inputs, the upstream gradient g, TensorFlow's output and tf.gradients of
sum(output * g) with respect to every array input, and the names/types of the ops the call made.
NCHW cases are computed by TensorFlow in NHWC on transposed arrays (its CPU kernels are NHWC only).

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_conv_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent

# name -> (tf.nn function, {argument: input shape}, other keyword arguments). Inputs are passed by keyword.
CASES: dict[str, tuple[str, dict[str, list[int]], dict[str, Any]]] = {
    "conv2d_same": ("conv2d", {"input": [2, 5, 4, 3], "filter": [3, 3, 3, 4]},
                    {"strides": [1, 1, 1, 1], "padding": "SAME"}),
    "conv2d_valid_stride": ("conv2d", {"input": [2, 7, 6, 2], "filter": [3, 2, 2, 3]},
                            {"strides": [1, 2, 2, 1], "padding": "VALID"}),
    "conv2d_explicit": ("conv2d", {"input": [1, 5, 6, 2], "filter": [2, 3, 2, 2]},
                        {"strides": 1, "padding": [[0, 0], [1, 2], [0, 1], [0, 0]]}),
    "conv2d_dilated": ("conv2d", {"input": [1, 7, 6, 2], "filter": [3, 3, 2, 2]},
                       {"strides": [1, 1, 1, 1], "padding": "SAME", "dilations": [1, 2, 2, 1]}),
    "conv2d_stride_2_3": ("conv2d", {"input": [2, 5, 7, 1], "filter": [4, 4, 1, 2]},
                          {"strides": [2, 3], "padding": "SAME"}),
    "conv2d_nchw": ("conv2d", {"input": [2, 3, 6, 5], "filter": [3, 3, 3, 2]},
                    {"strides": [1, 1, 2, 2], "padding": "SAME", "data_format": "NCHW"}),
    "conv2d_transpose_same": ("conv2d_transpose", {"value": [2, 3, 3, 4], "filter": [3, 3, 2, 4]},
                              {"output_shape": [2, 6, 6, 2], "strides": [1, 2, 2, 1], "padding": "SAME"}),
    "conv2d_transpose_odd": ("conv2d_transpose", {"value": [1, 4, 4, 2], "filter": [3, 3, 3, 2]},
                             {"output_shape": [1, 7, 7, 3], "strides": [1, 2, 2, 1], "padding": "SAME"}),
    "conv2d_transpose_valid": ("conv2d_transpose", {"value": [1, 4, 3, 2], "filter": [2, 2, 3, 2]},
                               {"output_shape": [1, 5, 4, 3], "strides": [1, 1, 1, 1], "padding": "VALID"}),
    "conv1d_same": ("conv1d", {"value": [2, 8, 3], "filters": [3, 3, 2]}, {"stride": 2, "padding": "SAME"}),
    "conv1d_valid_dilated": ("conv1d", {"value": [1, 9, 2], "filters": [3, 2, 2]},
                             {"stride": 1, "padding": "VALID", "dilations": 2}),
    "depthwise_same": ("depthwise_conv2d", {"input": [2, 5, 5, 3], "filter": [3, 3, 3, 2]},
                       {"strides": [1, 1, 1, 1], "padding": "SAME"}),
    "depthwise_valid_stride": ("depthwise_conv2d", {"input": [1, 7, 6, 2], "filter": [2, 3, 2, 2]},
                               {"strides": [1, 2, 2, 1], "padding": "VALID"}),
    "depthwise_rate": ("depthwise_conv2d", {"input": [1, 6, 6, 2], "filter": [3, 3, 2, 1]},
                       {"strides": [1, 1, 1, 1], "padding": "SAME", "rate": [2, 2]}),
    "max_pool_same": ("max_pool", {"value": [2, 5, 5, 3]}, {"ksize": 2, "strides": 2, "padding": "SAME"}),
    "max_pool_overlap": ("max_pool", {"value": [1, 7, 5, 2]}, {"ksize": 3, "strides": 2, "padding": "SAME"}),
    "max_pool_valid": ("max_pool", {"value": [1, 6, 6, 2]},
                       {"ksize": [1, 3, 2, 1], "strides": [1, 1, 2, 1], "padding": "VALID"}),
    "max_pool_nchw": ("max_pool", {"value": [1, 2, 5, 4]},
                      {"ksize": [1, 1, 2, 2], "strides": [1, 1, 2, 2], "padding": "SAME", "data_format": "NCHW"}),
    "avg_pool_same": ("avg_pool", {"value": [2, 5, 5, 2]}, {"ksize": 3, "strides": 2, "padding": "SAME"}),
    "avg_pool_valid": ("avg_pool", {"value": [1, 5, 4, 2]}, {"ksize": 2, "strides": 1, "padding": "VALID"}),
    "avg_pool_same_rect": ("avg_pool", {"value": [1, 5, 7, 2]},
                           {"ksize": [1, 2, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}),
}


def make_inputs(name: str, shapes: dict[str, list[int]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Quarter-step values (short in JSON); max_pool inputs are a permutation, so no window has a tie."""
    out = {}
    for arg, shape in shapes.items():
        size = int(np.prod(shape))
        if name.startswith("max_pool"):
            out[arg] = ((rng.permutation(size) - size // 2) / 4).reshape(shape)
        else:
            out[arg] = rng.integers(-8, 9, size).reshape(shape) / 4
    return out


def _to_nhwc(a: np.ndarray) -> np.ndarray:
    return a.transpose(0, 2, 3, 1)


def _nhwc_list(v: list[int]) -> list[int]:
    return [v[0], v[2], v[3], v[1]]


def run_case(tf: Any, name: str, fn: str, shapes: dict[str, list[int]], kwargs: dict[str, Any],
             arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
    nchw = kwargs.get("data_format") == "NCHW"
    feed_arrays = dict(arrays)
    tf_kwargs = dict(kwargs)
    if nchw:  # run the NHWC equivalent and transpose back
        first = next(iter(shapes))
        feed_arrays[first] = _to_nhwc(arrays[first])
        tf_kwargs["data_format"] = "NHWC"
        for k in ("strides", "ksize"):
            if k in kwargs:
                tf_kwargs[k] = _nhwc_list(kwargs[k])
    graph = tf.Graph()
    with graph.as_default():
        tensors = {k: tf.constant(v, dtype=tf.float64, name=k) for k, v in feed_arrays.items()}
        before = {op.name for op in graph.get_operations()}
        dilated = fn in ("conv2d", "conv1d") and "dilations" in kwargs
        y = _dilated_conv(tf, tensors, tf_kwargs) if dilated else getattr(tf.nn, fn)(**tensors, **tf_kwargs)
        made = [[op.name, op.type] for op in graph.get_operations() if op.name not in before and op.type != "Const"]
        if dilated:
            made = None
        y_shape = y.shape.as_list()
        g_nhwc = rng.integers(-4, 5, y_shape).astype(np.float64) / 2
        grads = tf.gradients(y, list(tensors.values()), grad_ys=tf.constant(g_nhwc))
        with tf.Session() as sess:
            y_val, *grad_vals = sess.run([y, *grads])
    g = g_nhwc
    if nchw:
        back = (0, 3, 1, 2)
        y_val, g = y_val.transpose(back), g_nhwc.transpose(back)
        grad_vals[0] = grad_vals[0].transpose(back)
    return {"fn": fn, "kwargs": kwargs, "inputs": {k: v.tolist() for k, v in arrays.items()},
            "g": g.tolist(), "output": _rounded(y_val), "output_name": None if nchw else y.name,
            "ops": None if nchw else made,
            "grads": {k: _rounded(v) for k, v in zip(tensors, grad_vals)}}


def _dilated_conv(tf: Any, tensors: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """TF's CPU Conv2D kernel refuses dilations: tf.nn.convolution computes the same through SpaceToBatchND."""
    x, w = tensors.values()
    nd = len(w.shape) - 2
    dil = np.reshape(kwargs["dilations"], -1).tolist()
    dil = dil[1:-1] if len(dil) == nd + 2 else dil * nd if len(dil) == 1 else dil
    strides = np.reshape(kwargs.get("strides", kwargs.get("stride", 1)), -1).tolist()
    strides = strides[1:-1] if len(strides) == nd + 2 else strides * nd if len(strides) == 1 else strides
    return tf.nn.convolution(x, w, kwargs["padding"], strides=strides, dilation_rate=dil)


def _rounded(a: np.ndarray) -> Any:
    return np.round(a, 10).tolist()


def main() -> None:
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    rng = np.random.default_rng(20240601)
    cases = {}
    for name, (fn, shapes, kwargs) in CASES.items():
        arrays = make_inputs(name, shapes, rng)
        cases[name] = run_case(tf, name, fn, shapes, kwargs, arrays, rng)
    out = {"tensorflow": tf.__version__, "cases": cases}
    path = HERE / "conv_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(cases)} cases, {path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
