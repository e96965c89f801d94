"""Writes image_reference.json: TensorFlow's outputs (and resize gradients) on small fixed images.

Run with the TensorFlow reference environment:
    TF_USE_LEGACY_KERAS=1 python tests/image/data/make_image_reference.py
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import tensorflow as tf2
from PIL import Image

tf = tf2.compat.v1
tf.disable_eager_execution()
HERE = Path(__file__).resolve().parent


def inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "float": np.round(rng.uniform(0, 1, (5, 7, 3)), 4).astype(np.float32),
        "batch": np.round(rng.uniform(0, 1, (2, 5, 7, 3)), 4).astype(np.float32),
        "uint8": rng.integers(0, 256, (5, 7, 3)).astype(np.uint8),
    }


def png_bytes(pixels: np.ndarray, mode: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


RESIZES = [
    ("resize_bilinear", {}), ("resize_bilinear", {"align_corners": True}),
    ("resize_bilinear", {"half_pixel_centers": True}),
    ("resize_nearest_neighbor", {}), ("resize_nearest_neighbor", {"align_corners": True}),
    ("resize_nearest_neighbor", {"half_pixel_centers": True}),
    ("resize_bicubic", {}), ("resize_bicubic", {"align_corners": True}),
    ("resize_bicubic", {"half_pixel_centers": True}),
    ("resize_area", {}), ("resize_area", {"align_corners": True}),
]
SIZES = [(4, 6), (8, 9)]


def encode(v: np.ndarray) -> dict:
    """Floats to 7 significant digits (float32 to well within the tests' tolerance), keeping the file small."""
    flat = v.reshape(-1).tolist()
    if v.dtype.kind == "f":
        flat = [float(f"{e:.7g}") for e in flat]
    return {"dtype": str(v.dtype), "shape": list(v.shape), "values": flat}


def main() -> None:
    x = inputs()
    cases: dict[str, list] = {}
    b = tf.constant(x["batch"])
    f = tf.constant(x["float"])
    u = tf.constant(x["uint8"])
    fetch: dict[str, object] = {}
    for k, (fn, kw) in enumerate(RESIZES):
        for size in SIZES:
            key = f"{fn}|{json.dumps(kw, sort_keys=True)}|{size[0]}x{size[1]}"
            out = getattr(tf.image, fn)(b[:1], size, **kw)
            fetch[key] = out
            if fn != "resize_area" and size == SIZES[1]:
                w = tf.constant(np.random.default_rng(k).standard_normal(out.shape.as_list()).astype(np.float32))
                fetch["grad|" + key] = tf.gradients(tf.reduce_sum(out * w), b)[0][:1]
    fetch["resize_uint8_nearest"] = tf.image.resize_nearest_neighbor(u[None], [8, 4])
    fetch["resize_uint8_bilinear"] = tf.image.resize_bilinear(u[None], [8, 4])
    fetch["resize_images_method2"] = tf.image.resize_images(f, [6, 9], method=2)
    fetch["resize_images_aspect"] = tf.image.resize_images(f, [10, 10], preserve_aspect_ratio=True)
    fetch["resize_image_with_crop_or_pad"] = tf.image.resize_image_with_crop_or_pad(f, 4, 9)
    fetch["resize_image_with_pad"] = tf.image.resize_image_with_pad(f, 4, 9)
    fetch["central_crop"] = tf.image.central_crop(f, 0.5)
    fetch["crop_to_bounding_box"] = tf.image.crop_to_bounding_box(b, 1, 2, 3, 4)
    fetch["pad_to_bounding_box"] = tf.image.pad_to_bounding_box(u, 1, 2, 8, 10)
    fetch["flip_left_right"] = tf.image.flip_left_right(b)
    fetch["flip_up_down"] = tf.image.flip_up_down(f)
    fetch["transpose_image"] = tf.image.transpose_image(b)
    for k in range(4):
        fetch[f"rot90_{k}"] = tf.image.rot90(f, k)
        fetch[f"rot90_batch_{k}"] = tf.image.rot90(b, k)
    fetch["adjust_brightness"] = tf.image.adjust_brightness(f, 0.2)
    fetch["adjust_brightness_uint8"] = tf.image.adjust_brightness(u, 0.2)
    fetch["adjust_contrast"] = tf.image.adjust_contrast(b, 1.7)
    fetch["adjust_contrast_uint8"] = tf.image.adjust_contrast(u, 0.6)
    fetch["adjust_saturation"] = tf.image.adjust_saturation(f, 1.8)
    fetch["adjust_saturation_uint8"] = tf.image.adjust_saturation(u, 0.4)
    for d in (0.2, -0.7, 0.95):
        fetch[f"adjust_hue_{d}"] = tf.image.adjust_hue(f, d)
    fetch["adjust_hue_uint8"] = tf.image.adjust_hue(u, 0.3)
    fetch["adjust_gamma"] = tf.image.adjust_gamma(f, 2.2, 0.9)
    fetch["adjust_gamma_uint8"] = tf.image.adjust_gamma(u, 0.5)
    fetch["per_image_standardization"] = tf.image.per_image_standardization(b)
    fetch["per_image_standardization_uint8"] = tf.image.per_image_standardization(u)
    fetch["convert_uint8_float"] = tf.image.convert_image_dtype(u, tf.float32)
    fetch["convert_float_uint8"] = tf.image.convert_image_dtype(f * 1.3 - 0.1, tf.uint8, saturate=True)
    fetch["convert_float_uint8_nosat"] = tf.image.convert_image_dtype(f, tf.uint8)
    fetch["convert_uint8_int32"] = tf.image.convert_image_dtype(u, tf.int32)
    fetch["convert_int32_uint8"] = tf.image.convert_image_dtype(tf.cast(u, tf.int32) * 8000000, tf.uint8)
    fetch["convert_float_int16"] = tf.image.convert_image_dtype(f, tf.int16)
    fetch["rgb_to_grayscale"] = tf.image.rgb_to_grayscale(f)
    fetch["rgb_to_grayscale_uint8"] = tf.image.rgb_to_grayscale(u)
    fetch["grayscale_to_rgb"] = tf.image.grayscale_to_rgb(b[..., :1])
    fetch["rgb_to_hsv"] = tf.image.rgb_to_hsv(b)
    fetch["hsv_to_rgb"] = tf.image.hsv_to_rgb(b)
    dy, dx = tf.image.image_gradients(b)
    fetch["image_gradients_dy"], fetch["image_gradients_dx"] = dy, dx
    fetch["total_variation"] = tf.image.total_variation(f)
    fetch["total_variation_batch"] = tf.image.total_variation(b)
    grey = (x["uint8"][..., 0] // 2 + 10).astype(np.uint8)
    rgba = np.concatenate([x["uint8"], x["uint8"][..., :1]], -1)
    codecs = {"png_rgb": png_bytes(x["uint8"], "RGB"), "png_grey": png_bytes(grey, "L"),
              "png_rgba": png_bytes(rgba, "RGBA"), "jpeg": jpeg_bytes(np.repeat(np.repeat(x["uint8"], 2, 0), 2, 1))}
    for name, data in codecs.items():
        for ch in ((0, 1, 3, 4) if name.startswith("png") else (0, 1, 3)):
            fn = tf.image.decode_png if name.startswith("png") else tf.image.decode_jpeg
            fetch[f"decode|{name}|{ch}"] = fn(tf.constant(data), channels=ch)
        fetch[f"decode_image|{name}"] = tf.image.decode_image(tf.constant(data))
    for ch in (0, 1, 3):  # the accurate integer DCT (TF's default is the fast one)
        fetch[f"decode_accurate|jpeg|{ch}"] = tf.image.decode_jpeg(tf.constant(codecs["jpeg"]), channels=ch,
                                                                   dct_method="INTEGER_ACCURATE")
    fetch["encode_jpeg_decoded"] = tf.image.decode_jpeg(tf.image.encode_jpeg(tf.constant(
        np.repeat(np.repeat(x["uint8"], 2, 0), 2, 1))))
    with tf.Session() as s:
        values = s.run(fetch)
    for key, v in values.items():
        v = np.asarray(v)
        cases[key] = encode(v)
    out = {"inputs": {k: encode(v) for k, v in x.items()},
           "codecs": {k: base64.b64encode(v).decode() for k, v in codecs.items()},
           "resizes": RESIZES, "sizes": SIZES, "cases": cases}
    (HERE / "image_reference.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
