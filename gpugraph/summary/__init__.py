"""``tf.summary``: summary ops for TensorBoard and the FileWriter that writes their event files."""

from __future__ import annotations

from typing import Any

from gpugraph.summary.audio_summary import audio
from gpugraph.summary.summary_ops import (
    all_v2_summary_ops, get_summary_description, histogram, image, initialize, merge, merge_all, scalar,
    tensor_summary, text,
)
from gpugraph.summary.writer import FileWriter, FileWriterCache

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge", "merge_all", "FileWriter",
           "FileWriterCache", "get_summary_description", "initialize", "all_v2_summary_ops", "Summary",
           "SummaryMetadata", "SummaryDescription", "Event", "SessionLog", "TaggedRunMetadata"]

_PROTOS = {"Summary": "summary_pb2", "SummaryMetadata": "summary_pb2", "SummaryDescription": "summary_pb2",
           "Event": "event_pb2", "SessionLog": "event_pb2", "TaggedRunMetadata": "event_pb2"}


def __getattr__(name: str) -> Any:
    """``tf.summary.Summary``, ``tf.summary.Event``...: tensorboardX's messages, imported on first use."""
    module = _PROTOS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpugraph.summary' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(f"tensorboardX.proto.{module}"), name)
