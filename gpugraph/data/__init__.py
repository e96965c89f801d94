"""tf.data: input pipelines evaluated on the host, read in a session through iterators."""

from __future__ import annotations

from types import SimpleNamespace

from gpugraph.data.dataset_ops import AUTOTUNE, Dataset
from gpugraph.data.iterators import (
    Iterator, get_output_classes, get_output_shapes, get_output_types, make_initializable_iterator,
    make_one_shot_iterator,
)
from gpugraph.data.sources import TextLineDataset
from gpugraph.data import batching, prefetch, transformations  # noqa: F401 - the dataset classes

experimental = SimpleNamespace(AUTOTUNE=AUTOTUNE)

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "TextLineDataset", "experimental", "get_output_classes",
           "get_output_shapes", "get_output_types", "make_initializable_iterator", "make_one_shot_iterator"]
