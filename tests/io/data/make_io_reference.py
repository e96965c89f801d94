"""Writes io_reference.json and the TFRecord files beside it with TensorFlow (run in the TF venv):

    TF_USE_LEGACY_KERAS=1 python tests/io/data/make_io_reference.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
HERE = Path(__file__).resolve().parent
RECORDS = [b"", b"abc", bytes(range(256)) * 2]


def _value(v):
    if isinstance(v, tf.SparseTensorValue):
        return {"indices": v.indices.tolist(), "values": _value(v.values), "dense_shape": v.dense_shape.tolist()}
    a = np.asarray(v)
    if a.dtype == object:
        return {"dtype": "string", "shape": list(a.shape), "hex": [b.hex() for b in a.reshape(-1)]}
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": a.reshape(-1).tolist()}


def _run(build):
    g = tf.Graph()
    with g.as_default():
        out = build()
        try:
            with tf.Session() as s:
                got = s.run(out)
        except tf.errors.OpError as e:
            return {"error": type(e).__name__, "message": e.message.split("\n")[-2]}
    if isinstance(got, dict):
        return {"outputs": {k: _value(v) for k, v in got.items()}}
    return {"outputs": [_value(v) for v in got] if isinstance(got, list) else _value(got)}


CSV_CASES = [
    (['1,2,"a,b"', '3,,"x""y"'], [[0], [5.0], ["d"]], {}),
    (["1,2"], [[0], [5.0], ["d"]], {}),
    (["1,,x"], [[], [5.0], ["d"]], {}),
    (["a,2,x"], [[0], [5.0], ["d"]], {}),
    (['1,2,"x'], [[0], [5.0], ["d"]], {}),
    (['1,2,x"y'], [[0], [5.0], ["d"]], {}),
    (["1;NA;x"], [[0], [5.0], ["d"]], {"field_delim": ";", "na_value": "NA"}),
    (["1,2,3,4"], [[0], ["d"]], {"select_cols": [1, 3]}),
    (['"1",2'], [[0], [0]], {"use_quote_delim": False}),
    (["99999999999,2"], [[0], [np.int64(0)]], {}),
    (["1.5e3, 2,-7"], [[0.0], [0], [np.float64(0)]], {}),
    (["1,2,"], [[0], [0], ["e"]], {}),
    (["1,2"], [[0], [0]], {"field_delim": ",,"}),
]
RAW_CASES = [
    ([b"\x01\x00\x02\x00", b"\x03\x00\x04\x00"], "int16", True),
    ([b"\x01\x00\x02\x00", b"\x03\x00"], "int16", True),
    ([b"\x01\x00\x02"], "int16", True),
    ([b"\x00\x00\x80\x3f\x00\x00\x00\xc0"], "float32", True),
    ([b"\x01\x00\x02\x00"], "int16", False),
]


def _example(**features):
    f = {}
    for k, v in features.items():
        if isinstance(v[0], bytes):
            f[k] = tf.train.Feature(bytes_list=tf.train.BytesList(value=v))
        elif isinstance(v[0], float):
            f[k] = tf.train.Feature(float_list=tf.train.FloatList(value=v))
        else:
            f[k] = tf.train.Feature(int64_list=tf.train.Int64List(value=v))
    return tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString()


EXAMPLES = [_example(a=[1, 2], b=[1.5], s=[b"x", b"yy"]), _example(a=[3, 4], s=[b"z"])]
FEATURES = {  # name -> (kind, shape, dtype, default)
    "all": {"a": ["fixed", [2], "int64", None], "b": ["fixed", [], "float32", -1.0],
            "s": ["var", None, "string", None]},
    "missing": {"b": ["fixed", [], "float32", None]},
    "count": {"a": ["fixed", [3], "int64", None]},
    "type": {"a": ["fixed", [2], "float32", None]},
    "sequence": {"a": ["seq", [], "int64", None], "s": ["seq", [], "string", None]},
}


def _spec(kind, shape, dtype, default):
    if kind == "fixed":
        return tf.FixedLenFeature(shape, dtype, default_value=default)
    if kind == "seq":
        return tf.FixedLenSequenceFeature(shape, dtype, allow_missing=True, default_value=default)
    return tf.VarLenFeature(dtype)


def _reader_cases(tmp):
    text = os.path.join(tmp, "a.txt")
    Path(text).write_bytes(b"h1\nl1\r\nl2\n\nl3")
    binary = os.path.join(tmp, "b.bin")
    Path(binary).write_bytes(bytes(range(20)))
    cases = {}
    readers = {
        "text": (lambda: tf.TextLineReader(skip_header_lines=1), text),
        "fixed": (lambda: tf.FixedLengthRecordReader(4, header_bytes=2, footer_bytes=1, hop_bytes=3), binary),
        "fixed_plain": (lambda: tf.FixedLengthRecordReader(6, header_bytes=1), binary),
        "whole": (lambda: tf.WholeFileReader(), binary),
        "tfrecord": (lambda: tf.TFRecordReader(), str(HERE / "tf_records.tfrecord")),
    }
    for name, (make, path) in readers.items():
        g = tf.Graph()
        with g.as_default():
            q = tf.FIFOQueue(4, tf.string)
            enq, close = q.enqueue_many([[path, path]]), q.close()
            k, v = make().read(q)
            out = []
            with tf.Session() as s:
                s.run(enq)
                s.run(close)
                while True:
                    try:
                        key, value = s.run([k, v])
                    except tf.errors.OutOfRangeError:
                        break
                    out.append([key.decode().replace(path, "{file}"), value.hex()])
        cases[name] = {"records": out}
    cases["text"]["file_hex"] = Path(text).read_bytes().hex()
    cases["fixed"]["file_hex"] = cases["fixed_plain"]["file_hex"] = cases["whole"]["file_hex"] = \
        Path(binary).read_bytes().hex()
    return cases


def _csv_dtypes(recs, defaults, kw):
    with tf.Graph().as_default():
        return [t.dtype.name for t in tf.decode_csv(recs, [tf.constant(d, dtype=tf.int32) if not d else d
                                                           for d in defaults], **kw)]


def main() -> None:
    for name, kind in (("tf_records.tfrecord", None), ("tf_records_gzip.tfrecord", "GZIP"),
                       ("tf_records_zlib.tfrecord", "ZLIB")):
        with tf.python_io.TFRecordWriter(str(HERE / name), options=kind and tf.python_io.TFRecordOptions(kind)) as w:
            for r in RECORDS:
                w.write(r)
    ref = {"records_hex": [r.hex() for r in RECORDS]}
    ref["decode_csv"] = [{"records": recs, "defaults": [[x.item() if hasattr(x, "item") else x for x in d]
                                                        for d in defaults],
                          "default_dtypes": _csv_dtypes(recs, defaults, kw),
                          "kwargs": kw,
                          **_run(lambda: tf.decode_csv(recs, [tf.constant(d, dtype=tf.int32) if not d else d
                                                              for d in defaults], **kw))}
                         for recs, defaults, kw in CSV_CASES]
    ref["decode_raw"] = [{"hex": [b.hex() for b in data], "out_type": t, "little_endian": le,
                          **_run(lambda: tf.decode_raw(tf.constant(data), getattr(tf, t), little_endian=le))}
                         for data, t, le in RAW_CASES]
    ref["examples_hex"] = [e.hex() for e in EXAMPLES]
    ref["parse_example"] = {name: _run(lambda: tf.parse_example(
        tf.constant(EXAMPLES), {k: _spec(*v) for k, v in spec.items()})) for name, spec in FEATURES.items()}
    ref["parse_single_example"] = _run(lambda: tf.parse_single_example(
        tf.constant(EXAMPLES[0]), {k: _spec(*v) for k, v in FEATURES["all"].items()}))
    ref["parse_garbage"] = _run(lambda: tf.parse_example(tf.constant([b"garbage"]),
                                                         {"a": tf.FixedLenFeature([2], tf.int64)}))
    with tempfile.TemporaryDirectory() as tmp:
        ref["readers"] = _reader_cases(tmp)
    (HERE / "io_reference.json").write_text(json.dumps(ref, indent=1) + "\n")


if __name__ == "__main__":
    main()
