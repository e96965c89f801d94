"""Writes dataset_reference.json: element sequences of tf.data pipelines, as TensorFlow 1.x runs them.

Each pipeline is a function of the ``tf`` module, so the test builds the very same pipeline with
gpugraph. Run with the TensorFlow reference venv:
    TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 <tf-venv>/bin/python make_dataset_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _gen() -> Any:
    for i in range(3):
        yield i, [i * 0.5, -1.0]


PIPELINES: dict[str, Callable[[Any], Any]] = {
    "range": lambda tf: tf.data.Dataset.range(5),
    "range_start_stop_step": lambda tf: tf.data.Dataset.range(2, 10, 3),
    "slices_batch": lambda tf: tf.data.Dataset.from_tensor_slices(np.arange(12).reshape(6, 2)).batch(4),
    "slices_tuple_map": lambda tf: tf.data.Dataset.from_tensor_slices(
        (np.arange(5), np.arange(5) * 1.5)).map(lambda a, b: (a * 2, b + 1.0)),
    "slices_dict_batch": lambda tf: tf.data.Dataset.from_tensor_slices(
        {"b": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "a": [1, 2, 3]}).batch(2),
    "map_to_dict": lambda tf: tf.data.Dataset.range(3).map(lambda x: {"x": x, "sq": x * x}),
    "filter": lambda tf: tf.data.Dataset.range(10).filter(lambda x: tf.equal(x % 3, 0)),
    "batch_drop_remainder": lambda tf: tf.data.Dataset.range(7).batch(3, drop_remainder=True),
    "repeat_take": lambda tf: tf.data.Dataset.range(3).repeat(2).take(5),
    "skip": lambda tf: tf.data.Dataset.range(10).skip(7),
    "zip": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(10, 15))),
    "concatenate": lambda tf: tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(5, 7)),
    "padded_batch_longest": lambda tf: tf.data.Dataset.range(1, 5).map(lambda x: tf.range(x)).padded_batch(
        2, padded_shapes=[None]),
    "padded_batch_fixed": lambda tf: tf.data.Dataset.range(1, 4).map(lambda x: tf.range(x)).padded_batch(
        2, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64)),
    "unbatch": lambda tf: tf.data.Dataset.range(6).batch(4).unbatch(),
    "flat_map": lambda tf: tf.data.Dataset.range(4).flat_map(lambda x: tf.data.Dataset.from_tensors(x).repeat(x)),
    "interleave": lambda tf: tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(x), cycle_length=2, block_length=2),
    "cache_repeat": lambda tf: tf.data.Dataset.range(4).map(lambda x: x + 1).cache().repeat(2),
    "from_tensors_repeat": lambda tf: tf.data.Dataset.from_tensors(([1, 2], [3.0])).repeat(2),
    "batch_then_map": lambda tf: tf.data.Dataset.range(8).map(
        lambda x: (x, tf.cast(x, tf.float32) * 0.5)).batch(3).map(lambda a, b: (tf.reduce_sum(a), b)),
    "from_generator": lambda tf: tf.data.Dataset.from_generator(
        _gen, (tf.int32, tf.float32), (tf.TensorShape([]), tf.TensorShape([2]))),
    "apply_prefetch": lambda tf: tf.data.Dataset.range(10).apply(lambda d: d.skip(2).take(3)).prefetch(2),
}


def describe(tf: Any, name: str) -> dict[str, Any]:
    """Types, shapes and every element (flattened) of one pipeline."""
    ds = PIPELINES[name](tf)
    types = [t.name for t in tf.nest.flatten(ds.output_types)]
    shapes = [s.as_list() if s.ndims is not None else None for s in tf.nest.flatten(ds.output_shapes)]
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    elements = []
    with tf.Session() as sess:
        while True:
            try:
                value = sess.run(nxt)
            except tf.errors.OutOfRangeError:
                break
            elements.append([np.asarray(v).tolist() for v in tf.nest.flatten(value)])
    return {"types": types, "shapes": shapes, "elements": elements}


def main() -> None:
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    out = {}
    for name in PIPELINES:
        with tf.Graph().as_default():
            out[name] = describe(tf, name)
    path = Path(__file__).with_name("dataset_reference.json")
    path.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
