"""tf.io: gfile, TFRecord files, parsing ops and feature specs."""

from __future__ import annotations

from gpugraph import gfile
from gpugraph.framework.sparse_tensor import SparseTensor
from gpugraph.ops.example_parsing_ops import (
    FixedLenFeature, FixedLenSequenceFeature, VarLenFeature, parse_example, parse_single_example,
)
from gpugraph.ops.parsing_ops import decode_csv, decode_raw
from gpugraph.python_io import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["gfile", "SparseTensor", "FixedLenFeature", "FixedLenSequenceFeature", "VarLenFeature", "parse_example",
           "parse_single_example", "decode_csv", "decode_raw", "TFRecordCompressionType", "TFRecordOptions",
           "TFRecordWriter", "tf_record_iterator"]
