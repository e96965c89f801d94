"""decode_csv, decode_raw, parse_example and parse_single_example against TensorFlow's outputs and errors."""

from __future__ import annotations

import numpy as np
import pytest
from io_reference import REFERENCE, assert_same
from op_testing import run

import gpugraph as tf


def _run_or_error(outputs, feed):
    try:
        return run(outputs, feed=feed), None
    except tf.errors.OpError as e:
        return None, e


def _defaults(case):
    return [tf.constant(d, dtype=getattr(tf, t), shape=[len(d)]) for d, t in zip(case["defaults"],
                                                                              case["default_dtypes"])]


@pytest.mark.parametrize("case", REFERENCE["decode_csv"], ids=range(len(REFERENCE["decode_csv"])))
def test_decode_csv_matches_tensorflow(case) -> None:
    records = tf.placeholder(tf.string, [None])
    outs = tf.decode_csv(records, _defaults(case), **case["kwargs"])
    got, error = _run_or_error(outs, {records: case["records"]})
    if "error" in case:
        assert type(error).__name__ == case["error"] and case["message"] in str(error)
        return
    assert error is None, error
    for g, want in zip(got, case["outputs"]):
        assert_same(g, want)


def test_decode_csv_build_errors_and_names() -> None:
    with pytest.raises(ValueError, match="select_cols is not strictly increasing."):
        tf.decode_csv(["1,2"], [[0], [0]], select_cols=[1, 0])
    outs = tf.decode_csv(["1,2"], [[0], [0.0]], name="dc")
    assert [t.name for t in outs] == ["dc:0", "dc:1"] and outs[0].op.type == "DecodeCSV"


@pytest.mark.parametrize("case", REFERENCE["decode_raw"], ids=range(len(REFERENCE["decode_raw"])))
def test_decode_raw_matches_tensorflow(case) -> None:
    data = tf.placeholder(tf.string, [None])
    out = tf.decode_raw(data, getattr(tf, case["out_type"]), little_endian=case["little_endian"])
    assert out.op.type == "DecodeRaw" and out.shape.as_list() == [None, None]
    got, error = _run_or_error(out, {data: [bytes.fromhex(h) for h in case["hex"]]})
    if "error" in case:
        assert type(error).__name__ == case["error"] and case["message"] in str(error)
    else:
        assert_same(got, case["outputs"])


def test_decode_raw_refuses_string_out_type() -> None:
    with pytest.raises(TypeError, match="DataType string not in list of allowed values"):
        tf.decode_raw(tf.constant(b"ab"), tf.string)


def _features(name):
    specs = {"all": {"a": tf.FixedLenFeature([2], tf.int64), "b": tf.FixedLenFeature([], tf.float32, -1.0),
                     "s": tf.VarLenFeature(tf.string)},
             "missing": {"b": tf.FixedLenFeature([], tf.float32)},
             "count": {"a": tf.FixedLenFeature([3], tf.int64)},
             "type": {"a": tf.FixedLenFeature([2], tf.float32)},
             "sequence": {"a": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
                          "s": tf.FixedLenSequenceFeature([], tf.string, allow_missing=True)}}
    return specs[name]


EXAMPLES = [bytes.fromhex(h) for h in REFERENCE["examples_hex"]]


@pytest.mark.parametrize("name", sorted(REFERENCE["parse_example"]))
def test_parse_example_matches_tensorflow(name) -> None:
    serialized = tf.placeholder(tf.string, [None])
    parsed = tf.parse_example(serialized, _features(name))
    got, error = _run_or_error(parsed, {serialized: EXAMPLES})
    case = REFERENCE["parse_example"][name]
    if "error" in case:
        assert type(error).__name__ == case["error"] and case["message"] in str(error)
        return
    assert error is None, error
    assert sorted(got) == sorted(case["outputs"])
    for key, want in case["outputs"].items():
        assert_same(got[key], want)


def test_parse_single_example_and_names() -> None:
    parsed = tf.parse_single_example(tf.constant(EXAMPLES[0]), _features("all"))
    assert parsed["a"].name == "ParseSingleExample/ParseExample/ParseExampleV2:3"
    assert isinstance(parsed["s"], tf.SparseTensor) and parsed["a"].shape.as_list() == [2]
    got = run(parsed)
    for key, want in REFERENCE["parse_single_example"]["outputs"].items():
        assert_same(got[key], want)
    assert run(tf.sparse.to_dense(parsed["s"])).tolist() == [b"x", b"yy"]
    assert run(tf.sparse_tensor_to_dense(parsed["s"], default_value="?")).tolist() == [b"x", b"yy"]


def test_parse_example_errors() -> None:
    case = REFERENCE["parse_garbage"]
    _, error = _run_or_error(tf.parse_example(tf.placeholder_with_default([b"garbage"], [None]),
                                              {"a": tf.FixedLenFeature([2], tf.int64)}), None)
    assert type(error).__name__ == case["error"] and case["message"] in str(error)
    with pytest.raises(ValueError, match="FixedLenSequenceFeature requires allow_missing to be True"):
        tf.parse_example(EXAMPLES, {"a": tf.FixedLenSequenceFeature([], tf.int64)})


def test_sparse_tensor_fetches_as_value_and_densifies() -> None:
    sp = tf.SparseTensor([[0, 1], [2, 0]], [1.5, -2.0], [3, 2])
    value = run(sp)
    assert isinstance(value, tf.SparseTensorValue) and value.dense_shape.tolist() == [3, 2]
    dense = np.zeros((3, 2))
    dense[0, 1], dense[2, 0] = 1.5, -2.0
    np.testing.assert_array_equal(run(tf.sparse_tensor_to_dense(sp)), dense)
    assert sp.shape.as_list() == [3, 2] and tf.sparse.SparseTensor is tf.SparseTensor
