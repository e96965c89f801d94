"""tf.image: TF1's image ops on 3-D [height, width, channels] and 4-D [batch, height, width, channels] images."""

from __future__ import annotations

from gpugraph.image.codec import decode_image, decode_jpeg, decode_png, encode_jpeg, encode_png
from gpugraph.image.color import (
    adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation, convert_image_dtype,
    grayscale_to_rgb, hsv_to_rgb, image_gradients, per_image_standardization, random_brightness, random_contrast,
    random_hue, random_saturation, rgb_to_grayscale, rgb_to_hsv, total_variation,
)
from gpugraph.image.crop import (
    central_crop, crop_to_bounding_box, flip_left_right, flip_up_down, pad_to_bounding_box, random_crop,
    random_flip_left_right, random_flip_up_down, rot90, transpose_image,
)
from gpugraph.image.resize import (
    ResizeMethod, resize_area, resize_bicubic, resize_bilinear, resize_image_with_crop_or_pad, resize_image_with_pad,
    resize_images, resize_nearest_neighbor,
)

transpose = transpose_image
resize = resize_images

__all__ = [
    "ResizeMethod", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation",
    "central_crop", "convert_image_dtype", "crop_to_bounding_box", "decode_image", "decode_jpeg", "decode_png",
    "encode_jpeg", "encode_png", "flip_left_right", "flip_up_down", "grayscale_to_rgb", "hsv_to_rgb",
    "image_gradients", "pad_to_bounding_box", "per_image_standardization", "random_brightness", "random_contrast",
    "random_crop", "random_flip_left_right", "random_flip_up_down", "random_hue", "random_saturation", "resize",
    "resize_area", "resize_bicubic", "resize_bilinear", "resize_image_with_crop_or_pad", "resize_image_with_pad",
    "resize_images", "resize_nearest_neighbor", "rgb_to_grayscale", "rgb_to_hsv", "rot90", "total_variation",
    "transpose", "transpose_image",
]
