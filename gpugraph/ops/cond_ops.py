"""Functional conditionals: the If op, whose branches are sub-graphs compiled to sub-plans, and tf.cond/tf.case.

Also the helpers the loop ops share: nested structures, tracing a function, running a sub-plan.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.func_graph import FuncGraph, Function
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import PLACEHOLDER, convert_to_tensor
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["cond", "case"]


# --- nested structures (tf.nest's order: dict values by sorted key) ---
def is_leaf(x: Any) -> bool:
    return not isinstance(x, (list, tuple, dict))


def flatten(structure: Any) -> list[Any]:
    if isinstance(structure, dict):
        return [v for k in sorted(structure) for v in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [v for item in structure for v in flatten(item)]
    return [structure]


def pack_as(structure: Any, flat: Sequence[Any]) -> Any:
    it = iter(flat)

    def build(s: Any) -> Any:
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s) if type(s) is not dict else {k: built[k] for k in s}
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            if hasattr(s, "_fields"):  # a namedtuple
                return type(s)(*items)
            return type(s)(items)
        return next(it)

    return build(structure)


def same_structure(a: Any, b: Any) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b) and \
            all(same_structure(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) and \
            all(same_structure(x, y) for x, y in zip(a, b))
    return True


# --- tracing and running sub-graphs ---
def new_function_graph(name: str, scope: str, names_in_use: dict[str, int] | None = None) -> FuncGraph:
    outer = get_default_graph()
    return FuncGraph(name, outer, scope, names_in_use)


def add_inputs(graph: FuncGraph, specs: Sequence[tuple[TensorShape, dtypes.DType]], name: str) -> list[Tensor]:
    with graph.as_default(), graph.name_scope(None):
        scope = graph._scope + "/" if graph._scope else ""
        return [PLACEHOLDER(name=f"{scope}{name}", dtype=dt, shape=shape) for shape, dt in specs]


def match_captures(graphs: Sequence[FuncGraph]) -> list[Tensor]:
    """The union of the graphs' captured outer tensors; each graph gets a placeholder for every one."""
    outer: list[Tensor] = []
    for g in graphs:
        for t in g.outer_captures():
            if t not in outer:
                outer.append(t)
    for g in graphs:
        for t in outer:
            g.capture(t)
    return outer


def captured_inputs(graph: FuncGraph, outer: Sequence[Tensor]) -> list[Tensor]:
    return [graph.captures[t] for t in outer]


def run_function(plan: Any, args: Sequence[Any]) -> list[Any]:
    """Run a compiled sub-plan: feed ``args`` to its placeholders, return its fetched values."""
    slots = plan.template.copy()
    for spec, value in zip(plan.feeds, args):
        slots[spec.slot] = value
    plan.runner(slots)
    return [slots[s] for s in plan.fetch_slots]


def compile_function(fn: Function, ctx: Any) -> Any:
    from gpugraph.compiler.pipeline import compile_plan

    # the sub-plan runs on the device of the op holding it: ctx is that device's context
    return compile_plan(list(fn.outputs), list(fn.inputs), ctx)


def merged_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both fit: TF1's Merge output shape."""
    da, db = a.as_tuple(), b.as_tuple()
    if da is None or db is None or len(da) != len(db):
        return TensorShape(None)
    return TensorShape(tuple(x if x == y else None for x, y in zip(da, db)))


# --- the If op ---
def _if_infer(pred: Tensor, *inputs: Tensor, then_branch: Function, else_branch: Function,
              output_specs: tuple[Any, ...]) -> list[Any]:
    return list(output_specs)


def _bind_if(op: Operation, ctx: Any) -> Callable[..., Any]:
    then_plan = compile_function(op.get_attr("then_branch"), ctx)
    else_plan = compile_function(op.get_attr("else_branch"), ctx)
    n_out = len(op.outputs)

    def step(pred: Any, *args: Any) -> Any:
        # reading the predicate is the conditional's one device-to-host transfer
        out = run_function(then_plan if bool(pred) else else_plan, args)
        return tuple(out) if n_out != 1 else out[0]
    return step


def branch_gradient(fn: Function, dys: Sequence[Tensor | None], wrt: Sequence[int]) -> Function:
    """The VJP of ``fn`` as a Function over (its inputs, the output grads): grads of inputs ``wrt``."""
    from gpugraph.autodiff import gradients
    from gpugraph.ops.array_ops import zeros_like

    graph = fn.graph
    used = [i for i, dy in enumerate(dys) if dy is not None]
    dy_inputs = add_inputs(graph, [(fn.outputs[i].shape, fn.outputs[i].dtype.base_dtype) for i in used], "grad_ys")
    with graph.as_default():
        xs = [fn.inputs[j] for j in wrt]
        grads = gradients([fn.outputs[i] for i in used], xs, grad_ys=dy_inputs) if used else [None] * len(xs)
        grads = [zeros_like(x) if g is None else g for g, x in zip(grads, xs)]
    return Function(graph, tuple(fn.inputs) + tuple(dy_inputs), tuple(grads))


def _if_grad(op: Operation, *dys: Tensor | None) -> list[Tensor | None]:
    inputs = op.inputs[1:]
    wrt = [j for j, t in enumerate(inputs) if t.dtype.base_dtype.is_floating]
    outs = [i for i, dy in enumerate(dys) if dy is not None]
    if not wrt or not outs:
        return [None] * len(op.inputs)
    g_then = branch_gradient(op.get_attr("then_branch"), dys, wrt)
    g_else = branch_gradient(op.get_attr("else_branch"), dys, wrt)
    specs = tuple((inputs[j].shape, inputs[j].dtype.base_dtype) for j in wrt)
    res = IF(op.inputs[0], *inputs, *[dys[i] for i in outs], then_branch=g_then, else_branch=g_else,
             output_specs=specs, name="If")
    res = [res] if isinstance(res, Tensor) else list(res) if not isinstance(res, Operation) else []
    grads: list[Tensor | None] = [None] * len(op.inputs)
    for j, g in zip(wrt, res):
        grads[1 + j] = g
    return grads


IF = register_op(OpDef(
    "If", infer=_if_infer, bind=_bind_if, grad=_if_grad, stateful=True, same_dtype=False,
    input_names=("cond", "input"),
))


def _trace_branch(fn: Callable[[], Any], graph: FuncGraph) -> tuple[Any, list[Tensor]]:
    with graph.as_default():
        result = fn()
        flat = [None if r is None or isinstance(r, Operation) else convert_to_tensor(r) for r in flatten(result)]
    return result, flat


def cond(pred: Any, true_fn: Callable[[], Any] | None = None, false_fn: Callable[[], Any] | None = None,
         strict: bool = False, name: str | None = None, fn1: Any = None, fn2: Any = None) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the taken branch runs."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if true_fn is None or not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if false_fn is None or not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if isinstance(pred, bool):
        raise TypeError("'pred' must not be a Python bool.")
    outer = get_default_graph()
    with outer.name_scope(name or "cond") as scope:
        pred = convert_to_tensor(pred)
        if pred.dtype.base_dtype != dtypes.bool_ or (pred.shape.ndims not in (None, 0)):
            raise ValueError(f"pred must be a scalar bool tensor, got {pred.name} with dtype {pred.dtype.name} "
                             f"and shape {pred.shape}")
        names: dict[str, int] = {}
        g_true = new_function_graph("cond_true", scope[:-1], names)
        g_false = new_function_graph("cond_false", scope[:-1], names)
        res_t, flat_t = _trace_branch(true_fn, g_true)
        res_f, flat_f = _trace_branch(false_fn, g_false)
        if not same_structure(res_t, res_f) or len(flat_t) != len(flat_f):
            raise ValueError("The two structures don't have the same nested structure.\n\n"
                             f"First structure: {res_t!r}\n\nSecond structure: {res_f!r}")
        keep = [i for i, (a, b) in enumerate(zip(flat_t, flat_f)) if a is not None and b is not None]
        for i in keep:
            if flat_t[i].dtype.base_dtype != flat_f[i].dtype.base_dtype:
                raise ValueError(f"Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received "
                                 f"{flat_t[i].dtype.name} from 'true_fn' and {flat_f[i].dtype.name} from 'false_fn'.")
        captured = match_captures([g_true, g_false])
        branches = []
        for g, flat in ((g_true, flat_t), (g_false, flat_f)):
            g.inputs = captured_inputs(g, captured)
            g.outputs = [flat[i] for i in keep]
            branches.append(Function(g, tuple(g.inputs), tuple(g.outputs)))
        specs = tuple((merged_shape(flat_t[i].shape, flat_f[i].shape), flat_t[i].dtype.base_dtype) for i in keep)
        out = IF(pred, *captured, then_branch=branches[0], else_branch=branches[1], output_specs=specs, name="If")
        op = out.op if isinstance(out, Tensor) else out[0].op if isinstance(out, list) else out
        from gpugraph.ops.array_ops import IDENTITY

        merged: list[Any] = [None] * len(flat_t)
        for k, i in enumerate(keep):
            merged[i] = IDENTITY(op.outputs[k], name="Merge")
        if not keep and len(flat_t) == 1:
            return op  # a branch pair of Operations: the If runs one of them
        return pack_as(res_t, merged)


def case(pred_fn_pairs: Any, default: Callable[[], Any] | None = None, exclusive: bool = False,
         strict: bool = False, name: str = "case") -> Any:
    """The fn of the first true predicate (``default`` if none), as nested conds.

    ``exclusive`` is accepted but not checked at run time (TF1 asserts at most one predicate is true).
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for p in pairs:
        if not isinstance(p, (tuple, list)) or len(p) != 2:
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple, got {p!r}")
        if not callable(p[1]):
            raise TypeError(f"fn for pred {p[0]} must be callable.")
    if not pairs and default is None:
        raise ValueError("pred_fn_pairs must not be empty when default is None")
    if default is None:  # TF1: the last fn is the default
        default = pairs[-1][1]
        pairs = pairs[:-1]
        if not pairs:
            return default()
    graph = get_default_graph()
    with graph.name_scope(name):
        fn = default
        for p, f in reversed(pairs):
            fn = _chain(p, f, fn)
        return fn()


def _chain(pred: Any, fn: Callable[[], Any], otherwise: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: cond(pred, fn, otherwise)
