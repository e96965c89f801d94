"""The tf.nn calls of nn_extra_reference.json, shared by make_nn_extra_reference.py and the tests.

name -> {"fn": "nn.selu" (an attribute path under tf), "inputs": {argument: [shape, kind]}, "kwargs": other
keyword arguments, "out": index of the output to check when the call returns a tuple, "grad": False when
no gradient is taken, "float32": True where TF's CPU kernel has no float64}. Kinds: "q" quarter steps
in [-2, 2], "pos" positive, "unit" in [0, 1], "perm" distinct values (no ties in a max window), "int" int32 values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CASES: dict[str, dict[str, Any]] = {
    "selu": {"fn": "nn.selu", "inputs": {"features": [[3, 4], "q"]}},
    "softsign": {"fn": "nn.softsign", "inputs": {"features": [[3, 4], "q"]}},
    "swish": {"fn": "nn.swish", "inputs": {"features": [[3, 4], "q"]}},
    "swish_beta": {"fn": "nn.swish", "inputs": {"features": [[2, 3], "q"]}, "kwargs": {"beta": 0.5}},
    "crelu": {"fn": "nn.crelu", "inputs": {"features": [[2, 3], "q"]}},
    "crelu_axis0": {"fn": "nn.crelu", "inputs": {"features": [[2, 3], "q"]}, "kwargs": {"axis": 0}},
    "relu_layer": {"fn": "nn.relu_layer", "inputs": {"x": [[2, 3], "q"], "weights": [[3, 4], "q"],
                                                     "biases": [[4], "q"]}},
    "log_poisson_loss": {"fn": "nn.log_poisson_loss", "inputs": {"targets": [[3, 4], "pos"],
                                                                 "log_input": [[3, 4], "q"]}},
    "log_poisson_loss_full": {"fn": "nn.log_poisson_loss", "inputs": {"targets": [[3, 4], "pos"],
                                                                      "log_input": [[3, 4], "q"]},
                              "kwargs": {"compute_full_loss": True}},
    "weighted_xent": {"fn": "nn.weighted_cross_entropy_with_logits",
                      "inputs": {"labels": [[3, 4], "unit"], "logits": [[3, 4], "q"]}, "kwargs": {"pos_weight": 2.5}},
    "normalize_moments": {"fn": "nn.normalize_moments",
                          "inputs": {"counts": [[], "pos"], "mean_ss": [[3], "q"], "variance_ss": [[3], "pos"]},
                          "kwargs": {"shift": None}, "out": 1},
    "normalize_moments_shift": {"fn": "nn.normalize_moments",
                                "inputs": {"counts": [[], "pos"], "mean_ss": [[3], "q"], "variance_ss": [[3], "pos"],
                                           "shift": [[3], "q"]}, "out": 0},
    "sufficient_statistics_mean": {"fn": "nn.sufficient_statistics", "inputs": {"x": [[2, 3, 4], "q"]},
                                   "kwargs": {"axes": [0, 1]}, "out": 1},
    "sufficient_statistics_var": {"fn": "nn.sufficient_statistics",
                                  "inputs": {"x": [[2, 3, 4], "q"], "shift": [[4], "q"]},
                                  "kwargs": {"axes": [0, 1], "keep_dims": True}, "out": 2},
    "sufficient_statistics_count": {"fn": "nn.sufficient_statistics", "inputs": {"x": [[2, 3, 4], "q"]},
                                    "kwargs": {"axes": [0, 2]}, "out": 0, "grad": False},
    "zero_fraction": {"fn": "nn.zero_fraction", "inputs": {"value": [[4, 5], "q"]}, "grad": False},
    "compute_average_loss": {"fn": "nn.compute_average_loss",
                             "inputs": {"per_example_loss": [[4], "q"], "sample_weight": [[4], "pos"]}},
    "compute_average_loss_global": {"fn": "nn.compute_average_loss", "inputs": {"per_example_loss": [[4], "q"]},
                                    "kwargs": {"global_batch_size": 8}},
    "scale_regularization_loss": {"fn": "nn.scale_regularization_loss",
                                  "inputs": {"regularization_loss": [[3], "q"]}},
    "separable_conv2d": {"fn": "nn.separable_conv2d",
                         "inputs": {"input": [[2, 5, 5, 3], "q"], "depthwise_filter": [[3, 3, 3, 2], "q"],
                                    "pointwise_filter": [[1, 1, 6, 4], "q"]},
                         "kwargs": {"strides": [1, 2, 2, 1], "padding": "SAME"}},
    "separable_conv2d_rate": {"fn": "nn.separable_conv2d",
                              "inputs": {"input": [[1, 7, 6, 2], "q"], "depthwise_filter": [[3, 3, 2, 1], "q"],
                                         "pointwise_filter": [[1, 1, 2, 3], "q"]},
                              "kwargs": {"strides": [1, 1, 1, 1], "padding": "VALID", "rate": [2, 2]}},
    "atrous_conv2d_same": {"fn": "nn.atrous_conv2d", "inputs": {"value": [[1, 7, 7, 2], "q"],
                                                                "filters": [[3, 3, 2, 3], "q"]},
                           "kwargs": {"rate": 2, "padding": "SAME"}},
    "atrous_conv2d_valid": {"fn": "nn.atrous_conv2d", "inputs": {"value": [[1, 8, 7, 2], "q"],
                                                                 "filters": [[2, 3, 2, 2], "q"]},
                            "kwargs": {"rate": 3, "padding": "VALID"}},
    "atrous_conv2d_transpose_same": {"fn": "nn.atrous_conv2d_transpose",
                                     "inputs": {"value": [[1, 6, 6, 3], "q"], "filters": [[3, 3, 2, 3], "q"]},
                                     "kwargs": {"output_shape": [1, 6, 6, 2], "rate": 2, "padding": "SAME"}},
    "atrous_conv2d_transpose_valid": {"fn": "nn.atrous_conv2d_transpose",
                                      "inputs": {"value": [[1, 6, 5, 3], "q"], "filters": [[3, 2, 2, 3], "q"]},
                                      "kwargs": {"output_shape": [1, 10, 7, 2], "rate": 2, "padding": "VALID"}},
    "conv1d_transpose": {"fn": "nn.conv1d_transpose", "inputs": {"input": [[2, 4, 3], "q"],
                                                                 "filters": [[3, 2, 3], "q"]},
                         "kwargs": {"output_shape": [2, 8, 2], "strides": 2}},
    "conv2d_backprop_input": {"fn": "nn.conv2d_backprop_input",
                              "inputs": {"filter": [[3, 3, 3, 2], "q"], "out_backprop": [[2, 3, 3, 2], "q"]},
                              "kwargs": {"input_sizes": [2, 5, 5, 3], "strides": [1, 2, 2, 1], "padding": "SAME"}},
    "conv2d_backprop_filter": {"fn": "nn.conv2d_backprop_filter",
                               "inputs": {"input": [[2, 5, 5, 3], "q"], "out_backprop": [[2, 3, 3, 2], "q"]},
                               "kwargs": {"filter_sizes": [3, 3, 3, 2], "strides": [1, 2, 2, 1],
                                          "padding": "SAME"}},
    "depthwise_conv2d_native": {"fn": "nn.depthwise_conv2d_native",
                                "inputs": {"input": [[1, 5, 5, 2], "q"], "filter": [[3, 3, 2, 2], "q"]},
                                "kwargs": {"strides": [1, 1, 1, 1], "padding": "SAME"}},
    "depthwise_backprop_input": {"fn": "nn.depthwise_conv2d_native_backprop_input",
                                 "inputs": {"filter": [[3, 3, 2, 2], "q"], "out_backprop": [[1, 3, 3, 4], "q"]},
                                 "kwargs": {"input_sizes": [1, 5, 5, 2], "strides": [1, 2, 2, 1], "padding": "SAME"}},
    "depthwise_backprop_filter": {"fn": "nn.depthwise_conv2d_native_backprop_filter",
                                  "inputs": {"input": [[1, 5, 5, 2], "q"], "out_backprop": [[1, 3, 3, 4], "q"]},
                                  "kwargs": {"filter_sizes": [3, 3, 2, 2], "strides": [1, 2, 2, 1],
                                             "padding": "SAME"}},
    "max_pool1d": {"fn": "nn.max_pool1d", "inputs": {"input": [[2, 7, 3], "perm"]},
                   "kwargs": {"ksize": 3, "strides": 2, "padding": "SAME"}},
    "avg_pool1d": {"fn": "nn.avg_pool1d", "inputs": {"input": [[2, 7, 3], "q"]},
                   "kwargs": {"ksize": 2, "strides": 1, "padding": "VALID"}},
    "max_pool_v2_2d": {"fn": "nn.max_pool_v2", "inputs": {"input": [[1, 5, 5, 2], "perm"]},
                       "kwargs": {"ksize": 2, "strides": 2, "padding": "SAME"}},
    "avg_pool_v2_3d": {"float32": True, "fn": "nn.avg_pool_v2", "inputs": {"input": [[1, 4, 5, 3, 2], "q"]},
                       "kwargs": {"ksize": 2, "strides": 2, "padding": "SAME"}},
    "max_pool_with_argmax": {"fn": "nn.max_pool_with_argmax", "inputs": {"input": [[2, 5, 4, 3], "perm"]},
                             "kwargs": {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"},
                             "out": 0},
    "max_pool_with_argmax_index": {"fn": "nn.max_pool_with_argmax", "inputs": {"input": [[2, 5, 4, 3], "perm"]},
                                   "kwargs": {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"},
                                   "out": 1},
    "max_pool_with_argmax_batch": {"fn": "nn.max_pool_with_argmax", "inputs": {"input": [[2, 5, 4, 2], "perm"]},
                                   "kwargs": {"ksize": [1, 3, 2, 1], "strides": [1, 2, 1, 1], "padding": "VALID",
                                              "include_batch_in_index": True}, "out": 1},
    "space_to_depth": {"fn": "nn.space_to_depth", "inputs": {"input": [[2, 4, 6, 3], "q"]},
                       "kwargs": {"block_size": 2}},
    "depth_to_space": {"fn": "nn.depth_to_space", "inputs": {"input": [[1, 2, 3, 18], "q"]},
                       "kwargs": {"block_size": 3}},
    "space_to_batch": {"fn": "nn.space_to_batch", "inputs": {"input": [[2, 4, 6, 1], "q"]},
                       "kwargs": {"paddings": [[0, 0], [1, 1]], "block_size": 2}},
    "space_to_batch_nd": {"fn": "space_to_batch_nd", "inputs": {"input": [[2, 4, 3, 2], "q"]},
                          "kwargs": {"block_shape": [2, 3], "paddings": [[0, 0], [1, 2]]}},
    "batch_to_space_nd": {"fn": "batch_to_space_nd", "inputs": {"input": [[12, 2, 2, 2], "q"]},
                          "kwargs": {"block_shape": [2, 3], "crops": [[0, 1], [2, 1]]}},
    "batch_to_space": {"fn": "batch_to_space", "inputs": {"input": [[8, 2, 3, 1], "q"]},
                       "kwargs": {"crops": [[0, 0], [1, 1]], "block_size": 2}},
    "batch_norm_global": {"fn": "nn.batch_norm_with_global_normalization",
                          "inputs": {"t": [[2, 3, 3, 2], "q"], "m": [[2], "q"], "v": [[2], "pos"], "beta": [[2], "q"],
                                     "gamma": [[2], "q"]},
                          "kwargs": {"variance_epsilon": 0.001, "scale_after_normalization": True}},
    "conv3d_same": {"fn": "nn.conv3d", "inputs": {"input": [[2, 4, 5, 4, 2], "q"], "filter": [[2, 3, 2, 2, 3], "q"]},
                    "kwargs": {"strides": [1, 1, 2, 1, 1], "padding": "SAME"}},
    "conv3d_valid": {"fn": "nn.conv3d", "inputs": {"input": [[1, 5, 4, 5, 1], "q"], "filter": [[3, 2, 2, 1, 2], "q"]},
                     "kwargs": {"strides": [1, 2, 1, 2, 1], "padding": "VALID"}},
    "conv3d_transpose": {"fn": "nn.conv3d_transpose",
                         "inputs": {"value": [[1, 2, 3, 2, 3], "q"], "filter": [[2, 2, 2, 2, 3], "q"]},
                         "kwargs": {"output_shape": [1, 4, 6, 4, 2], "strides": [1, 2, 2, 2, 1], "padding": "SAME"}},
    "max_pool3d": {"float32": True, "fn": "nn.max_pool3d", "inputs": {"input": [[1, 4, 5, 4, 2], "perm"]},
                   "kwargs": {"ksize": [1, 2, 2, 2, 1], "strides": [1, 2, 2, 2, 1], "padding": "SAME"}},
    "avg_pool3d_same": {"float32": True, "fn": "nn.avg_pool3d", "inputs": {"input": [[1, 4, 5, 4, 2], "q"]},
                        "kwargs": {"ksize": [1, 3, 2, 2, 1], "strides": [1, 2, 1, 2, 1], "padding": "SAME"}},
    "avg_pool3d_valid": {"float32": True, "fn": "nn.avg_pool3d", "inputs": {"input": [[2, 4, 3, 4, 1], "q"]},
                         "kwargs": {"ksize": [1, 2, 2, 3, 1], "strides": [1, 1, 1, 1, 1], "padding": "VALID"}},
}


def make_inputs(name: str, case: dict[str, Any]) -> dict[str, np.ndarray]:
    """The case's input arrays, seeded by its name (the same on every run and in both libraries)."""
    rng = np.random.default_rng(sum(name.encode()))
    out = {}
    for arg, (shape, kind) in case["inputs"].items():
        size = int(np.prod(shape))
        if kind == "perm":
            a = (rng.permutation(size) - size // 2) / 4
        elif kind == "pos":
            a = rng.integers(1, 9, size) / 4
        elif kind == "unit":
            a = rng.integers(0, 5, size) / 4
        elif kind == "int":
            a = rng.integers(-4, 5, size).astype(np.int32)
        else:
            a = rng.integers(-8, 9, size) / 4
        out[arg] = np.asarray(a).reshape(shape)
    return out


def resolve(tf: Any, path: str) -> Any:
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj
