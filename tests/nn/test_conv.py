"""tf.nn convolutions and pooling against TensorFlow: values, gradients, op names (conv_reference.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "ops" / "data" / "conv_reference.json").read_text())
CASES = REFERENCE["cases"]
# TF1 computes a dilated depthwise_conv2d through SpaceToBatchND/BatchToSpaceND; here the op dilates itself.
OWN_NAMES = {"depthwise_rate"}


def _build(case: dict[str, Any], dtype: Any = tf.float64) -> tuple[dict[str, Any], Any]:
    inputs = {k: tf.constant(np.asarray(v), dtype=dtype, name=k) for k, v in case["inputs"].items()}
    y = getattr(tf.nn, case["fn"])(**inputs, **case["kwargs"])
    return inputs, y


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_tensorflow(name: str) -> None:
    case = CASES[name]
    inputs, y = _build(case)
    g = np.asarray(case["g"])
    grads = tf.gradients(y, list(inputs.values()), grad_ys=tf.constant(g))
    got_y, *got_grads = run(y, *grads)
    np.testing.assert_allclose(got_y, np.asarray(case["output"]), rtol=1e-9, atol=1e-9, err_msg=name)
    for arg, got in zip(inputs, got_grads):
        np.testing.assert_allclose(got, np.asarray(case["grads"][arg]), rtol=1e-9, atol=1e-9,
                                   err_msg=f"{name}: gradient of {arg}")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["ops"] is not None and n not in OWN_NAMES))
def test_op_names_and_types_match_tensorflow(name: str, graph: tf.Graph) -> None:
    case = CASES[name]
    inputs = {k: tf.constant(np.asarray(v), name=k) for k, v in case["inputs"].items()}
    before = {op.name for op in graph.get_operations()}
    y = getattr(tf.nn, case["fn"])(**inputs, **case["kwargs"])
    made = [[op.name, op.type] for op in graph.get_operations() if op.name not in before and op.type != "Const"]
    assert y.name == case["output_name"]
    assert made == case["ops"]


@pytest.mark.parametrize("name", ["conv2d_same", "conv2d_transpose_same", "depthwise_same", "max_pool_overlap",
                                  "avg_pool_same"])
def test_float32_stays_float32_and_matches(name: str) -> None:
    case = CASES[name]
    _, y = _build(case, tf.float32)
    assert y.dtype == tf.float32
    got = run(y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.asarray(case["output"]), rtol=1e-5, atol=1e-5)


def test_conv2d_is_named_conv2d_and_takes_a_name() -> None:
    x = tf.placeholder(tf.float32, [1, 5, 5, 3])
    w = tf.zeros([2, 2, 3, 2])
    assert tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME").name == "Conv2D:0"
    assert tf.nn.conv2d(x, filters=w, strides=2, padding="SAME", name="c").name == "c:0"
    assert tf.nn.max_pool2d(x, 2, 2, "SAME").name == "MaxPool2d:0"
    assert tf.nn.pool(x, [2, 2], "AVG", "VALID").name == "avg_pool:0"
    assert tf.nn.convolution(x, w, "SAME").name == "convolution:0"


def test_conv2d_shapes_with_unknown_dimensions() -> None:
    w = tf.zeros([2, 2, 3, 4])
    y = tf.nn.conv2d(tf.placeholder(tf.float32, [None, None, None, 3]), w, [1, 2, 2, 1], "SAME")
    assert y.shape.as_list() == [None, None, None, 4]
    y = tf.nn.conv2d(tf.placeholder(tf.float32, [None, 9, 8, 3]), w, [1, 2, 2, 1], "SAME")
    assert y.shape.as_list() == [None, 5, 4, 4]
    y = tf.nn.conv2d(tf.placeholder(tf.float32), w, [1, 2, 2, 1], "SAME")
    assert y.shape.as_list() == [None, None, None, 4]


def _direct_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """VALID, stride 1 cross-correlation by explicit sums over the kernel (an independent check)."""
    kh, kw = w.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nhwc,co->nhwo", x[:, i:i + oh, j:j + ow, :], w[i, j])
    return out


def test_gradients_of_unknown_spatial_size_input_run() -> None:
    rng = np.random.default_rng(3)
    xv, wv = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 2, 3, 2))
    x = tf.placeholder(tf.float64, [None, None, None, 3])
    y = tf.nn.conv2d(x, tf.constant(wv), [1, 1, 1, 1], "VALID")
    dx, = tf.gradients(tf.reduce_sum(y * y), [x])
    got_y, got_dx = run(y, dx, feed={x: xv})
    want = _direct_conv(xv, wv)
    np.testing.assert_allclose(got_y, want, rtol=1e-10)
    assert got_dx.shape == xv.shape


def test_conv2d_transpose_takes_a_dynamic_batch_size() -> None:
    case = CASES["conv2d_transpose_same"]
    value = tf.placeholder(tf.float64, [None, 3, 3, 4])
    shape = tf.stack([tf.shape(value)[0], 6, 6, 2])
    y = tf.nn.conv2d_transpose(value, tf.constant(np.asarray(case["inputs"]["filter"])), shape, [1, 2, 2, 1])
    assert y.shape.as_list() == [None, 6, 6, 2]
    got = run(y, feed={value: np.asarray(case["inputs"]["value"])})
    np.testing.assert_allclose(got, np.asarray(case["output"]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda x, w: tf.nn.conv2d(x, tf.zeros([2, 2, 4, 2]), [1, 1, 1, 1], "SAME"),
     r"Depth of input \(3\) is not a multiple of input depth of filter \(4\).*Conv2D"),
    (lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "FOO"), "Attr 'padding' of 'Conv2D' Op passed string 'FOO'"),
    (lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1], "SAME"), "strides should be of length 1, 2 or 4"),
    (lambda x, w: tf.nn.conv2d(x, w, [2, 1, 1, 1], "SAME"), "batch and depth dimensions.*Conv2D"),
    (lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NHCW"), "Attr 'data_format'"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 1]]), "When padding is a list, it must be of size 4"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, [[1, 0], [1, 1], [0, 0], [0, 0]]), "Nonzero explicit padding"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", filters=w), "Cannot specify both 'filter' and 'filters'"),
    (lambda x, w: tf.nn.conv2d(x[0], w, 1, "SAME"), "Shape must be rank 4 but is rank 3.*Conv2D"),
    (lambda x, w: tf.nn.conv2d(x, tf.zeros([6, 6, 3, 2]), 1, "VALID"),
     "Negative dimension size caused by subtracting 6 from 5"),
    (lambda x, w: tf.nn.conv2d_transpose(x, tf.zeros([3, 3, 5, 4]), [1, 10, 10, 5], [1, 2, 2, 1]),
     "Dimensions must be equal, but are 4 and 3.*Conv2DBackpropInput"),
    (lambda x, w: tf.nn.conv2d_transpose(x, tf.zeros([3, 3, 5, 3]), [1, 14, 14, 5], [1, 2, 2, 1]),
     "Size of out_backprop doesn't match computed: actual = 5, computed = 7"),
    (lambda x, w: tf.nn.conv1d(x[0], w[0], 1, "SAME", data_format="XYZ"), "`data_format` must be 'NWC' or 'NCW'"),
    (lambda x, w: tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 4, 2]), [1, 1, 1, 1], "SAME"),
     "Dimensions must be equal, but are 3 and 4.*DepthwiseConv2dNative"),
    (lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME", rate=2),
     "strides > 1 not supported in conjunction with dilation_rate > 1"),
    (lambda x, w: tf.nn.max_pool(x, 2, 2, "same"), "Attr 'padding' of 'MaxPool' Op passed string 'same'"),
    (lambda x, w: tf.nn.max_pool(x, [2, 2, 2], 2, "SAME"), "ksize should be of length 1, 2 or 4"),
    (lambda x, w: tf.nn.max_pool(x, [1, 6, 6, 1], 2, "VALID"), "Negative dimension size.*MaxPool"),
])
def test_build_time_errors_name_the_op(call: Any, message: str) -> None:
    x = tf.placeholder(tf.float32, [1, 5, 5, 3])
    w = tf.zeros([2, 2, 3, 2])
    with pytest.raises(ValueError, match=message):
        call(x, w)


def test_avg_pool_refuses_integers_and_conv_refuses_mixed_dtypes() -> None:
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
        tf.nn.avg_pool(tf.zeros([1, 4, 4, 1], tf.int32), 2, 2, "VALID")
    with pytest.raises(TypeError, match="float64 that does not match type float32"):
        tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 1, 1], tf.float64), 1, "SAME")
