"""The region IR: a frozen DAG of elementwise ops that runs as one kernel.

A ``Region`` has inputs (dtype and static shape, possibly broadcast), nodes in evaluation order (op type,
the attrs that change the code, operands referring to region inputs or earlier nodes, result dtype) and
outputs. ``Region.key`` is its structure alone (op types, wiring, dtypes, attrs, which inputs are scalars):
two regions with one key run the same kernel, whatever session or graph they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.fusion.rules import FUSED_DTYPES, RULES, kind

Shape = tuple[int | None, ...] | None  # None: rank unknown


class NotFusible(ValueError):
    """An op or tensor that cannot be part of a fused region (the message names it)."""


@dataclass(frozen=True)
class Ref:
    """An operand: region input ``index`` (``is_input``) or the result of node ``index``."""

    is_input: bool
    index: int


@dataclass(frozen=True)
class RegionInput:
    dtype: str  # NumPy dtype name
    shape: Shape

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()


@dataclass(frozen=True)
class RegionNode:
    op_type: str
    operands: tuple[Ref, ...]
    dtype: str  # result dtype
    attrs: tuple[tuple[str, Any], ...] = ()  # only those that change the generated code

    @property
    def attr_dict(self) -> dict[str, Any]:
        return dict(self.attrs)


@dataclass(frozen=True)
class Region:
    inputs: tuple[RegionInput, ...]
    nodes: tuple[RegionNode, ...]
    outputs: tuple[Ref, ...]

    def __post_init__(self) -> None:
        for k, node in enumerate(self.nodes):
            for ref in node.operands:
                limit = len(self.inputs) if ref.is_input else k
                if not 0 <= ref.index < limit:
                    raise NotFusible(f"node {k} ({node.op_type}) refers to {ref}, which is not defined before it")
        for ref in self.outputs:
            if not 0 <= ref.index < (len(self.inputs) if ref.is_input else len(self.nodes)):
                raise NotFusible(f"region output {ref} is not defined")

    @property
    def key(self) -> tuple[Any, ...]:
        """The structural key: kernels are cached by it."""
        return (tuple((i.dtype, i.is_scalar) for i in self.inputs),
                tuple((n.op_type, n.operands, n.dtype, n.attrs) for n in self.nodes),
                self.outputs)

    def dtype_of(self, ref: Ref) -> str:
        return self.inputs[ref.index].dtype if ref.is_input else self.nodes[ref.index].dtype

    def output_shapes(self, input_shapes: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Each output's shape: the broadcast of the inputs it depends on (a kernel iterates over the
        broadcast of all inputs; see :func:`shrink`)."""
        deps: list[frozenset[int]] = []
        for node in self.nodes:
            deps.append(frozenset().union(*({r.index} if r.is_input else deps[r.index] for r in node.operands)))

        def shape(ref: Ref) -> tuple[int, ...]:
            used = {ref.index} if ref.is_input else deps[ref.index]
            return tuple(np.broadcast_shapes(*(input_shapes[k] for k in sorted(used)))) if used else ()
        return [shape(r) for r in self.outputs]

    def last_uses(self) -> dict[Ref, int]:
        """For each node result, the index of the last node reading it (outputs: past the end)."""
        last: dict[Ref, int] = {}
        for k, node in enumerate(self.nodes):
            for ref in node.operands:
                last[ref] = k
        for ref in self.outputs:
            last[ref] = len(self.nodes)
        return last


def shrink(full: Any, shape: tuple[int, ...]) -> Any:
    """An output computed over the whole iteration space cut to its own ``shape`` (its values repeat along
    the dimensions it does not depend on): a view when nothing is cut."""
    if full.shape == shape:
        return full
    lead = full.ndim - len(shape)
    index = (0,) * lead + tuple(slice(0, 1) if want == 1 else slice(None) for want in shape)
    return full[index].copy()


_NAMES: dict[Any, str] = {}


def tensor_dtype(t: Tensor) -> str:
    """The NumPy name of a tensor's dtype (numpy.dtype.name costs a microsecond: looked up once per dtype)."""
    dtype = t.dtype.base_dtype
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = dtype.np_dtype.name
    return name


def _dtype_name(value: Any) -> str | None:
    if value is None:
        return None
    np_dtype = getattr(value, "np_dtype", None)
    return np.dtype(np_dtype if np_dtype is not None else value).name


def _code_attrs(op: Operation) -> tuple[tuple[str, Any], ...]:
    attrs = []
    for name in RULES[op.type].attrs:
        value = op.attrs.get(name)
        if name in ("DstT", "dtype"):
            value = _dtype_name(value)
        elif value is not None:
            value = float(value)
        attrs.append((name, value))
    return tuple(attrs)


def check_node(op_type: str, dtypes: Sequence[str], attrs: dict[str, Any], where: str) -> str:
    """The result dtype of ``op_type`` on inputs of ``dtypes``; NotFusible when it does not fuse."""
    rule = RULES.get(op_type)
    if rule is None:
        raise NotFusible(f"{where}: op type {op_type} is not elementwise-fusible")
    if len(dtypes) != rule.arity:
        raise NotFusible(f"{where}: {op_type} takes {rule.arity} inputs, got {len(dtypes)}")
    for d in dtypes:
        if d not in FUSED_DTYPES:
            raise NotFusible(f"{where}: dtype {d} is not fused")
    data = dtypes[1:] if op_type == "Select" else dtypes
    if op_type == "Select" and dtypes[0] != "bool":
        raise NotFusible(f"{where}: Select's condition is {dtypes[0]}, not bool")
    if len(set(data)) != 1 or kind(data[0]) not in rule.kinds:
        raise NotFusible(f"{where}: {op_type} does not fuse for inputs of {', '.join(dtypes)}")
    result = rule.result(tuple(dtypes), attrs)
    if result not in FUSED_DTYPES:
        raise NotFusible(f"{where}: result dtype {result} is not fused")
    return result


def _static_shape(t: Tensor) -> Shape:
    return t.shape.as_tuple()


def _check_select_shapes(op: Operation) -> None:
    # TF1's Select with a vector condition picks rows of higher-rank data: not an elementwise broadcast.
    cond, x, y = (_static_shape(t) for t in op.inputs)
    ranks = {len(s) for s in (cond, x, y) if s is not None}
    if cond is None or (len(cond) == 1 and (x is None or y is None or max(len(x), len(y)) > 1)):
        if not (cond == x == y and cond is not None):
            raise NotFusible(f"'{op.name}': Select's condition {cond} may select rows, not elements")
    elif len(ranks) > 1 and len(cond) not in (0, max(ranks)):
        raise NotFusible(f"'{op.name}': Select's condition {cond} may select rows, not elements")


def check_bias_layout(op: Operation) -> None:
    """BiasAdd fuses as an Add where its bias broadcasts as Add's would: over the last axis (NHWC)."""
    if op.type == "BiasAdd" and op.get_attr("data_format") not in (None, "NHWC"):
        raise NotFusible(f"'{op.name}': BiasAdd over {op.get_attr('data_format')} adds along the channel axis, "
                         "not the last")


def region_from_ops(ops: Iterable[Operation], external_inputs: Sequence[Tensor],
                    outputs: Sequence[Tensor]) -> Region:
    """The region computing ``outputs`` from ``external_inputs`` by ``ops`` (in topological order)."""
    refs: dict[Tensor, Ref] = {}
    inputs = []
    for k, t in enumerate(external_inputs):
        if t in refs:
            raise NotFusible(f"{t.name} is given twice as a region input")
        refs[t] = Ref(True, k)
        inputs.append(RegionInput(tensor_dtype(t), _static_shape(t)))
    nodes: list[RegionNode] = []
    for op in ops:
        if len(op.outputs) != 1:
            raise NotFusible(f"'{op.name}' ({op.type}) has {len(op.outputs)} outputs; fused ops have one")
        if op.type == "Select":
            _check_select_shapes(op)
        check_bias_layout(op)
        operands = []
        for t in op.inputs:
            if t not in refs:
                raise NotFusible(f"'{op.name}' reads {t.name}, which is neither a region input nor computed before")
            operands.append(refs[t])
        attrs = _code_attrs(op) if op.type in RULES else ()
        dtypes = [tensor_dtype(t) for t in op.inputs]
        result = check_node(op.type, dtypes, dict(attrs), f"'{op.name}'")
        if result != tensor_dtype(op.outputs[0]):
            raise NotFusible(f"'{op.name}': result dtype {result} differs from {op.outputs[0].dtype.name}")
        refs[op.outputs[0]] = Ref(False, len(nodes))
        nodes.append(RegionNode(op.type, tuple(operands), result, attrs))
    out_refs = []
    for t in outputs:
        if t not in refs:
            raise NotFusible(f"region output {t.name} is not computed by the region")
        out_refs.append(refs[t])
    return Region(tuple(inputs), tuple(nodes), tuple(out_refs))


def is_fusible(op: Operation) -> bool:
    """Whether ``op`` may join a fused region (its type, dtypes and, for Select, shapes allow it)."""
    if op.type not in RULES or len(op.outputs) != 1:
        return False
    try:
        if op.type == "Select":
            _check_select_shapes(op)
        check_bias_layout(op)
        check_node(op.type, [tensor_dtype(t) for t in op.inputs], dict(_code_attrs(op)), op.name)
    except NotFusible:
        return False
    return True
