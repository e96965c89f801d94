"""Functional loops: the While op (cond and body sub-graphs compiled to sub-plans), its gradient, tf.while_loop.

The forward While keeps each iteration's loop variables, and the body's intermediates that the gradient
reads (as TF1's loops push them on stacks), only when a gradient in the same plan reads them (its last
output, the history); WhileGrad then runs the body's VJP sub-plan backwards over them, fed the kept
intermediates instead of recomputing the body.
"""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework import dtypes
from gpugraph.framework.func_graph import Function
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.cond_ops import (add_inputs, branch_gradient, captured_inputs, compile_function, flatten,
                                   match_captures, new_function_graph, pack_as, run_function)
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["while_loop"]

_HISTORY_SPEC = (TensorShape(()), dtypes.int32)  # an opaque host list: the per-iteration loop variables


def _while_infer(*inputs: Tensor, cond: Function, body: Function, n_vars: int, output_specs: tuple[Any, ...],
                 back_prop: bool, parallel_iterations: int) -> list[Any]:
    return list(output_specs) + ([_HISTORY_SPEC] if back_prop else [])


class _History(list):
    """Per iteration: (loop variables, kept intermediates); ``kept`` maps a body tensor to its position."""

    def __init__(self, kept: dict[Tensor, int]):
        super().__init__()
        self.kept = kept


def _bind_while(op: Operation, ctx: Any) -> Callable[..., Any]:
    from gpugraph.compiler.pipeline import compile_plan, ops_in_plan

    cond_plan = compile_function(op.get_attr("cond"), ctx)
    body: Function = op.get_attr("body")
    n = op.get_attr("n_vars")
    has_history = op.get_attr("back_prop")
    plan_ops = ops_in_plan()
    readers = [c for c in op.outputs[n].consumers() if c in plan_ops] if has_history else []
    kept: dict[Tensor, int] = {}
    for reader in readers:  # the intermediates each gradient of this loop is fed
        for t in _saved_inputs(reader):
            kept.setdefault(t, len(kept))
    body_plan = compile_plan(list(body.outputs) + list(kept), list(body.inputs), ctx)
    n_out = len(body.outputs)

    def step(*args: Any) -> Any:
        loop, captured = list(args[:n]), list(args[n:])
        history: _History | None = _History(kept) if readers else None
        # the predicate is the loop's one device-to-host read per iteration
        while bool(run_function(cond_plan, loop + captured)[0]):
            out = run_function(body_plan, loop + captured)
            if history is not None:
                history.append((loop, out[n_out:]))
            loop = out[:n_out]
        if has_history:
            return (*loop, history)
        return tuple(loop) if n != 1 else loop[0]
    return step


def _saved_inputs(grad_op: Operation) -> tuple[Tensor, ...]:
    n_saved = grad_op.get_attr("n_saved")
    inputs = grad_op.get_attr("grad_body").inputs
    return tuple(inputs[len(inputs) - n_saved:]) if n_saved else ()


def _intermediates_read(body: Function, grad_body: Function) -> list[Tensor]:
    """Tensors the body computes that its VJP reads: kept in the forward pass, not recomputed.

    Outputs of nested loops are recomputed instead (their gradient needs their own history).
    """
    from gpugraph.framework.traversal import needed_ops

    fed = set(grad_body.inputs)
    forward = set(needed_ops(list(body.outputs), set(body.inputs)))
    backward = set(needed_ops(list(grad_body.outputs), fed))
    saved: list[Tensor] = []
    for op in body.graph.get_operations():
        if op not in backward or op in forward:
            continue
        for t in op.inputs:
            if t.op in forward and t not in fed and t.op.type not in ("Const", "While") and t not in saved:
                saved.append(t)
    return saved


def _while_grad(op: Operation, *dys: Tensor | None) -> list[Tensor | None]:
    if not op.get_attr("back_prop"):
        return [None] * len(op.inputs)
    from gpugraph.ops.array_ops import zeros_like

    n = op.get_attr("n_vars")
    body: Function = op.get_attr("body")
    n_caps = len(op.inputs) - n
    float_vars = [j for j in range(n) if op.inputs[j].dtype.base_dtype.is_floating]
    float_caps = [k for k in range(n_caps) if op.inputs[n + k].dtype.base_dtype.is_floating]
    if not float_vars and not float_caps:
        return [None] * len(op.inputs)
    vjp_dys = [None] * len(body.outputs)
    for j in float_vars:
        vjp_dys[j] = dys[j] if dys[j] is not None else zeros_like(op.outputs[j])
    grad_body = branch_gradient(body, vjp_dys, float_vars + [n + k for k in float_caps])
    saved = _intermediates_read(body, grad_body)
    grad_body = Function(grad_body.graph, grad_body.inputs + tuple(saved), grad_body.outputs)
    specs = tuple((op.inputs[i].shape, op.inputs[i].dtype.base_dtype) for i in float_vars + [n + k for k in float_caps])
    res = WHILE_GRAD(op.outputs[n], *[vjp_dys[j] for j in float_vars], *op.inputs[n:], grad_body=grad_body,
                     n_float_vars=len(float_vars), float_caps=tuple(float_caps), n_saved=len(saved),
                     output_specs=specs, name="WhileGrad")
    res = [res] if isinstance(res, Tensor) else list(res)
    grads: list[Tensor | None] = [None] * len(op.inputs)
    for i, g in zip(float_vars + [n + k for k in float_caps], res):
        grads[i] = g
    return grads


WHILE = register_op(OpDef(
    "While", infer=_while_infer, bind=_bind_while, grad=_while_grad, stateful=True, same_dtype=False,
    input_names=("input",),
))


def _while_grad_infer(history: Tensor, *rest: Tensor, grad_body: Function, n_float_vars: int,
                      float_caps: tuple[int, ...], n_saved: int, output_specs: tuple[Any, ...]) -> list[Any]:
    return list(output_specs)


def _zeros_of(xp: Any, value: Any) -> Any:
    from gpugraph.ops.tensor_array_ops import TensorArrayValue

    if isinstance(value, TensorArrayValue):
        return value.zero_gradient()
    return xp.zeros_like(value)


def _own(xp: Any, value: Any) -> Any:
    """A copy of an array gradient, safe to add into in place (it may alias a value of the plan)."""
    return xp.array(value, copy=True) if isinstance(value, xp.ndarray) else value


def _accumulate(total: Any, part: Any) -> Any:
    if type(total) is type(part) and getattr(total, "shape", None) == getattr(part, "shape", ()) and \
            hasattr(total, "dtype") and total.dtype == part.dtype:
        total += part  # an owned array: no new buffer per iteration
        return total
    return total + part


def _bind_while_grad(op: Operation, ctx: Any) -> Callable[..., Any]:
    plan = compile_function(op.get_attr("grad_body"), ctx)
    nf = op.get_attr("n_float_vars")
    float_caps = op.get_attr("float_caps")
    saved = _saved_inputs(op)
    xp = ctx.backend.xp

    def step(history: Any, *rest: Any) -> Any:
        dvars, captured = list(rest[:nf]), list(rest[nf:])
        dcaps: list[Any] | None = None
        where = [history.kept[t] for t in saved]
        for loop, kept in reversed(history):  # iteration i's VJP, fed its kept intermediates: d(out) -> d(in)
            out = run_function(plan, list(loop) + captured + dvars + [kept[k] for k in where])
            dvars, step_dcaps = out[:nf], out[nf:]
            dcaps = [_own(xp, d) for d in step_dcaps] if dcaps is None else \
                [_accumulate(a, b) for a, b in zip(dcaps, step_dcaps)]
        if dcaps is None:
            dcaps = [_zeros_of(xp, captured[k]) for k in float_caps]
        out = (*dvars, *dcaps)
        return out if len(out) != 1 else out[0]
    return step


WHILE_GRAD = register_op(OpDef(
    "WhileGrad", infer=_while_grad_infer, bind=_bind_while_grad, grad=NO_GRADIENT, stateful=True,
    same_dtype=False, input_names=("history", "input"),
))


# --- tf.while_loop ---
def _fits(shape: TensorShape, invariant: TensorShape) -> bool:
    """``shape`` is as specific as ``invariant`` or more (TF1's _ShapeLessThanOrEqual)."""
    inv = invariant.as_tuple()
    if inv is None:
        return True
    dims = shape.as_tuple()
    if dims is None or len(dims) != len(inv):
        return False
    return all(i is None or d == i for d, i in zip(dims, inv))


def _shape_text(shape: TensorShape) -> str:
    dims = shape.as_tuple()
    if dims is None:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _to_flow(x: Any) -> Any:
    from gpugraph.ops.tensor_array_ops import TensorArray

    return x.flow if isinstance(x, TensorArray) else x


def _like(template: Any, t: Tensor) -> Any:
    from gpugraph.ops.tensor_array_ops import TensorArray

    return template._with_flow(t) if isinstance(template, TensorArray) else t


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               name: str | None = None, maximum_iterations: Any = None, return_same_structure: bool = False) -> Any:
    """Repeat ``body`` while ``cond`` is true; loop variables may be nested structures and TensorArrays."""
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if isinstance(loop_vars, (list, tuple)) and not loop_vars:
        raise ValueError("No loop variables provided")
    outer = get_default_graph()
    with outer.name_scope(name or "while") as scope:
        single = not isinstance(loop_vars, (list, tuple))
        structure: Any = [loop_vars] if single else loop_vars
        if single and shape_invariants is not None:
            shape_invariants = [shape_invariants]

        n_user_vars = len(structure)

        def run_body(*vars_: Any) -> Any:
            out = body(*vars_)
            if n_user_vars == 1 and not isinstance(out, (list, tuple)):
                out = [out]  # TF1 accepts a bare value for a single loop variable
            return out

        def run_cond(*vars_: Any) -> Any:
            return cond(*vars_)

        if maximum_iterations is not None:  # TF1 adds an iteration counter as the first loop variable
            limit = convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if limit.shape.ndims not in (None, 0):
                raise ValueError(f"maximum_iterations must be a scalar, saw shape: {limit.shape}")
            user_structure = structure
            structure = (convert_to_tensor(0, dtype=limit.dtype.base_dtype, name="iteration_counter"), structure)
            if shape_invariants is not None:
                shape_invariants = (TensorShape(()), shape_invariants)
            inner_cond, inner_body = run_cond, run_body

            def run_cond(i: Any, rest: Any) -> Any:  # type: ignore[misc]
                from gpugraph.ops.math_ops import less, logical_and

                return logical_and(less(i, limit), inner_cond(*rest))

            def run_body(i: Any, rest: Any) -> Any:  # type: ignore[misc]
                out = inner_body(*rest)
                if not _same_length(out, user_structure):
                    raise ValueError("The two structures don't have the same nested structure.\n\n"
                                     f"First structure: {user_structure!r}\n\nSecond structure: {out!r}")
                return (i + 1, out)
        templates = flatten(structure)
        flat = [convert_to_tensor(_to_flow(v)) for v in templates]
        invariants = [TensorShape(s) for s in flatten(shape_invariants)] if shape_invariants is not None else \
            [t.shape for t in flat]
        if len(invariants) != len(flat):
            raise ValueError("shape_invariants must have the same structure as loop_vars")
        for t, inv in zip(flat, invariants):
            if not _fits(t.shape, inv):
                raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                                 f"shape of the loop variable. It enters the loop with shape {_shape_text(t.shape)}, "
                                 f"but the specified shape invariant is {_shape_text(inv)}.")
        specs = [(inv, t.dtype.base_dtype) for t, inv in zip(flat, invariants)]
        names: dict[str, int] = {}
        g_cond = new_function_graph("while_cond", scope[:-1], names)
        g_body = new_function_graph("while_body", scope[:-1], names)
        cond_in = add_inputs(g_cond, specs, "Identity")
        body_in = add_inputs(g_body, specs, "Identity")
        with g_cond.as_default():
            pred = convert_to_tensor(run_cond(*pack_as(structure, [_like(v, t) for v, t in zip(templates, cond_in)])))
            if pred.dtype.base_dtype != dtypes.bool_:
                raise TypeError(f"cond of tf.while_loop must return a boolean tensor, got {pred.dtype.name}")
        with g_body.as_default():
            result = run_body(*pack_as(structure, [_like(v, t) for v, t in zip(templates, body_in)]))
            out_flat = [convert_to_tensor(_to_flow(v)) for v in flatten(result)]
        if len(out_flat) != len(flat):
            raise ValueError("The two structures don't have the same nested structure.\n\n"
                             f"First structure: {structure!r}\n\nSecond structure: {result!r}")
        for t, out, inv in zip(flat, out_flat, invariants):
            if out.dtype.base_dtype != t.dtype.base_dtype:
                raise ValueError(f"Loop variable {t.name} enters the loop with type {t.dtype.name}, but has type "
                                 f"{out.dtype.name} after one iteration.")
            if not _fits(out.shape, inv):
                raise ValueError(f"Input tensor '{t.name}' enters the loop with shape {_shape_text(inv)}, but has "
                                 f"shape {_shape_text(out.shape)} after one iteration. To allow the shape to vary "
                                 "across iterations, use the `shape_invariants` argument of tf.while_loop to specify "
                                 "a less-specific shape.")
        captured = match_captures([g_cond, g_body])
        g_cond.inputs = cond_in + captured_inputs(g_cond, captured)
        g_cond.outputs = [pred]
        g_body.inputs = body_in + captured_inputs(g_body, captured)
        g_body.outputs = out_flat
        outs = WHILE(*flat, *captured, cond=Function(g_cond, tuple(g_cond.inputs), (pred,)),
                     body=Function(g_body, tuple(g_body.inputs), tuple(out_flat)), n_vars=len(flat),
                     output_specs=tuple(specs), back_prop=bool(back_prop),
                     parallel_iterations=int(parallel_iterations), name="While")
        op = outs.op if isinstance(outs, Tensor) else outs[0].op
        from gpugraph.ops.array_ops import IDENTITY

        exits = [IDENTITY(op.outputs[j], name="Exit") for j in range(len(flat))]
        packed = pack_as(structure, [_like(v, t) for v, t in zip(templates, exits)])
        if maximum_iterations is not None:
            packed = packed[1]
        if not return_same_structure and len(packed) == 1:
            return packed[0]  # TF1 unwraps a single loop variable
        return packed


def _same_length(out: Any, structure: Any) -> bool:
    return isinstance(out, (list, tuple)) and len(out) == len(structure)
