"""tf.image PNG/JPEG codecs against TensorFlow's decoded pixels; encode/decode round trips."""

from __future__ import annotations

import numpy as np
import pytest
from image_reference import case, codec, image
from op_testing import run

import gpugraph as tf


@pytest.mark.parametrize("name, channels", [(n, c) for n in ("png_rgb", "png_grey", "png_rgba")
                                            for c in (0, 1, 3, 4)])
def test_decode_png_equals_tensorflow(name: str, channels: int) -> None:
    out = tf.image.decode_png(tf.constant(codec(name)), channels=channels)
    assert out.dtype == tf.uint8 and out.shape.as_list() == [None, None, channels or None]
    np.testing.assert_array_equal(run(out), case(f"decode|{name}|{channels}"))


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_decode_jpeg_equals_tensorflow_accurate_dct(channels: int) -> None:
    got = run(tf.image.decode_jpeg(tf.constant(codec("jpeg")), channels=channels))
    want = case(f"decode_accurate|jpeg|{channels}")
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1  # libjpeg builds may differ by one level


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_decode_jpeg_is_close_to_tensorflow_default_fast_dct(channels: int) -> None:
    got = run(tf.image.decode_jpeg(tf.constant(codec("jpeg")), channels=channels))
    diff = np.abs(got.astype(int) - case(f"decode|jpeg|{channels}").astype(int))
    assert diff.mean() < 1.5 and diff.max() <= 8  # TF decodes with the fast integer DCT, Pillow the accurate one


def test_decode_image_picks_the_format() -> None:
    s = tf.placeholder(tf.string, [])
    out = tf.image.decode_image(s)
    assert out.name == "decode_image/DecodeImage:0" and out.shape.ndims is None
    for name in ("png_rgb", "png_grey", "png_rgba", "jpeg"):
        got, want = run(out, feed={s: codec(name)}), case(f"decode_image|{name}")
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want.astype(int)).max() <= (8 if name == "jpeg" else 0)


def test_encode_png_round_trips_exactly() -> None:
    x = image("uint8")
    for pixels in (x, x[..., :1], np.concatenate([x, x[..., :1]], -1)):
        encoded = tf.image.encode_png(tf.constant(pixels))
        assert encoded.name.startswith("EncodePng") and encoded.dtype == tf.string and encoded.shape.ndims == 0
        np.testing.assert_array_equal(run(tf.image.decode_png(encoded)), pixels)


def test_encode_jpeg_decodes_close_to_tensorflow() -> None:
    x = np.repeat(np.repeat(image("uint8"), 2, 0), 2, 1)
    got = run(tf.image.decode_jpeg(tf.image.encode_jpeg(tf.constant(x))))
    want = case("encode_jpeg_decoded")
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).mean() < 3.0  # both quality 95; decoders differ (fast DCT)


def test_bad_data_is_an_invalid_argument_error() -> None:
    out = tf.image.decode_png(tf.constant(b"not an image"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="DecodePng"):
        run(out)
    with pytest.raises(TypeError):
        tf.image.encode_png(tf.constant(image("float")))
