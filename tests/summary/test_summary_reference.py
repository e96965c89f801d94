"""gpugraph's summary ops against tensorflow.compat.v1's (summary_reference.json, made by
make_summary_reference.py from the graphs in summary_cases.py): op names, tags, histogram buckets,
image pixels."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gpugraph as tf

try:
    from . import summary_cases as cases
except ImportError:  # tests/summary is not a package: pytest put it on sys.path
    import summary_cases as cases

REFERENCE = json.loads(Path(__file__).with_name("summary_reference.json").read_text())


def _parse(serialized: bytes) -> tf.summary.Summary:
    summary = tf.summary.Summary()
    summary.ParseFromString(serialized)
    return summary


def _run(graph: tf.Graph, fetches, feeds):
    with tf.Session(graph=graph) as sess:
        return sess.run(fetches, feeds)


def test_op_names_tags_and_collection_match_tensorflow() -> None:
    want = REFERENCE["naming"]
    graph = tf.Graph()
    with graph.as_default():
        summaries, placeholders = cases.build(tf)
        collection = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    values = _run(graph, summaries, cases.feeds(placeholders))
    got = {key: {"op": t.op.name, "type": t.op.type, "tags": [v.tag for v in _parse(values[key]).value]}
           for key, t in summaries.items()}
    assert got == want["summaries"]
    assert collection == want["collection"]
    scalars = {v.tag: v.simple_value for key in ("plain", "scoped") for v in _parse(values[key]).value}
    assert scalars == pytest.approx(want["scalars"])


@pytest.mark.parametrize("name", sorted(cases.histogram_inputs()))
def test_histogram_matches_tensorflow(name: str) -> None:
    values = cases.histogram_inputs()[name]
    want = REFERENCE["histograms"][name]
    graph = tf.Graph()
    with graph.as_default():
        ph = tf.placeholder(tf.as_dtype(values.dtype), [None] * values.ndim)
        summary = tf.summary.histogram("h", ph)
    histo = _parse(_run(graph, summary, {ph: values})).value[0].histo
    assert list(histo.bucket_limit) == want["bucket_limit"]
    assert list(histo.bucket) == want["bucket"]
    assert (histo.min, histo.max, histo.num) == (want["min"], want["max"], want["num"])
    assert histo.sum == pytest.approx(want["sum"], rel=1e-12, abs=1e-9)
    assert histo.sum_squares == pytest.approx(want["sum_squares"], rel=1e-12)


@pytest.mark.parametrize("name", sorted(cases.image_inputs()))
def test_image_matches_tensorflow(name: str) -> None:
    images = cases.image_inputs()[name]
    want = REFERENCE["images"][name]
    graph = tf.Graph()
    with graph.as_default():
        ph = tf.placeholder(tf.as_dtype(images.dtype), images.shape)
        summary = tf.summary.image("im", ph, max_outputs=2)
    parsed = _parse(_run(graph, summary, {ph: images}))
    got = [{"tag": v.tag, "height": v.image.height, "width": v.image.width, "colorspace": v.image.colorspace,
            "pixels": np.array(Image.open(io.BytesIO(v.image.encoded_image_string))).tolist()}
           for v in parsed.value]
    assert got == want
