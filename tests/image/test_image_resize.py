"""tf.image resizing against TensorFlow: values, gradients, static shapes, names and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from image_reference import assert_tf_equal, case, data, image
from op_testing import run

import gpugraph as tf

CONFIGS = [(fn, kw, tuple(size)) for fn, kw in data()["resizes"] for size in data()["sizes"]]


def _key(fn: str, kw: dict, size: tuple[int, int]) -> str:
    return f"{fn}|{json.dumps(kw, sort_keys=True)}|{size[0]}x{size[1]}"


@pytest.mark.parametrize("fn, kw, size", CONFIGS, ids=[_key(*c) for c in CONFIGS])
def test_resize_equals_tensorflow(fn: str, kw: dict, size: tuple[int, int]) -> None:
    x = tf.constant(image("batch")[:1])
    out = getattr(tf.image, fn)(x, size, **kw)
    assert out.shape.as_list() == [1, *size, 3]
    assert_tf_equal(run(out), case(_key(fn, kw, size)))


@pytest.mark.parametrize("fn, kw, size", [c for c in CONFIGS if c[0] != "resize_area" and c[2] == tuple(
    data()["sizes"][1])], ids=lambda c: str(c))
def test_resize_gradient_equals_tensorflow(fn: str, kw: dict, size: tuple[int, int]) -> None:
    k = [r[0] for r in data()["resizes"]].index(fn) + [r[1] for r in data()["resizes"] if r[0] == fn].index(kw)
    x = tf.constant(image("batch")[:1])
    out = getattr(tf.image, fn)(x, size, **kw)
    w = np.random.default_rng(k).standard_normal(out.shape.as_list()).astype(np.float32)
    g = tf.gradients(tf.reduce_sum(out * w), x)[0]
    assert g.op.type == {"resize_bilinear": "ResizeBilinearGrad", "resize_bicubic": "ResizeBicubicGrad",
                         "resize_nearest_neighbor": "ResizeNearestNeighborGrad"}[fn]
    assert_tf_equal(run(g), case("grad|" + _key(fn, kw, size)), atol=1e-5)


def test_resize_area_has_no_gradient() -> None:
    x = tf.placeholder(tf.float32, [1, 5, 7, 3])
    with pytest.raises(LookupError):
        tf.gradients(tf.image.resize_area(x, [4, 6]), x)


def test_uint8_resizes_keep_or_float_dtype() -> None:
    u = tf.constant(image("uint8")[None])
    nn, bl = tf.image.resize_nearest_neighbor(u, [8, 4]), tf.image.resize_bilinear(u, [8, 4])
    assert nn.dtype == tf.uint8 and bl.dtype == tf.float32
    got_nn, got_bl = run(nn, bl)
    assert_tf_equal(got_nn, case("resize_uint8_nearest"))
    assert_tf_equal(got_bl, case("resize_uint8_bilinear"))


def test_resize_images_forms() -> None:
    f = tf.constant(image("float"))
    bicubic = tf.image.resize_images(f, [6, 9], method=tf.image.ResizeMethod.BICUBIC)
    aspect = tf.image.resize_images(f, [10, 10], preserve_aspect_ratio=True)
    crop_pad = tf.image.resize_image_with_crop_or_pad(f, 4, 9)
    with_pad = tf.image.resize_image_with_pad(f, 4, 9)
    assert bicubic.name == "resize/Squeeze:0" and bicubic.shape.as_list() == [6, 9, 3]
    assert crop_pad.shape.as_list() == [4, 9, 3] and with_pad.shape.as_list() == [4, 9, 3]
    for got, key in zip(run(bicubic, aspect, crop_pad, with_pad), ["resize_images_method2", "resize_images_aspect",
                                                                 "resize_image_with_crop_or_pad",
                                                                 "resize_image_with_pad"]):
        assert_tf_equal(got, case(key))


def test_resize_images_same_size_returns_input_unchanged() -> None:
    u = tf.placeholder(tf.uint8, [5, 7, 3])
    same = tf.image.resize_images(u, [5, 7])
    assert same.dtype == tf.uint8 and same.shape.as_list() == [5, 7, 3]
    x = image("uint8")
    np.testing.assert_array_equal(run(same, feed={u: x}), x)


def test_names_and_unknown_dims() -> None:
    b = tf.placeholder(tf.float32, [None, None, None, 3])
    out = tf.image.resize_bilinear(b, [4, 6])
    assert out.name == "ResizeBilinear:0" and out.shape.as_list() == [None, 4, 6, 3]
    u = tf.placeholder(tf.float32, [None, None, 3])
    assert tf.image.resize_images(u, [4, 6]).shape.as_list() == [4, 6, 3]
    x = np.random.default_rng(0).uniform(size=(2, 5, 7, 3)).astype(np.float32)
    assert run(out, feed={b: x}).shape == (2, 4, 6, 3)


def test_errors() -> None:
    with pytest.raises(ValueError, match="rank 4"):
        tf.image.resize_bilinear(tf.placeholder(tf.float32, [5, 7, 3]), [4, 6])
    with pytest.raises(ValueError, match="contains no shape"):
        tf.image.resize_images(tf.placeholder(tf.float32), [4, 6])
    with pytest.raises(ValueError, match="align_corners must be False"):
        tf.image.resize_bilinear(tf.placeholder(tf.float32, [1, 5, 7, 3]), [4, 6], align_corners=True,
                                 half_pixel_centers=True)
    with pytest.raises(ValueError, match="2 elements"):
        tf.image.resize_images(tf.placeholder(tf.float32, [5, 7, 3]), [4, 6, 1])
