"""tf.image colour, dtype and value ops against TensorFlow; random adjustments by their draws."""

from __future__ import annotations

import numpy as np
import pytest
from image_reference import assert_tf_equal, case, image
from op_testing import run

import gpugraph as tf


def _cases() -> dict:
    f, b, u = tf.constant(image("float")), tf.constant(image("batch")), tf.constant(image("uint8"))
    dy, dx = tf.image.image_gradients(b)
    return {
        "adjust_brightness": tf.image.adjust_brightness(f, 0.2),
        "adjust_brightness_uint8": tf.image.adjust_brightness(u, 0.2),
        "adjust_contrast": tf.image.adjust_contrast(b, 1.7),
        "adjust_contrast_uint8": tf.image.adjust_contrast(u, 0.6),
        "adjust_saturation": tf.image.adjust_saturation(f, 1.8),
        "adjust_saturation_uint8": tf.image.adjust_saturation(u, 0.4),
        **{f"adjust_hue_{d}": tf.image.adjust_hue(f, d) for d in (0.2, -0.7, 0.95)},
        "adjust_hue_uint8": tf.image.adjust_hue(u, 0.3),
        "adjust_gamma": tf.image.adjust_gamma(f, 2.2, 0.9),
        "adjust_gamma_uint8": tf.image.adjust_gamma(u, 0.5),
        "per_image_standardization": tf.image.per_image_standardization(b),
        "per_image_standardization_uint8": tf.image.per_image_standardization(u),
        "convert_uint8_float": tf.image.convert_image_dtype(u, tf.float32),
        "convert_float_uint8": tf.image.convert_image_dtype(f * 1.3 - 0.1, tf.uint8, saturate=True),
        "convert_float_uint8_nosat": tf.image.convert_image_dtype(f, tf.uint8),
        "convert_uint8_int32": tf.image.convert_image_dtype(u, tf.int32),
        "convert_int32_uint8": tf.image.convert_image_dtype(tf.cast(u, tf.int32) * 8000000, tf.uint8),
        "convert_float_int16": tf.image.convert_image_dtype(f, tf.int16),
        "rgb_to_grayscale": tf.image.rgb_to_grayscale(f),
        "rgb_to_grayscale_uint8": tf.image.rgb_to_grayscale(u),
        "grayscale_to_rgb": tf.image.grayscale_to_rgb(b[..., :1]),
        "rgb_to_hsv": tf.image.rgb_to_hsv(b),
        "hsv_to_rgb": tf.image.hsv_to_rgb(b),
        "image_gradients_dy": dy, "image_gradients_dx": dx,
        "total_variation": tf.image.total_variation(f),
        "total_variation_batch": tf.image.total_variation(b),
    }


def test_values_equal_tensorflow() -> None:
    outs = _cases()
    for (key, t), got in zip(outs.items(), run(*outs.values())):
        want = case(key)
        assert t.shape.as_list() == list(want.shape) and t.dtype.as_numpy_dtype == want.dtype, key
        try:
            assert_tf_equal(got, want, rtol=1e-5, atol=2e-6)
        except AssertionError as e:
            raise AssertionError(f"{key}: {e}") from None


def test_names() -> None:
    f = tf.placeholder(tf.float32, [5, 7, 3])
    u = tf.placeholder(tf.uint8, [5, 7, 3])
    assert tf.image.adjust_contrast(f, 0.5).name == "adjust_contrast/Identity:0"
    assert tf.image.adjust_hue(u, 0.2).name == "adjust_hue/convert_image_1:0"
    assert tf.image.convert_image_dtype(f, tf.uint8).name == "convert_image:0"
    assert tf.image.rgb_to_grayscale(f).name == "rgb_to_grayscale:0"
    assert tf.image.rgb_to_hsv(f).name == "RGBToHSV:0"
    assert tf.image.per_image_standardization(f).name == "per_image_standardization:0"


def test_errors() -> None:
    f = tf.placeholder(tf.float32, [5, 7, 3])
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(f, -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(f, 0.5, 0.5)
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        tf.image.random_hue(f, 0.6)
    with pytest.raises(ValueError, match="Dimension must be 3"):
        tf.image.rgb_to_hsv(tf.placeholder(tf.float32, [5, 7, 2]))
    with pytest.raises(ValueError, match="size 1"):
        tf.image.grayscale_to_rgb(f)
    with pytest.raises(AttributeError, match="floating point or integer"):
        tf.image.convert_image_dtype(f, tf.string)
    with pytest.raises(LookupError):
        tf.gradients(tf.image.adjust_hue(f, 0.2), f)


@pytest.mark.parametrize("fn, args, adjust", [
    ("random_brightness", (0.3,), "adjust_brightness"),
    ("random_contrast", (0.5, 1.5), "adjust_contrast"),
    ("random_saturation", (0.5, 1.5), "adjust_saturation"),
    ("random_hue", (0.3,), "adjust_hue"),
])
def test_random_adjustments_apply_their_draw(fn: str, args: tuple, adjust: str) -> None:
    """With the uniform draw fixed (fed), each random op equals its adjust op at the drawn amount."""
    x = image("float")
    g = tf.get_default_graph()
    out = getattr(tf.image, fn)(tf.constant(x), *args, seed=4)
    draw = [op for op in g.get_operations() if op.type == "RandomUniform"][0].outputs[0]
    raw = np.float32(0.3)
    lo, hi = (args[0], args[1]) if len(args) == 2 else (-args[0], args[0])
    amount = np.float32(raw * np.float32(hi - lo) + np.float32(lo))
    want = run(getattr(tf.image, adjust)(tf.constant(x), float(amount)))
    np.testing.assert_allclose(run(out, feed={draw: raw}), want, rtol=1e-6, atol=1e-6)
    with tf.Session() as s:
        values = [s.run(out) for _ in range(3)]
    assert not np.array_equal(values[0], values[1]) or not np.array_equal(values[1], values[2])
