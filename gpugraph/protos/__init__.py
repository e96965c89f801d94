"""Protocol buffer messages wire-compatible with TensorFlow's (tf.train.Example and friends).

The generated module loads on first use, so ``import gpugraph`` does not import protobuf.
"""

from __future__ import annotations

from typing import Any

EXAMPLE_MESSAGES = ("BytesList", "FloatList", "Int64List", "Feature", "Features", "FeatureList", "FeatureLists",
                    "Example", "SequenceExample")


def example_message(name: str) -> Any:
    """The message class ``name`` of example.proto (tf.train.Example, tf.train.Feature, ...)."""
    from gpugraph.protos import example_pb2

    return getattr(example_pb2, name)
