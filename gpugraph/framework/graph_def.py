"""A Graph as TensorFlow's ``GraphDef`` protobuf (tensorboardX's generated classes), in TF's own node layout.

Standard ops are written as TF writes them (attr names ``T``, ``keep_dims``, ``Tidx``...; axes, shapes and
permutations as ``Const`` inputs named ``<op>/reduction_indices``, ``<op>/shape``...), so TensorFlow can
import and run the graph. gpugraph attrs that TF's form cannot hold exactly go, as tagged JSON, into the
attr ``_gpugraph_attrs``: TF ignores attrs starting with '_', and ``import_graph_def`` rebuilds the op.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape

__all__ = ["GraphDef", "AttrValue", "graph_as_graph_def", "to_attr_value", "from_attr_value",
           "ndarray_of", "dtype_enum", "dtype_of_enum", "PRODUCER", "GPUGRAPH_ATTRS", "FOLDED"]

# The GraphDef version TF 1.15 writes: the op semantics gpugraph follows.
PRODUCER = 134
GPUGRAPH_ATTRS = "_gpugraph_attrs"
# Marks a Const written only to hold an attr as TF's input (an axis, a shape): import makes it on demand.
FOLDED = "_gpugraph_folded"
# Names of attrs no GraphDef can hold (function graphs): such a node cannot be imported again.
UNWRITTEN = "_gpugraph_unwritten"

# TF's type attrs: derivable from the inputs, never a gpugraph attr.
TYPE_ATTRS = frozenset({"T", "Tidx", "Tshape", "Tperm", "Tdim", "Tpaddings", "Index", "N", "index_type", "SrcT",
                        "Tmultiples", "Tindices", "Tparams", "Taxis", "Truncate", "Tlabels", "TI", "Tsplits"})

_NP_OF_ENUM = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 7: object,
               9: np.int64, 10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}
_NAME_OF_ENUM = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
                 9: "int64", 10: "bool", 19: "float16"}
_ENUM_OF_NAME = {v: k for k, v in _NAME_OF_ENUM.items()}
_REF_OFFSET = 100  # TF's DT_FLOAT_REF is DT_FLOAT + 100


def _pb() -> Any:
    from tensorboardX.proto import attr_value_pb2, graph_pb2, tensor_shape_pb2, versions_pb2

    return attr_value_pb2, graph_pb2, tensor_shape_pb2, versions_pb2


class _ProtoStandIn(type):
    """``tf.GraphDef`` / ``tf.AttrValue``: the protobuf class, imported on first use."""

    def _cls(cls) -> type:
        attr_value_pb2, graph_pb2, _, _ = _pb()
        return graph_pb2.GraphDef if cls.__name__ == "GraphDef" else attr_value_pb2.AttrValue

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._cls()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._cls(), name)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._cls())

    def __repr__(cls) -> str:
        return repr(cls._cls())


class GraphDef(metaclass=_ProtoStandIn):
    """``tf.GraphDef``: nodes, versions and function library of a graph."""


class AttrValue(metaclass=_ProtoStandIn):
    """``tf.AttrValue``: one attr of a NodeDef."""


# --- types, shapes, tensors ---
def dtype_enum(dtype: dtypes.DType) -> int:
    """TF's DataType number of ``dtype`` (DT_FLOAT = 1, DT_FLOAT_REF = 101)."""
    base = _ENUM_OF_NAME.get(dtype.base_dtype.name)
    if base is None:
        raise TypeError(f"dtype {dtype.name} has no TensorFlow DataType")
    return base + _REF_OFFSET if dtype.is_ref else base


def dtype_of_enum(enum: int) -> dtypes.DType:
    ref = enum > _REF_OFFSET
    name = _NAME_OF_ENUM.get(enum - _REF_OFFSET if ref else enum)
    if name is None:
        raise TypeError(f"TensorFlow DataType {enum} is not supported")
    dt = dtypes.as_dtype(name)
    return dt._as_ref if ref else dt


def shape_proto(shape: TensorShape) -> Any:
    _, _, tensor_shape_pb2, _ = _pb()
    dims = shape.as_tuple()
    if dims is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d) for d in dims])


def shape_of_proto(proto: Any) -> TensorShape:
    if proto.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else d.size for d in proto.dim])


def tensor_proto(array: np.ndarray) -> Any:
    from gpugraph.summary.encode import tensor_proto as encode

    return encode(np.asarray(array))


def ndarray_of(proto: Any) -> np.ndarray:
    """The value of a TensorProto: ``tensor_content``, or the typed ``*_val`` list (its last value repeated)."""
    np_type = _NP_OF_ENUM.get(proto.dtype)
    if np_type is None:
        raise TypeError(f"TensorFlow DataType {proto.dtype} is not supported")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    size = int(np.prod(shape, dtype=np.int64))
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, np.dtype(np_type).newbyteorder("<")).astype(np_type)\
            .reshape(shape)
    if np_type is object:
        values: Any = list(proto.string_val)
    elif np_type is np.float16:
        values = np.asarray(proto.half_val, np.uint16).view(np.float16)
    else:
        field = {np.float32: "float_val", np.float64: "double_val", np.int64: "int64_val", np.bool_: "bool_val",
                 np.uint32: "uint32_val", np.uint64: "uint64_val"}.get(np_type, "int_val")
        values = getattr(proto, field)
    flat = np.empty(size, dtype=np_type)
    if len(values):
        flat[:len(values)] = values[:size]
        flat[len(values):] = values[-1]
    elif size:
        flat[:] = b"" if np_type is object else 0
    return flat.reshape(shape)


# --- attr values ---
def to_attr_value(value: Any) -> Any | None:
    """The AttrValue of a Python attr; None when it has none."""
    attr_value_pb2 = _pb()[0]
    if isinstance(value, AttrValue):
        return value
    if isinstance(value, dtypes.DType):
        return attr_value_pb2.AttrValue(type=dtype_enum(value))
    if isinstance(value, TensorShape):
        return attr_value_pb2.AttrValue(shape=shape_proto(value))
    if isinstance(value, (bool, np.bool_)):
        return attr_value_pb2.AttrValue(b=bool(value))
    if isinstance(value, numbers.Integral):
        return attr_value_pb2.AttrValue(i=int(value))
    if isinstance(value, numbers.Real):
        return attr_value_pb2.AttrValue(f=float(value))
    if isinstance(value, str):
        return attr_value_pb2.AttrValue(s=value.encode("utf-8"))
    if isinstance(value, bytes):
        return attr_value_pb2.AttrValue(s=value)
    if isinstance(value, np.ndarray) and (value.dtype.kind in "biuf" or value.dtype == object):
        return attr_value_pb2.AttrValue(tensor=tensor_proto(value))
    if isinstance(value, (tuple, list)):
        return _list_value(value)
    return None


def _list_value(items: Any) -> Any | None:
    attr_value_pb2 = _pb()[0]
    out = attr_value_pb2.AttrValue()
    out.list.SetInParent()
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        out.list.b.extend(bool(v) for v in items)
    elif all(isinstance(v, numbers.Integral) for v in items):
        out.list.i.extend(int(v) for v in items)
    elif all(isinstance(v, numbers.Real) for v in items):
        out.list.f.extend(float(v) for v in items)
    elif all(isinstance(v, str) for v in items):
        out.list.s.extend(v.encode("utf-8") for v in items)
    elif all(isinstance(v, dtypes.DType) for v in items):
        out.list.type.extend(dtype_enum(v) for v in items)
    elif all(isinstance(v, TensorShape) for v in items):
        out.list.shape.extend(shape_proto(v) for v in items)
    else:
        return None
    return out


def from_attr_value(attr: Any) -> Any:
    """The Python value of an AttrValue: lists become tuples, strings ``str`` where they are UTF-8."""
    kind = attr.WhichOneof("value")
    if kind == "list":
        lst = attr.list
        for field, convert in (("s", _text), ("i", int), ("f", float), ("b", bool), ("type", dtype_of_enum),
                               ("shape", shape_of_proto), ("tensor", ndarray_of)):
            if len(getattr(lst, field)):
                return tuple(convert(v) for v in getattr(lst, field))
        return ()
    if kind == "s":
        return _text(attr.s)
    if kind == "type":
        return dtype_of_enum(attr.type)
    if kind == "shape":
        return shape_of_proto(attr.shape)
    if kind == "tensor":
        return ndarray_of(attr.tensor)
    if kind in ("i", "f", "b"):
        return getattr(attr, kind)
    if kind == "func":
        return attr.func.name
    return None


def _text(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def same_value(a: Any, b: Any) -> bool:
    """Whether an attr comes back from its AttrValue exactly: same type and value."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def encode_attrs(attrs: dict[str, Any]) -> tuple[Any, list[str]]:
    """``attrs`` as tagged JSON in an AttrValue string (NumPy arrays, slices, None... kept exactly), and the
    names of those JSON cannot hold (function graphs, Python objects)."""
    from gpugraph.train.meta_graph import _Unsupported, encode

    encoded, lost = {}, []
    for key, value in attrs.items():
        try:
            encoded[key] = encode(value)
        except _Unsupported:
            lost.append(key)
    text = json.dumps(encoded, sort_keys=True, allow_nan=False)
    return _pb()[0].AttrValue(s=text.encode("utf-8")), lost


def decode_attrs(attr: Any, graph: Any) -> dict[str, Any]:
    from gpugraph.train.meta_graph import decode

    return {k: decode(v, graph, "") for k, v in json.loads(attr.s.decode("utf-8")).items()}


# --- the exporter ---
def input_name(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def graph_as_graph_def(graph: Any, from_version: int | None = None, add_shapes: bool = False) -> Any:
    """``graph``'s ops with an id above ``from_version`` as a GraphDef, in creation order."""
    _, graph_pb2, _, versions_pb2 = _pb()
    ops = [op for op in graph.get_operations() if from_version is None or op._id > from_version]
    taken = {op.name for op in graph.get_operations()}
    out = graph_pb2.GraphDef(versions=versions_pb2.VersionDef(producer=PRODUCER))
    for op in ops:
        out.node.extend(_nodes_of(op, taken, add_shapes))
    return out


def node_def(op: Operation, add_shapes: bool = False) -> Any:
    """``op`` alone as TF's NodeDef (the Consts it would take as inputs are not returned)."""
    return _nodes_of(op, {o.name for o in op.graph.get_operations()}, add_shapes)[-1]


def _nodes_of(op: Operation, taken: set[str], add_shapes: bool) -> list[Any]:
    """The NodeDef of ``op``, after the folded Consts its TF form takes as inputs."""
    from tensorboardX.proto import node_def_pb2

    from gpugraph.framework.op_forms import EXPORT_FORMS, NewConst

    ins = [input_name(t) for t in op.inputs]
    attrs = op.attrs
    form = EXPORT_FORMS.get(op.type)
    tf_form = form(op, ins) if form is not None else None
    if tf_form is None:
        op_type, inputs, tf_attrs, consumed = op.type, list(ins), {}, set()
    else:
        op_type, inputs, tf_attrs, consumed = tf_form
    nodes = []
    for i, item in enumerate(inputs):
        if isinstance(item, NewConst):
            name = _unique(f"{op.name}/{item.suffix}", taken)
            const = node_def_pb2.NodeDef(name=name, op="Const", device=op.device)
            const.attr["value"].tensor.CopyFrom(tensor_proto(item.value))
            const.attr["dtype"].type = dtype_enum(dtypes.as_dtype(item.value.dtype.name))
            const.attr[FOLDED].b = True
            nodes.append(const)
            inputs[i] = name
    node = node_def_pb2.NodeDef(name=op.name, op=op_type, device=op.device)
    node.input.extend(inputs)
    node.input.extend(sorted(f"^{c.name}" for c in op.control_inputs))  # TF sorts them, for determinism
    leftover = {}
    for key, value in attrs.items():
        if key in consumed:
            continue
        attr = None if key in TYPE_ATTRS else to_attr_value(value)
        if attr is not None and same_value(from_attr_value(attr), value):
            node.attr[key].CopyFrom(attr)
        else:
            leftover[key] = value
    for key, value in tf_attrs.items():
        node.attr[key].CopyFrom(to_attr_value(value))
    if "T" not in node.attr and "dtype" not in node.attr and op.inputs and tf_form is None:
        node.attr["T"].type = dtype_enum(op.inputs[0].dtype.base_dtype)
    if leftover:
        blob, lost = encode_attrs(leftover)
        node.attr[GPUGRAPH_ATTRS].CopyFrom(blob)
        if lost:  # import_graph_def refuses such a node, naming these
            node.attr[UNWRITTEN].list.s.extend(k.encode("utf-8") for k in sorted(lost))
    if add_shapes and op.outputs:
        node.attr["_output_shapes"].list.shape.extend(shape_proto(t.shape) for t in op.outputs)
    nodes.append(node)
    return nodes


def _unique(name: str, taken: set[str]) -> str:
    candidate, i = name, 0
    while candidate in taken:
        i += 1
        candidate = f"{name}_{i}"
    taken.add(candidate)
    return candidate
