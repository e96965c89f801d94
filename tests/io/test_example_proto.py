"""tf.train.Example protos: the bytes TensorFlow serialized parse, and equal messages serialize back the same."""

from __future__ import annotations

from io_reference import REFERENCE

import gpugraph as tf


def test_parses_tensorflows_bytes_and_serializes_them_back() -> None:
    first = tf.train.Example.FromString(bytes.fromhex(REFERENCE["examples_hex"][0]))
    feature = first.features.feature
    assert list(feature["a"].int64_list.value) == [1, 2]
    assert list(feature["b"].float_list.value) == [1.5]
    assert list(feature["s"].bytes_list.value) == [b"x", b"yy"]
    built = tf.train.Example(features=tf.train.Features(feature={
        "a": tf.train.Feature(int64_list=tf.train.Int64List(value=[3, 4])),
        "s": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"z"]))}))
    assert built == tf.train.Example.FromString(bytes.fromhex(REFERENCE["examples_hex"][1]))
    one = tf.train.Example(features=tf.train.Features(feature={"a": feature["a"]}))
    assert one.SerializeToString().hex() == "0a0d0a0b0a016112061a040a020102"


def test_sequence_example_and_compat_names() -> None:
    seq = tf.train.SequenceExample()
    seq.feature_lists.feature_list["t"].feature.add().float_list.value.append(2.0)
    assert tf.train.SequenceExample.FromString(seq.SerializeToString()) == seq
    assert tf.compat.v1.train.Example is tf.train.Example and "Example" in tf.train.__all__
