"""Writes summary_reference.json: what tensorflow.compat.v1's summary ops produce for summary_cases.py.

Run with a TensorFlow environment (TensorFlow and Pillow; not gpugraph dependencies):
    /path/to/tf/bin/python tests/summary/make_summary_reference.py
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf
from PIL import Image

import summary_cases as cases


def _parse(serialized: bytes) -> tf.Summary:
    summary = tf.Summary()
    summary.ParseFromString(serialized)
    return summary


def naming() -> dict:
    graph = tf.Graph()
    with graph.as_default():
        summaries, placeholders = cases.build(tf)
        collection = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
        with tf.Session() as sess:
            values = sess.run(summaries, cases.feeds(placeholders))
    out = {key: {"op": t.op.name, "type": t.op.type, "tags": [v.tag for v in _parse(values[key]).value]}
           for key, t in summaries.items()}
    scalars = {v.tag: v.simple_value for key in ("plain", "scoped") for v in _parse(values[key]).value}
    return {"summaries": out, "collection": collection, "scalars": scalars}


def histograms() -> dict:
    out = {}
    for name, values in cases.histogram_inputs().items():
        graph = tf.Graph()
        with graph.as_default():
            ph = tf.placeholder(tf.as_dtype(values.dtype), [None] * values.ndim)
            summary = tf.summary.histogram("h", ph)
            with tf.Session() as sess:
                histo = _parse(sess.run(summary, {ph: values})).value[0].histo
        out[name] = {"min": histo.min, "max": histo.max, "num": histo.num, "sum": histo.sum,
                     "sum_squares": histo.sum_squares, "bucket_limit": list(histo.bucket_limit),
                     "bucket": list(histo.bucket)}
    return out


def images() -> dict:
    out = {}
    for name, values in cases.image_inputs().items():
        graph = tf.Graph()
        with graph.as_default():
            ph = tf.placeholder(tf.as_dtype(values.dtype), values.shape)
            summary = tf.summary.image("im", ph, max_outputs=2)
            with tf.Session() as sess:
                parsed = _parse(sess.run(summary, {ph: values}))
        out[name] = [{"tag": v.tag, "height": v.image.height, "width": v.image.width,
                      "colorspace": v.image.colorspace,
                      "pixels": np.array(Image.open(io.BytesIO(v.image.encoded_image_string))).tolist()}
                     for v in parsed.value]
    return out


def main() -> None:
    tf.disable_eager_execution()
    inputs = {k: v.tolist() for k, v in cases.histogram_inputs().items()}
    reference = {"tensorflow": tf.__version__, "naming": naming(), "histograms": histograms(),
                 "histogram_inputs": inputs, "images": images()}
    path = Path(__file__).with_name("summary_reference.json")
    path.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
