"""TF's NodeDef form of ops whose gpugraph attrs TF takes as inputs or under other names, both ways.

Export: ``EXPORT_FORMS[type](op, input_names)`` gives (TF op type, inputs, TF attrs, gpugraph attrs they
hold), an input being a name or a ``NewConst`` to write; None keeps the generic form.
Import: ``IMPORT_FORMS[type](node)`` gives (gpugraph op type, input tensors, attrs); ``node`` offers the
input tensors, the constant value of an input (from its Const NodeDef) and the node's attrs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation
from gpugraph.framework.tensor_shape import TensorShape

__all__ = ["EXPORT_FORMS", "IMPORT_FORMS", "ALIASES", "TF_DEFAULTS", "NewConst", "ImportNode"]

# TF op types gpugraph runs under another name.
ALIASES = {"AddV2": "Add", "Div": "RealDiv", "Snapshot": "Identity", "PreventGradient": "Identity",
           "BatchMatMulV2": "BatchMatMul"}


@dataclass(frozen=True)
class NewConst:
    """A Const input TF's form needs, written as ``<op name>/<suffix>``."""

    suffix: str
    value: np.ndarray


class ImportNode(Protocol):
    name: str
    num_inputs: int
    attrs: dict[str, Any]

    def input_name(self, index: int) -> str: ...

    def constant(self, index: int) -> np.ndarray | None: ...


Exported = tuple[str, list[Any], dict[str, Any], set[str]]
# (gpugraph op type, "" for the node's own; indices of the node inputs the op takes; attrs)
Imported = tuple[str, list[int], dict[str, Any]]


def _i32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


def _dtype(op: Operation, i: int = 0) -> dtypes.DType:
    return op.inputs[i].dtype.base_dtype


def _rank(op: Operation) -> int | None:
    return op.inputs[0].shape.ndims


def _const(node: ImportNode, index: int, what: str) -> np.ndarray:
    value = node.constant(index)
    if value is None:
        raise ValueError(f"Node '{node.name}': its {what} (input {index}) must be a constant for gpugraph to "
                         f"build it; {node.input_name(index)} is computed at run time.")
    return value


def _ints(value: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


# --- export ---
def _reduction(op: Operation, ins: list[str]) -> Exported | None:
    axes = op.get_attr("axes")
    if axes is None:
        if _rank(op) is None:
            return None
        axes = range(_rank(op))
    elif isinstance(axes, int):
        axes = (axes,)
    tidx = dtypes.int32
    return (op.type, [ins[0], NewConst("reduction_indices", _i32(list(axes)))],
            {"keep_dims": bool(op.get_attr("keepdims")), "T": _dtype(op), "Tidx": tidx}, {"axes", "keepdims"})


def _shape_input(attr: str, suffix: str, type_attr: str) -> Callable[[Operation, list[str]], Exported | None]:
    def export(op: Operation, ins: list[str]) -> Exported | None:
        value = op.get_attr(attr)
        if isinstance(value, TensorShape):
            if not value.is_fully_defined():
                return None
            value = value.as_list()
        if value is None:
            return None
        return op.type, [ins[0], NewConst(suffix, _i32(list(value)))], {"T": _dtype(op), type_attr: dtypes.int32}, \
            {attr}
    return export


def _transpose(op: Operation, ins: list[str]) -> Exported | None:
    perm = op.get_attr("perm")
    if perm is None:
        if _rank(op) is None:
            return None
        perm = tuple(reversed(range(_rank(op))))
    return "Transpose", [ins[0], NewConst("perm", _i32(list(perm)))], {"T": _dtype(op), "Tperm": dtypes.int32}, \
        {"perm"}


def _fill(op: Operation, ins: list[str]) -> Exported | None:
    shape = op.get_attr("shape")
    if not shape.is_fully_defined():
        return None
    return "Fill", [NewConst("dims", _i32(shape.as_list())), ins[0]], \
        {"T": _dtype(op), "index_type": dtypes.int32}, {"shape"}


def _dynamic(tf_type: str, type_attr: str, shape_input: int, value_input: int):
    def export(op: Operation, ins: list[str]) -> Exported:
        return tf_type, list(ins), {"T": _dtype(op, value_input), type_attr: _dtype(op, shape_input)}, set()
    return export


def _scalar_input(tf_type: str, attr: str, suffix: str, type_attr: str, first: bool = False):
    def export(op: Operation, ins: list[str]) -> Exported:
        axis = NewConst(suffix, _i32(op.get_attr(attr)))
        inputs = [axis, *ins] if first else [*ins, axis]
        tf_attrs: dict[str, Any] = {"T": _dtype(op)}
        if type_attr:
            tf_attrs[type_attr] = dtypes.int32
        return tf_type, inputs, tf_attrs, {attr}
    return export


def _split(op: Operation, ins: list[str]) -> Exported:
    return "Split", [NewConst("split_dim", _i32(op.get_attr("axis"))), ins[0]], \
        {"T": _dtype(op), "num_split": op.get_attr("num_split")}, {"axis", "num_split"}


def _concat(op: Operation, ins: list[str]) -> Exported:
    return "ConcatV2", [*ins, NewConst("axis", _i32(op.get_attr("axis")))], \
        {"T": _dtype(op), "N": len(ins), "Tidx": dtypes.int32}, {"axis"}


def _pack(op: Operation, ins: list[str]) -> Exported:
    return "Pack", list(ins), {"T": _dtype(op), "N": len(ins), "axis": op.get_attr("axis")}, {"axis"}


def _squeeze(op: Operation, ins: list[str]) -> Exported:
    axis = op.get_attr("axis")
    return "Squeeze", list(ins), {"T": _dtype(op), "squeeze_dims": list(axis or ())}, {"axis"}


def _arg(op: Operation, ins: list[str]) -> Exported:
    return op.type, [ins[0], NewConst("dimension", _i32(op.get_attr("axis")))], \
        {"T": _dtype(op), "Tidx": dtypes.int32, "output_type": op.get_attr("output_type")}, {"axis", "output_type"}


def _pad(op: Operation, ins: list[str]) -> Exported | None:
    if op.attrs.get("mode", "CONSTANT") != "CONSTANT" or len(ins) != 1:
        return None
    paddings = NewConst("paddings", _i32(op.get_attr("paddings")).reshape(-1, 2))
    return "Pad", [ins[0], paddings], {"T": _dtype(op), "Tpaddings": dtypes.int32}, {"paddings", "mode"}


def _slice(op: Operation, ins: list[str]) -> Exported:
    return "Slice", [ins[0], NewConst("begin", _i32(op.get_attr("begin"))),
                     NewConst("size", _i32(op.get_attr("size")))], \
        {"T": _dtype(op), "Index": dtypes.int32}, {"begin", "size"}


def _softmax(op: Operation, ins: list[str]) -> Exported | None:
    axis, rank = op.get_attr("axis"), _rank(op)
    if axis != -1 and (rank is None or axis != rank - 1):
        return None  # TF's Softmax works on the last axis only
    return op.type, list(ins), {"T": _dtype(op)}, {"axis"}


def _cast(op: Operation, ins: list[str]) -> Exported:
    return "Cast", list(ins), {"SrcT": _dtype(op), "DstT": op.get_attr("DstT"), "Truncate": False}, {"DstT"}


def _variable(op: Operation, ins: list[str]) -> Exported:
    return "VariableV2", [], {"shape": op.get_attr("shape"), "dtype": op.get_attr("dtype").base_dtype,
                              "container": "", "shared_name": ""}, {"shape", "dtype"}


def _assign(op: Operation, ins: list[str]) -> Exported:
    attrs = op.attrs
    tf_attrs = {"T": _dtype(op), "validate_shape": bool(attrs.get("validate_shape", True)),
                "use_locking": bool(attrs.get("use_locking", True))}
    return "Assign", list(ins), tf_attrs, {"validate_shape", "use_locking"}


def _strided_slice(op: Operation, ins: list[str]) -> Exported | None:
    if len(ins) != 1:
        return None  # run-time indices: no TF form with constant begin/end/strides
    begin, end, strides = [], [], []
    masks = dict.fromkeys(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"), 0)
    for i, item in enumerate(op.get_attr("spec")):
        bit = 1 << i
        b, e, step = 0, 0, 1
        if item is Ellipsis:
            masks["ellipsis_mask"] |= bit
        elif item is None:
            masks["new_axis_mask"] |= bit
        elif isinstance(item, slice):
            b, e, step = item.start or 0, item.stop or 0, 1 if item.step is None else item.step
            masks["begin_mask"] |= bit if item.start is None else 0
            masks["end_mask"] |= bit if item.stop is None else 0
        elif isinstance(item, (int, np.integer)):
            b, e = int(item), int(item) + 1
            masks["shrink_axis_mask"] |= bit
        else:
            return None
        begin.append(b)
        end.append(e)
        strides.append(step)
    inputs = [ins[0], NewConst("stack", _i32(begin)), NewConst("stack_1", _i32(end)),
              NewConst("stack_2", _i32(strides))]
    return "StridedSlice", inputs, {"T": _dtype(op), "Index": dtypes.int32, **masks}, {"spec"}


EXPORT_FORMS: dict[str, Callable[[Operation, list[str]], Exported | None]] = {
    **{t: _reduction for t in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any")},
    "Reshape": _shape_input("shape", "shape", "Tshape"),
    "Tile": _shape_input("multiples", "multiples", "Tmultiples"),
    "DynamicReshape": _dynamic("Reshape", "Tshape", 1, 0),
    "DynamicFill": _dynamic("Fill", "index_type", 0, 1),
    "DynamicTile": _dynamic("Tile", "Tmultiples", 1, 0),
    "Fill": _fill, "Transpose": _transpose, "Split": _split, "ConcatV2": _concat, "Pack": _pack,
    "ExpandDims": _scalar_input("ExpandDims", "axis", "dim", "Tdim"),
    "Squeeze": _squeeze, "ArgMax": _arg, "ArgMin": _arg, "Pad": _pad, "Slice": _slice,
    "Softmax": _softmax, "LogSoftmax": _softmax, "Cast": _cast, "VariableV2": _variable, "Assign": _assign,
    "StridedSlice": _strided_slice,
}


# --- import ---
def _import_reduction(node: ImportNode) -> Imported:
    axes = _ints(_const(node, 1, "reduction_indices"))
    return "", [0], {"axes": axes, "keepdims": bool(node.attrs.get("keep_dims", False))}


def _import_shaped(attr: str, dynamic: str, shape_input: int, as_shape: bool = False):
    def build(node: ImportNode) -> Imported:
        value = node.constant(shape_input)
        if value is None:
            return dynamic, list(range(node.num_inputs)), {}
        kept = [i for i in range(node.num_inputs) if i != shape_input]
        ints = _ints(value)
        return "", kept, {attr: TensorShape(ints) if as_shape else ints}
    return build


def _import_axis(attr: str, index: int, what: str, extra: tuple[str, ...] = ()):
    def build(node: ImportNode) -> Imported:
        position = index % node.num_inputs
        kept = [i for i in range(node.num_inputs) if i != position]
        attrs = {attr: _ints(_const(node, position, what))[0]}
        attrs.update({k: node.attrs[k] for k in extra if k in node.attrs})
        return "", kept, attrs
    return build


def _import_transpose(node: ImportNode) -> Imported:
    return "", [0], {"perm": _ints(_const(node, 1, "perm"))}


def _import_squeeze(node: ImportNode) -> Imported:
    dims = tuple(node.attrs.get("squeeze_dims", ()))
    return "", [0], {"axis": dims or None}


def _import_pad(node: ImportNode) -> Imported:
    paddings = np.asarray(_const(node, 1, "paddings")).reshape(-1, 2)
    return "", [0], {"paddings": tuple(tuple(int(v) for v in row) for row in paddings)}


def _import_slice(node: ImportNode) -> Imported:
    return "", [0], {"begin": _ints(_const(node, 1, "begin")), "size": _ints(_const(node, 2, "size"))}


def _import_split(node: ImportNode) -> Imported:
    axis = _ints(_const(node, 0, "split_dim"))[0]
    return "", [1], {"axis": axis, "num_split": int(node.attrs["num_split"])}


def _import_softmax(node: ImportNode) -> Imported:
    return "", [0], {"axis": node.attrs.get("axis", -1)}  # gpugraph writes an axis TF's form lacks


def _import_strided_slice(node: ImportNode) -> Imported:
    begin, end = _ints(_const(node, 1, "begin")), _ints(_const(node, 2, "end"))
    strides = _ints(_const(node, 3, "strides"))
    mask = {k: int(node.attrs.get(k, 0)) for k in
            ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
    spec: list[Any] = []
    for i, (b, e, step) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if mask["ellipsis_mask"] & bit:
            spec.append(Ellipsis)
        elif mask["new_axis_mask"] & bit:
            spec.append(None)
        elif mask["shrink_axis_mask"] & bit:
            spec.append(b)
        else:
            spec.append(slice(None if mask["begin_mask"] & bit else b, None if mask["end_mask"] & bit else e, step))
    return "", [0], {"spec": tuple(spec)}


# TF's defaults for attrs a GraphDef may leave out (stripped of default attrs, or hand-written).
TF_DEFAULTS: dict[str, dict[str, Any]] = {
    "Placeholder": {"shape": TensorShape(None)},
    "PlaceholderWithDefault": {"shape": TensorShape(None)},
    "MatMul": {"transpose_a": False, "transpose_b": False},
    "BiasAdd": {"data_format": "NHWC"},
    "Assign": {"validate_shape": True, "use_locking": True},
    "Pack": {"axis": 0},
    "Unpack": {"axis": 0},
    "ArgMax": {"output_type": dtypes.int64},
    "ArgMin": {"output_type": dtypes.int64},
    "Shape": {"out_type": dtypes.int32},
    "Size": {"out_type": dtypes.int32},
}


IMPORT_FORMS: dict[str, Callable[[ImportNode], Imported]] = {
    **{t: _import_reduction for t in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any")},
    "Reshape": _import_shaped("shape", "DynamicReshape", 1),
    "Tile": _import_shaped("multiples", "DynamicTile", 1),
    "Fill": _import_shaped("shape", "DynamicFill", 0, as_shape=True),
    "Transpose": _import_transpose, "Squeeze": _import_squeeze, "Pad": _import_pad, "Slice": _import_slice,
    "Split": _import_split,
    "ConcatV2": _import_axis("axis", -1, "axis"),
    "ExpandDims": _import_axis("axis", 1, "dim"),
    "ArgMax": _import_axis("axis", 1, "dimension", ("output_type",)),
    "ArgMin": _import_axis("axis", 1, "dimension", ("output_type",)),
    "Softmax": _import_softmax, "LogSoftmax": _import_softmax, "StridedSlice": _import_strided_slice,
}
