"""tf.image crops, pads, flips, rotations and random crops/flips against TensorFlow and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from image_reference import assert_tf_equal, case, image
from op_testing import run

import gpugraph as tf


def test_deterministic_ops_equal_tensorflow() -> None:
    f, b, u = tf.constant(image("float")), tf.constant(image("batch")), tf.constant(image("uint8"))
    outs = {
        "central_crop": tf.image.central_crop(f, 0.5),
        "crop_to_bounding_box": tf.image.crop_to_bounding_box(b, 1, 2, 3, 4),
        "pad_to_bounding_box": tf.image.pad_to_bounding_box(u, 1, 2, 8, 10),
        "flip_left_right": tf.image.flip_left_right(b),
        "flip_up_down": tf.image.flip_up_down(f),
        "transpose_image": tf.image.transpose_image(b),
        **{f"rot90_{k}": tf.image.rot90(f, k) for k in range(4)},
        **{f"rot90_batch_{k}": tf.image.rot90(b, k) for k in range(4)},
    }
    for (key, t), got in zip(outs.items(), run(*outs.values())):
        want = case(key)
        assert t.shape.as_list() == list(want.shape), key
        assert_tf_equal(got, want)


def test_names_and_unknown_dims() -> None:
    u = tf.placeholder(tf.float32, [None, None, 3])
    flip = tf.image.flip_left_right(u)
    assert flip.name == "flip_left_right/ReverseV2:0" and flip.shape.as_list() == [None, None, 3]
    crop = tf.image.crop_to_bounding_box(u, 1, 2, 3, 4)
    assert crop.name == "crop_to_bounding_box/Squeeze:0" and crop.shape.as_list() == [3, 4, 3]
    assert tf.image.transpose_image(tf.placeholder(tf.float32, [5, 7, 3])).name == "transpose/transpose:0"
    x = image("float")
    np.testing.assert_array_equal(run(crop, feed={u: x}), x[1:4, 2:6])


def test_errors() -> None:
    x = tf.placeholder(tf.float32, [5, 7, 3])
    with pytest.raises(ValueError, match="height must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(x, 1, 2, 8, 4)
    with pytest.raises(ValueError, match="width must be <= target - offset"):
        tf.image.pad_to_bounding_box(x, 0, 2, 8, 8)
    with pytest.raises(ValueError, match="at least three-dimensional"):
        tf.image.flip_left_right(tf.placeholder(tf.float32, [3, 4]))
    with pytest.raises(ValueError, match="central_fraction"):
        tf.image.central_crop(x, 0.0)
    with pytest.raises(ValueError, match="value.shape >= size"):
        tf.image.random_crop(x, [6, 2, 3])


def test_random_crop_is_a_window_of_the_input() -> None:
    x = np.arange(5 * 7 * 3, dtype=np.float32).reshape(5, 7, 3)
    crop = tf.image.random_crop(tf.constant(x), [3, 4, 3], seed=3)
    assert crop.name == "random_crop:0" and crop.shape.as_list() == [3, 4, 3]
    assert tf.random_crop is tf.image.random_crop
    seen = set()
    with tf.Session() as s:
        for _ in range(40):
            got = s.run(crop)
            i, j = int(got[0, 0, 0]) // 21, int(got[0, 0, 0]) % 21 // 3
            np.testing.assert_array_equal(got, x[i:i + 3, j:j + 4])
            seen.add((i, j))
    assert len(seen) > 4 and all(0 <= i <= 2 and 0 <= j <= 3 for i, j in seen)


def test_random_flips_pick_between_image_and_its_mirror() -> None:
    x = image("batch")
    flipped = tf.image.random_flip_left_right(tf.constant(x), seed=1)
    up_down = tf.image.random_flip_up_down(tf.constant(x[0]), seed=2)
    outcomes = set()
    with tf.Session() as s:
        for _ in range(30):
            lr, ud = s.run([flipped, up_down])
            for k in range(2):
                same, mirror = np.array_equal(lr[k], x[k]), np.array_equal(lr[k], x[k, :, ::-1])
                assert same or mirror
                outcomes.add(("lr", mirror))
            outcomes.add(("ud", np.array_equal(ud, x[0, ::-1])))
            assert np.array_equal(ud, x[0]) or np.array_equal(ud, x[0, ::-1])
    assert len(outcomes) == 4


def test_random_flip_follows_the_draw() -> None:
    """The flip decision is the uniform draw: u < 0.5 flips a 3-D image, round(u) == 1 an image of a batch."""
    x = image("float")
    g = tf.get_default_graph()
    out = tf.image.random_flip_left_right(tf.constant(x), seed=5)
    draw = [op for op in g.get_operations() if op.type == "RandomUniform"][0].outputs[0]
    for u, flips in ((0.2, True), (0.7, False)):
        want = x[:, ::-1] if flips else x
        np.testing.assert_array_equal(run(out, feed={draw: np.float32(u)}), want)
