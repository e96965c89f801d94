"""tf.sequence_mask's op names as TF1 builds them (observed under TensorFlow 2.21's tf.compat.v1, which
keeps TF1's graph): the lengths cast is ``Cast``, a non-bool result ``Cast_1``, a bool result ``Less``."""

from __future__ import annotations

import gpugraph as tf
from op_testing import graph  # noqa: F401 - graph: each test's fresh default graph (autouse)


def test_sequence_mask_names_are_tensorflows() -> None:
    assert tf.sequence_mask([1, 3, 2], 4, dtype=tf.float32).name == "SequenceMask/Cast_1:0"
    assert tf.sequence_mask([1, 3, 2]).name == "SequenceMask_1/Less:0"
    assert tf.sequence_mask([1, 3], name="m").name == "m/Less:0"
    lengths = tf.placeholder(tf.int32, [None])
    mask = tf.sequence_mask(lengths, dtype=tf.float32)
    assert mask.name == "SequenceMask_2/Cast_1:0" and mask.shape.as_list() == [None, None]
