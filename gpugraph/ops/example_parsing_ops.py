"""tf.parse_example / tf.parse_single_example (ParseExampleV2) with FixedLenFeature, FixedLenSequenceFeature and
VarLenFeature; a host op over serialized tf.train.Example protos."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.sparse_tensor import SparseTensor
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "VarLenFeature", "parse_example", "parse_single_example"]

FixedLenFeature = collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"],
                                         defaults=(None,))
FixedLenSequenceFeature = collections.namedtuple(
    "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"], defaults=(False, None))
VarLenFeature = collections.namedtuple("VarLenFeature", ["dtype"])

_KINDS = {dtypes.float32: "float_list", dtypes.int64: "int64_list", dtypes.string: "bytes_list"}
_KIND_WORDS = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


def _example_class() -> Any:
    from gpugraph.protos import example_pb2  # protobuf loads when an Example is first parsed

    return example_pb2.Example


def _values_of(feature: Any) -> tuple[str | None, list[Any]]:
    kind = feature.WhichOneof("kind")
    return kind, (list(getattr(feature, kind).value) if kind else [])


def _as_output(values: list[Any], dtype: dtypes.DType, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == dtypes.string:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out.reshape(shape)
    return np.array(values, dtype=dtype.np_dtype).reshape(shape)


def _parse_all(serialized: Any) -> list[Any]:
    example = _example_class()
    parsed = []
    for s in np.asarray(serialized, dtype=object).reshape(-1):
        try:
            parsed.append(example.FromString(bytes(s)))
        except Exception:  # protobuf's DecodeError: TF1's message
            raise errors.InvalidArgumentError(
                None, None, f"Could not parse example input, value: '{bytes(s).decode('latin-1')}'") from None
    return parsed


def _feature_values(example: Any, key: str, dtype: dtypes.DType, index: int) -> list[Any] | None:
    if key not in example.features.feature:
        return None
    kind, values = _values_of(example.features.feature[key])
    if kind is not None and kind != _KINDS[dtype]:
        raise errors.InvalidArgumentError(
            None, None, f"Name: <unknown>, Key: {key}, Index: {index}.  Data types don't match. Data type: "
            f"{_KIND_WORDS[kind]} but expected type: {_KIND_WORDS[_KINDS[dtype]]}")
    return values


def _dense(examples: list[Any], key: str, dtype: dtypes.DType, shape: tuple[int, ...], default: Any,
           sequence: bool, batch: tuple[int, ...]) -> np.ndarray:
    stride = int(np.prod(shape, dtype=np.int64))
    found = [_feature_values(e, key, dtype, i) for i, e in enumerate(examples)]
    if sequence:
        rows = [v or [] for v in found]
        for i, v in enumerate(rows):
            if stride and len(v) % stride:
                raise errors.InvalidArgumentError(
                    None, None, f"Name: <unknown>, Key: {key}, Index: {i}.  Number of {_KIND_WORDS[_KINDS[dtype]]} "
                    f"values is not a multiple of stride length. Saw {len(v)} values but output shape is: "
                    f"[{','.join(map(str, shape))}]")
        length = max((len(v) // stride for v in rows), default=0) if stride else 0
        pad = b"" if dtype == dtypes.string else 0
        if default is not None:
            pad = np.asarray(default, dtype=object if dtype == dtypes.string else dtype.np_dtype).reshape(-1)[0]
        padded = [v + [pad] * (length * stride - len(v)) for v in rows]
        return _as_output([x for v in padded for x in v], dtype, (*batch, length, *shape))
    out = []
    for i, v in enumerate(found):
        if v is None:
            if default is None:
                raise errors.InvalidArgumentError(
                    None, None, f"Name: <unknown>, Feature: {key} (data type: {_KIND_WORDS[_KINDS[dtype]]}) is "
                    "required but could not be found.")
            v = list(np.asarray(default, dtype=object if dtype == dtypes.string else dtype.np_dtype)
                     .reshape(-1).tolist())
            v = v * stride if len(v) == 1 and stride != 1 else v
        elif len(v) != stride:
            raise errors.InvalidArgumentError(
                None, None, f"Name: <unknown>, Key: {key}, Index: {i}.  Number of {_KIND_WORDS[_KINDS[dtype]]} "
                f"values != expected.  Values size: {len(v)} but output shape: [{','.join(map(str, shape))}]")
        out.extend(v)
    return _as_output(out, dtype, (*batch, *shape))


def _sparse(examples: list[Any], key: str, dtype: dtypes.DType, batched: bool) -> tuple[np.ndarray, ...]:
    rows = [_feature_values(e, key, dtype, i) or [] for i, e in enumerate(examples)]
    indices = [[b, j] if batched else [j] for b, v in enumerate(rows) for j in range(len(v))]
    longest = max((len(v) for v in rows), default=0)
    shape = [len(rows), longest] if batched else [longest]
    return (np.array(indices, dtype=np.int64).reshape(-1, 2 if batched else 1),
            _as_output([x for v in rows for x in v], dtype, (-1,)), np.array(shape, dtype=np.int64))


def _parse_infer(serialized: Tensor, *, sparse_keys: list[str], sparse_types: list[dtypes.DType],
                 dense_keys: list[str], dense_types: list[dtypes.DType], dense_shapes: list[tuple[int, ...]],
                 dense_defaults: list[Any], dense_sequence: list[bool]) -> Any:
    if serialized.dtype.base_dtype != dtypes.string:
        raise TypeError(f"ParseExample needs serialized strings, got {serialized.dtype.base_dtype.name}")
    dims = serialized.shape.as_tuple()
    if dims is not None and len(dims) > 1:
        raise ValueError(f"Shape must be at most rank 1 but is rank {len(dims)}")
    rank = None if dims is None else len(dims)
    specs: list[Any] = [(TensorShape([None, None if rank is None else rank + 1]), dtypes.int64)
                        for _ in sparse_keys]
    specs += [(TensorShape([None]), t) for t in sparse_types]
    specs += [(TensorShape([None if rank is None else rank + 1]), dtypes.int64) for _ in sparse_keys]
    for t, shape, seq in zip(dense_types, dense_shapes, dense_sequence):
        lead = list(dims) if dims is not None else None
        specs.append((TensorShape(None if lead is None else [*lead, *([None] if seq else []), *shape]), t))
    return specs


def _parse_impl(xp: Any, serialized: Any, *, sparse_keys: list[str], sparse_types: list[dtypes.DType],
                dense_keys: list[str], dense_types: list[dtypes.DType], dense_shapes: list[tuple[int, ...]],
                dense_defaults: list[Any], dense_sequence: list[bool]) -> Any:
    batch = tuple(np.shape(serialized))
    examples = _parse_all(serialized)
    sparse = [_sparse(examples, k, t, bool(batch)) for k, t in zip(sparse_keys, sparse_types)]
    outs = [s[0] for s in sparse] + [s[1] for s in sparse] + [s[2] for s in sparse]
    outs += [_dense(examples, k, t, tuple(shape), d, seq, batch)
             for k, t, shape, d, seq in zip(dense_keys, dense_types, dense_shapes, dense_defaults, dense_sequence)]
    return outs[0] if len(outs) == 1 else tuple(outs)


def _parse_sample(rng: np.random.Generator) -> list[Any]:
    example = _example_class()
    records = []
    for n in rng.integers(0, 3, size=3):
        e = example()
        e.features.feature["v"].int64_list.value.extend(rng.integers(-9, 9, size=int(n)).tolist())
        e.features.feature["x"].float_list.value.extend([float(n) / 2, 1.0])
        records.append(e.SerializeToString())
    serialized = np.empty(3, dtype=object)
    serialized[:] = records
    attrs = {"sparse_keys": ["v"], "sparse_types": [dtypes.int64], "dense_keys": ["x", "v"],
             "dense_types": [dtypes.float32, dtypes.int64], "dense_shapes": [(2,), ()],
             "dense_defaults": [None, np.array(-1)], "dense_sequence": [False, True]}
    return [([serialized], attrs)]


PARSE_EXAMPLE = register_op(OpDef("ParseExampleV2", infer=_parse_infer, impl=_parse_impl, grad=NO_GRADIENT,
                                  gpu=False, input_names=("serialized",), sample=_parse_sample))


def _split_features(features: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    if not features:
        raise ValueError("Missing: features was empty.")
    sparse, dense = [], []
    for key in sorted(features):
        spec = features[key]
        if isinstance(spec, VarLenFeature):
            sparse.append((key, spec))
        elif isinstance(spec, (FixedLenFeature, FixedLenSequenceFeature)):
            if isinstance(spec, FixedLenSequenceFeature) and not spec.allow_missing:
                raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")
            dense.append((key, spec))
        else:
            raise ValueError(f"Invalid feature {key}:{spec}.")
        if dtypes.as_dtype(spec.dtype).base_dtype not in _KINDS:
            raise TypeError(f"Value passed to parameter 'dense_defaults' has DataType "
                            f"{dtypes.as_dtype(spec.dtype).base_dtype.name} not in list of allowed values: "
                            "float32, int64, string")
    return sparse, dense


def _default_of(key: str, spec: Any, dtype: dtypes.DType) -> Any:
    if spec.default_value is None:
        return None
    value = np.asarray(spec.default_value, dtype=object if dtype == dtypes.string else dtype.np_dtype)
    if isinstance(spec, FixedLenFeature) and value.size not in (1, int(np.prod(spec.shape, dtype=np.int64))):
        raise ValueError(f"Shape of default_value for key {key} is incompatible with shape {list(spec.shape)}")
    return value


def parse_example(serialized: Any, features: dict[str, Any], name: str | None = None,
                  example_names: Any = None) -> dict[str, Any]:
    """Parse a batch of serialized Examples: a dict of dense Tensors (FixedLen*) and SparseTensors (VarLen)."""
    sparse, dense = _split_features(features)
    graph = graph_of([serialized]) if isinstance(serialized, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "ParseExample"):
        serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
        dense_types = [dtypes.as_dtype(s.dtype).base_dtype for _, s in dense]
        outs = PARSE_EXAMPLE(
            serialized, sparse_keys=[k for k, _ in sparse],
            sparse_types=[dtypes.as_dtype(s.dtype).base_dtype for _, s in sparse],
            dense_keys=[k for k, _ in dense], dense_types=dense_types,
            dense_shapes=[tuple(int(d) for d in s.shape) for _, s in dense],
            dense_defaults=[_default_of(k, s, t) for (k, s), t in zip(dense, dense_types)],
            dense_sequence=[isinstance(s, FixedLenSequenceFeature) for _, s in dense], name=name or "ParseExampleV2")
    outs = [outs] if isinstance(outs, Tensor) else list(outs)
    n = len(sparse)
    result: dict[str, Any] = {k: SparseTensor(outs[i], outs[n + i], outs[2 * n + i]) for i, (k, _) in enumerate(sparse)}
    result.update({k: outs[3 * n + i] for i, (k, _) in enumerate(dense)})
    return result


def parse_single_example(serialized: Any, features: dict[str, Any], name: str | None = None,
                         example_names: Any = None) -> dict[str, Any]:
    """Parse one serialized Example (a scalar string): dense values without a batch dimension."""
    graph = graph_of([serialized]) if isinstance(serialized, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "ParseSingleExample"):
        serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
        serialized.shape.with_rank(0)
        return parse_example(serialized, features)
