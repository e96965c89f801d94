"""One op, one record: OpDef holds shape inference, lowering, gradient and test sample of an op."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, _tracing, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape

if TYPE_CHECKING:
    import numpy as np

Spec = tuple[TensorShape, dtypes.DType]
# A sample for the conformance test: (input arrays, attrs) drawn from a NumPy Generator.
Sample = tuple[list["np.ndarray"], dict[str, Any]]


def _no_gradient(op: Operation, *dys: Any) -> list[None]:
    return [None] * len(op.inputs)


NO_GRADIENT: Callable[..., Any] = _no_gradient


@dataclass(frozen=True, eq=False)
class OpDef:
    """The whole definition of one primitive op.

    infer(*input_tensors, **attrs) -> Spec | list[Spec]: static shapes and dtypes; raises
        ValueError/TypeError on bad input, which the builder re-raises naming the op.
    impl(xp, *arrays, **attrs) -> array | tuple: the lowering; xp is numpy or cupy.
    grad(op, *output_grads) -> one graph tensor (or None) per input; None means TF1 has none.
    bind(op, ctx) -> step: for ops that need session state (variables, feeds, random streams).
    ref_input: how many leading inputs are variables written in place (True = 1); the step gets
        their cells through ``bind``, not their values, so they are not data dependencies.
    aliases: output may be a view of input 0 (the session copies such fetches).
    stateful: never folded or deduplicated.
    fresh_outputs: a stateful op whose outputs are new arrays each run, never session storage, so a
        fetch of them is handed over as it is (by default a stateful op's fetched outputs are copied).
    role: what the plan compiler must know of a stateful op: "feed" (must be fed), "variable"
        (reads a session cell: checked for initialization), "initializer" (may set a cell).
    gpu: has a GPU lowering (impl is backend-neutral, or bind works with cupy); False keeps the
        op on the host, as ops drawing from NumPy Generators or building host-only values.
    sample(rng) -> list[Sample]: inputs for the conformance test.
    lowering(op, xp) -> step function or None: a leaner function than ``impl`` with the op's attributes
        bound, where the op's own cost is small next to a generic call's (a scalar's mean, an index by
        constants); None falls back to ``impl``.
    shape_only: positions of inputs that ``impl`` reads only the shape and dtype of (SumToShape's
        ``like``): the plan hands it a stand-in holding no memory, so the input's buffer can go earlier.
    """

    name: str
    infer: Callable[..., Any]
    impl: Callable[..., Any] | None = None
    grad: Callable[..., Any] | None = None
    cuda: str | None = None
    input_names: tuple[str, ...] = ("x", "y", "z")
    same_dtype: bool = True
    stateful: bool = False
    fresh_outputs: bool = False
    ref_input: int = 0
    aliases: bool = False
    bind: Callable[..., Any] | None = None
    sample: Callable[..., list[Sample]] | None = None
    default_name: str | None = None
    role: str = ""
    gpu: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    lowering: Callable[..., Any] | None = None
    shape_only: tuple[int, ...] = ()

    def __call__(self, *inputs: Any, name: str | None = None, **attrs: Any) -> Any:
        """Add this op to the graph of its inputs; returns its Tensor, Tensors, or the Operation."""
        graph = graph_of(inputs)
        with graph.as_default(), graph.name_scope(name or self.default_name or self.name) as scope:
            tensors = convert_inputs(self, inputs)
            specs = run_infer(self, tensors, attrs, scope[:-1])
            op = graph.create_op(self, tensors, attrs, specs, name=scope[:-1])
        outs = op.outputs
        if not outs:
            return op
        return outs[0] if len(outs) == 1 else outs

    def __repr__(self) -> str:
        return f"OpDef({self.name!r})"


REGISTRY: dict[str, OpDef] = {}


def register_op(opdef: OpDef) -> OpDef:
    if opdef.name in REGISTRY:
        raise ValueError(f"Op type '{opdef.name}' is already registered")
    REGISTRY[opdef.name] = opdef
    return opdef


def graph_of(values: Sequence[Any]) -> Graph:
    """The one graph all graph-element inputs belong to (default graph if none)."""
    if _tracing[0]:
        traced = _function_graph_of(values)
        if traced is not None:
            return traced
    found: Graph | None = None
    for v in values:
        g = _graph_attr(v)
        if g is None:
            continue
        if found is None:
            found = g
        elif g is not found:
            raise ValueError(f"{getattr(v, 'name', v)!s} must be from the same graph as the other inputs.")
    return found if found is not None else get_default_graph()


def _function_graph_of(values: Sequence[Any]) -> Graph | None:
    """While a function graph is traced, inputs of enclosing graphs are captured into it."""
    from gpugraph.framework.func_graph import current_function_graph

    g = current_function_graph()
    if g is None:
        return None
    for v in values:
        vg = _graph_attr(v)
        if vg is not None and vg is not g and not g.is_enclosed_by(vg):
            return None  # not ours to capture: the usual check names the mismatch
    return g


def _graph_attr(v: Any) -> Graph | None:
    if isinstance(v, (Tensor, Operation)):
        return v.graph
    if hasattr(v, "_as_tensor") and hasattr(v, "graph"):
        return v.graph
    return None


def convert_inputs(opdef: OpDef, inputs: Sequence[Any]) -> list[Tensor]:
    from gpugraph.ops.constant_ops import convert_to_tensor

    names = opdef.input_names
    hint: dtypes.DType | None = None
    if opdef.same_dtype:
        for v in inputs:
            dt = getattr(v, "dtype", None)
            if isinstance(v, Tensor) or (hasattr(v, "_as_tensor") and isinstance(dt, dtypes.DType)):
                hint = dt.base_dtype  # type: ignore[union-attr]
                break
    out: list[Tensor] = []
    for i, v in enumerate(inputs):
        arg_name = names[i] if i < len(names) else names[-1] if names else "input"
        if i < opdef.ref_input:
            ref = v._ref() if hasattr(v, "_ref") else v
            if _tracing[0]:
                _check_outer_ref(opdef, ref)
            out.append(ref)
            continue
        # Only plain values take the hint; a Tensor of another dtype reaches _check_same_dtype,
        # whose TypeError names the op and both inputs, as TF1's does.
        is_graph_value = isinstance(v, Tensor) or hasattr(v, "_as_tensor")
        want = hint if opdef.same_dtype and not is_graph_value else None
        try:
            t = convert_to_tensor(v, dtype=want, name=arg_name)
        except (TypeError, ValueError) as e:
            raise type(e)(f"Input '{arg_name}' of '{opdef.name}' Op: {e}") from None
        if opdef.same_dtype and hint is None:
            hint = t.dtype.base_dtype
        out.append(t)
    if opdef.same_dtype:
        _check_same_dtype(opdef, out)
    return out


def _check_outer_ref(opdef: OpDef, ref: Any) -> None:
    """A control-flow function may update a variable of an enclosing graph in place: the ref stays an
    input from that graph (not a capture) and the step binds the session's cell, as outside."""
    from gpugraph.framework.func_graph import current_function_graph

    g = current_function_graph()
    if g is None or not isinstance(ref, Tensor) or ref.graph is g or not g.is_enclosed_by(ref.graph):
        return
    if ref.op.opdef.role != "variable":
        raise ValueError(f"'{opdef.name}' inside the control-flow function '{g.name}' updates {ref.name}, "
                         f"which is not a variable of an enclosing graph.")


def _check_same_dtype(opdef: OpDef, tensors: list[Tensor]) -> None:
    start = int(opdef.ref_input)
    if len(tensors) <= start:
        return
    first = tensors[start].dtype.base_dtype
    for i, t in enumerate(tensors[start:], start):
        if t.dtype.base_dtype != first:
            arg = opdef.input_names[min(i, len(opdef.input_names) - 1)]
            raise TypeError(
                f"Input '{arg}' of '{opdef.name}' Op has type {t.dtype.base_dtype.name} that does not "
                f"match type {first.name} of argument '{opdef.input_names[start]}' "
                f"(tensors {tensors[start].name} and {t.name})."
            )


def _shape_str(t: Tensor) -> str:
    dims = t.shape.as_tuple()
    if dims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def run_infer(opdef: OpDef, tensors: list[Tensor], attrs: dict[str, Any], op_name: str) -> list[Spec]:
    try:
        specs = opdef.infer(*tensors, **attrs)
    except (ValueError, TypeError) as e:
        shapes = ", ".join(_shape_str(t) for t in tensors)
        raise type(e)(f"{e} for '{op_name}' (op: '{opdef.name}') with input shapes: {shapes}.") from None
    if specs is None:
        return []
    if isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[1], dtypes.DType):
        specs = [specs]
    return [(TensorShape(s), dtypes.as_dtype(d)) for s, d in specs]
