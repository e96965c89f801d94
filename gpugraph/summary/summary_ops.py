"""Summary ops: graph ops whose value is a serialized ``Summary`` protobuf (a scalar ``tf.string``).

``tf.summary.scalar('MSE', mse)`` makes the op "MSE" with the tag "MSE"; inside ``name_scope('loss')``
both become "loss/MSE"; a ``family`` prefixes the tag once more ("fam/fam/MSE"), all as TF1 does.
The ops run on the host: their step copies inputs to host memory and builds the message there.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import CONST
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.summary import encode

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all", "get_summary_description",
           "initialize", "all_v2_summary_ops"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")
_SCALAR_STRING = (TensorShape(()), dtypes.string)
_IMAGE_DTYPES = ("uint8", "float16", "float32", "float64")


# --- shape inference: every summary is a scalar string ---
def _real_number(t: Tensor) -> None:
    if not t.dtype.base_dtype.is_numeric:
        raise TypeError(f"Value passed to parameter 'values' has DataType {t.dtype.base_dtype.name} not in "
                        "list of allowed values: float16, float32, float64, int8, int16, int32, int64, uint8")


def _scalar_infer(values: Tensor, *, tag: str) -> Any:
    _real_number(values)
    dims = values.shape.as_tuple()
    if dims is not None and len(dims) != 0:
        raise ValueError(f"tags and values are not the same shape: [] != {list(values.shape)} (tag '{tag}')")
    return _SCALAR_STRING


def _histogram_infer(values: Tensor, *, tag: str) -> Any:
    _real_number(values)
    return _SCALAR_STRING


def _image_infer(tensor: Tensor, *, tag: str, max_images: int) -> Any:
    if tensor.dtype.base_dtype.name not in _IMAGE_DTYPES:
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {tensor.dtype.base_dtype.name} not in "
                        f"list of allowed values: {', '.join(_IMAGE_DTYPES)}")
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ValueError(f"max_outputs must be an int >= 1, got {max_images!r}")
    dims = tensor.shape.as_tuple()
    if dims is not None and (len(dims) != 4 or dims[3] not in (None, 1, 3, 4)):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {tensor.shape}")
    return _SCALAR_STRING


def _tensor_infer(tensor: Tensor, **attrs: Any) -> Any:
    return _SCALAR_STRING


def _merge_infer(*inputs: Tensor) -> Any:
    if not inputs:
        raise ValueError("tf.summary.merge needs at least one summary to merge")
    for t in inputs:
        if t.dtype.base_dtype != dtypes.string:
            raise TypeError(f"MergeSummary inputs must be string summaries, got {t.name} of dtype "
                            f"{t.dtype.base_dtype.name}")
    return _SCALAR_STRING


# --- lowering: host arrays in, one serialized Summary out ---
def _string_scalar(data: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = data  # fetched as Python bytes, as TF1 returns a scalar string
    return out


def _host_step(encoder: Callable[..., bytes]) -> Callable[[Operation, Any], Callable[..., np.ndarray]]:
    """A bind function: the step moves its inputs to the host, encodes, and names the op on failure."""

    def bind(op: Operation, ctx: Any) -> Callable[..., np.ndarray]:
        to_host = ctx.backend.to_host
        attrs = op.attrs

        def step(*arrays: Any) -> np.ndarray:
            try:
                return _string_scalar(encoder(op, [to_host(a) for a in arrays], **attrs))
            except encode.SummaryError as e:
                raise errors.InvalidArgumentError(None, op, f"{e}\n\t [[{op.name}]]") from None
        return step
    return bind


# Summary ops serialize protobufs to strings: host code (gpu=False).
SCALAR_SUMMARY = register_op(OpDef(
    "ScalarSummary", infer=_scalar_infer, grad=NO_GRADIENT, gpu=False, input_names=("values",),
    bind=_host_step(lambda op, arrays, *, tag: encode.scalar_summary(tag, arrays[0])),
))

HISTOGRAM_SUMMARY = register_op(OpDef(
    "HistogramSummary", infer=_histogram_infer, grad=NO_GRADIENT, gpu=False, input_names=("values",),
    bind=_host_step(lambda op, arrays, *, tag: encode.histogram_summary(tag, arrays[0], op.name)),
))

IMAGE_SUMMARY = register_op(OpDef(
    "ImageSummary", infer=_image_infer, grad=NO_GRADIENT, gpu=False, input_names=("tensor",),
    bind=_host_step(lambda op, arrays, *, tag, max_images: encode.image_summary(tag, arrays[0], max_images)),
))

TENSOR_SUMMARY = register_op(OpDef(
    "TensorSummaryV2", infer=_tensor_infer, grad=NO_GRADIENT, gpu=False, input_names=("tensor",),
    bind=_host_step(lambda op, arrays, *, tag, plugin_name, plugin_content, display_name, description:
                    encode.tensor_summary(tag, np.asarray(arrays[0]), plugin_name, plugin_content,
                                          display_name, description)),
))


def _merge(op: Operation, arrays: list[Any]) -> bytes:
    return encode.merge_summaries([s for a in arrays for s in np.asarray(a, dtype=object).reshape(-1).tolist()])


MERGE_SUMMARY = register_op(OpDef(
    "MergeSummary", infer=_merge_infer, grad=NO_GRADIENT, gpu=False, input_names=("inputs",), bind=_host_step(_merge),
))


# --- TF1's naming: summary_op_util.summary_scope and collect ---
def clean_tag(name: str | None) -> str | None:
    """Characters a tag may not hold become '_', and leading '/' go, as TF1 does."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


@contextlib.contextmanager
def summary_scope(graph: Graph, name: str, family: str | None = None) -> Iterator[tuple[str, str]]:
    """Yields (tag, scope): the scope names the op, the tag is the scope (with the family in front)."""
    name = clean_tag(name) or ""
    family = clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with graph.as_default(), graph.name_scope(base) as scope:
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def _collect(graph: Graph, value: Tensor, collections: Sequence[str] | None, default: Sequence[str]) -> None:
    for key in default if collections is None else collections:
        graph.add_to_collection(key, value)


# --- public API (tf.summary.*) ---
def scalar(name: str, tensor: Any, collections: Sequence[str] | None = None, family: str | None = None) -> Tensor:
    """A summary of one real number (TensorBoard's scalars tab)."""
    graph = graph_of([tensor])
    with summary_scope(graph, name, family) as (tag, scope):
        value = SCALAR_SUMMARY(tensor, name=scope, tag=tag)
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value


def histogram(name: str, values: Any, collections: Sequence[str] | None = None,
              family: str | None = None) -> Tensor:
    """A histogram of all values (TF1's exponential buckets); NaN or Inf is an error at run time."""
    graph = graph_of([values])
    with summary_scope(graph, name, family) as (tag, scope):
        value = HISTOGRAM_SUMMARY(values, name=scope, tag=tag)
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value


def image(name: str, tensor: Any, max_outputs: int = 3, collections: Sequence[str] | None = None,
          family: str | None = None) -> Tensor:
    """PNGs of the first ``max_outputs`` images of a [batch, height, width, 1|3|4] tensor.

    uint8 is written as is; floats are normalized per image (scaled to max 255, or centred on 128 when
    negative values exist). Tags are "name/image" (max_outputs == 1) or "name/image/0", "name/image/1"...
    """
    graph = graph_of([tensor])
    with summary_scope(graph, name, family) as (tag, scope):
        value = IMAGE_SUMMARY(tensor, name=scope, tag=tag, max_images=max_outputs)
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value


def _metadata_fields(metadata: Any) -> tuple[str, bytes, str, str]:
    """(plugin name, plugin content, display name, description) of a SummaryMetadata message (or None)."""
    if metadata is None:
        return "", b"", "", ""
    if isinstance(metadata, bytes):
        parsed = encode.pb().SummaryMetadata()
        parsed.ParseFromString(metadata)
        metadata = parsed
    plugin = metadata.plugin_data
    return plugin.plugin_name, bytes(plugin.content), metadata.display_name, metadata.summary_description


def tensor_summary(name: str, tensor: Any, summary_description: str | None = None,
                   collections: Sequence[str] | None = None, summary_metadata: Any = None,
                   family: str | None = None, display_name: str | None = None) -> Tensor:
    """A summary holding the whole tensor (TensorBoard plugins read it through ``summary_metadata``)."""
    plugin_name, content, shown, description = _metadata_fields(summary_metadata)
    graph = graph_of([tensor])
    with summary_scope(graph, name, family) as (tag, scope):
        value = TENSOR_SUMMARY(tensor, name=scope, tag=tag, plugin_name=plugin_name, plugin_content=content,
                               display_name=display_name or shown, description=summary_description or description)
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value


def _string_constant(value: Any) -> Tensor:
    """A string Const for text given as Python str/bytes (or nested lists of them)."""
    arr = np.array(value, dtype=object)
    flat = [v.encode("utf-8") if isinstance(v, str) else v for v in arr.reshape(-1).tolist()]
    if not all(isinstance(v, bytes) for v in flat):
        raise TypeError(f"tf.summary.text needs a string tensor or Python strings, got {value!r}")
    arr = np.empty(arr.shape, dtype=object)
    arr.reshape(-1)[:] = flat
    arr.setflags(write=False)
    return CONST(name="Const", value=arr, dtype=dtypes.string)


def text(name: str, tensor: Any, collections: Sequence[str] | None = None) -> Tensor:
    """Markdown text for TensorBoard's text plugin: a string tensor (or Python strings) of any shape."""
    if isinstance(tensor, (str, bytes, list, tuple)):
        tensor = _string_constant(tensor)
    if not isinstance(tensor, Tensor) or tensor.dtype.base_dtype != dtypes.string:
        got = tensor.dtype.base_dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__
        where = tensor.name if isinstance(tensor, Tensor) else repr(tensor)
        raise ValueError(f"Expected tensor {where} to have dtype string, got {got}")
    graph = graph_of([tensor])
    with summary_scope(graph, name) as (tag, scope):
        value = TENSOR_SUMMARY(tensor, name=scope, tag=tag, plugin_name="text", plugin_content=b"",
                               display_name="", description="")
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value


def merge(inputs: Sequence[Any], collections: Sequence[str] | None = None, name: str | None = None) -> Tensor:
    """One summary holding the values of all ``inputs``; the same tag twice is an error at run time."""
    inputs = list(inputs)
    graph = graph_of(inputs)
    with graph.as_default(), graph.name_scope(name or "Merge"):
        value = MERGE_SUMMARY(*inputs, name=name)
    _collect(graph, value, collections, [])
    return value


def merge_all(key: str = GraphKeys.SUMMARIES, scope: str | None = None, name: str | None = None) -> Tensor | None:
    """``merge`` of the collection ``key`` of the default graph; None when it is empty."""
    from gpugraph.framework.graph import get_default_graph

    summaries = get_default_graph().get_collection(key, scope=scope)
    return merge(summaries, name=name) if summaries else None


def get_summary_description(node_def: Any) -> Any:
    """The SummaryDescription stored in a (TF1 "TensorSummary") NodeDef's ``description`` attr, as JSON."""
    op_type = getattr(node_def, "op", None)
    if isinstance(node_def, Operation):
        op_type = node_def.type
    if op_type != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {op_type}")
    from google.protobuf import json_format

    raw = node_def.attr["description"].s
    description = encode.pb().SummaryDescription()
    json_format.Parse(raw.decode("utf-8") if isinstance(raw, bytes) else raw, description)
    return description


def initialize(graph: Any = None, session: Any = None) -> None:
    """TF2's summary-writer setup; in TF1 graph mode there is never a default v2 writer to set up."""
    raise RuntimeError("No default tf.contrib.summary.SummaryWriter found")


def all_v2_summary_ops() -> list[Tensor]:
    """The v2 summary ops of the default graph: gpugraph's summaries are all v1, so none."""
    from gpugraph.framework.graph import get_default_graph

    return get_default_graph().get_collection("_SUMMARY_V2")
