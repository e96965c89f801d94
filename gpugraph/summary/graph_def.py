"""A Graph as a ``GraphDef`` protobuf (tensorboardX's generated classes), for TensorBoard's graph tab.

Each node keeps its name, op type, inputs ("x" for output 0, "x:1", "^ctrl" for control inputs),
device, the attrs that map onto AttrValue (types, shapes, numbers, strings, constant values), a "T"
when the op has none, and ``_output_shapes``, which TensorBoard draws on the edges.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gpugraph.framework.dtypes import DType
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape

__all__ = ["graph_to_graph_def", "dtype_enum"]

_ENUMS = {
    "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int8": "DT_INT8",
    "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8", "bool": "DT_BOOL",
    "string": "DT_STRING",
}


def dtype_enum(dtype: DType) -> str:
    """TF's DataType enum name of ``dtype`` ('DT_FLOAT', 'DT_FLOAT_REF'...)."""
    base = _ENUMS[dtype.base_dtype.name]
    return base + "_REF" if dtype.is_ref else base


def input_name(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def _shape_proto(shape: TensorShape) -> Any:
    from tensorboardX.proto import tensor_shape_pb2

    dims = shape.as_tuple()
    if dims is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d) for d in dims])


def _attr_value(value: Any) -> Any | None:
    """The AttrValue for one op attribute; None for values TensorBoard has no use for."""
    from tensorboardX.proto import attr_value_pb2

    from gpugraph.summary.encode import SummaryError, tensor_proto

    if isinstance(value, DType):
        return attr_value_pb2.AttrValue(type=dtype_enum(value))
    if isinstance(value, TensorShape):
        return attr_value_pb2.AttrValue(shape=_shape_proto(value))
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
    if isinstance(value, np.ndarray):
        try:
            return attr_value_pb2.AttrValue(tensor=tensor_proto(value))
        except SummaryError:
            return None
    if isinstance(value, (tuple, list)):
        return _list_value(value)
    return None


def _list_value(items: Any) -> Any | None:
    from tensorboardX.proto import attr_value_pb2

    ListValue = attr_value_pb2.AttrValue.ListValue
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        return attr_value_pb2.AttrValue(list=ListValue(i=[int(v) for v in items]))
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        return attr_value_pb2.AttrValue(list=ListValue(f=[float(v) for v in items]))
    if all(isinstance(v, str) for v in items):
        return attr_value_pb2.AttrValue(list=ListValue(s=[v.encode("utf-8") for v in items]))
    if all(isinstance(v, DType) for v in items):
        return attr_value_pb2.AttrValue(list=ListValue(type=[dtype_enum(v) for v in items]))
    if all(isinstance(v, TensorShape) for v in items):
        return attr_value_pb2.AttrValue(list=ListValue(shape=[_shape_proto(v) for v in items]))
    return None


def graph_to_graph_def(graph: Graph, add_shapes: bool = True) -> Any:
    """The GraphDef of ``graph``'s operations, in creation order."""
    from tensorboardX.proto import graph_pb2

    from gpugraph.framework.node_def import node_def_of

    return graph_pb2.GraphDef(node=[node_def_of(op, add_shapes) for op in graph.get_operations()])


# public names for gpugraph.framework.node_def
attr_value = _attr_value
shape_proto = _shape_proto
