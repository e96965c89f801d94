"""Helpers for the registry-wide op conformance test: build an OpDef's graph, run its impl, differentiate."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Sequence

import numpy as np

import gpugraph
import gpugraph.ops
from gpugraph.autodiff import gradients
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import constant, placeholder
from gpugraph.ops.registry import OpDef
from gpugraph.runtime.session import Session

_ = gpugraph  # importing the package registers every op it exports


def import_op_modules() -> dict[str, str]:
    """Import every module under gpugraph.ops (so each registers its ops); module -> error text."""
    errors: dict[str, str] = {}
    for info in pkgutil.iter_modules(gpugraph.ops.__path__, "gpugraph.ops."):
        try:
            importlib.import_module(info.name)
        except Exception as e:  # reported by a test that names the module
            errors[info.name] = f"{type(e).__name__}: {e}"
    return errors


def frozen(arrays: Sequence[Any]) -> list[np.ndarray]:
    """Read-only copies: an impl that writes into its inputs raises instead of corrupting them."""
    out = []
    for a in arrays:
        arr = np.array(a, copy=True)
        arr.setflags(write=False)
        out.append(arr)
    return out


def dtype_of(arr: np.ndarray) -> dtypes.DType:
    return dtypes.string if arr.dtype == object else dtypes.as_dtype(arr.dtype)  # object arrays hold bytes


def outputs_of(result: Any) -> list[Tensor]:
    """What an OpDef call returns (Tensor, list of Tensors, or an Operation) as a list of outputs."""
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, Operation):
        return list(result.outputs)
    return list(result)


def impl_outputs(opdef: OpDef, xp: Any, inputs: Sequence[Any], attrs: dict[str, Any], n_out: int) -> list[Any]:
    """The op's lowering called directly; a multi-output impl returns a tuple or list."""
    out = opdef.impl(xp, *inputs, **attrs)
    if n_out == 1:
        return [out]
    assert isinstance(out, (tuple, list)), f"{opdef.name}: impl must return {n_out} arrays, got {type(out)}"
    assert len(out) == n_out, f"{opdef.name}: impl returned {len(out)} arrays for {n_out} outputs"
    return list(out)


def build(opdef: OpDef, inputs: Sequence[np.ndarray], attrs: dict[str, Any],
          mode: str = "exact") -> tuple[Graph, list[Tensor], list[Tensor]]:
    """A fresh graph with the op fed by placeholders (``mode``: exact, rank or unknown shapes) or constants."""
    graph = Graph()
    with graph.as_default():
        if mode == "const":
            args = [constant(a) for a in inputs]
        else:
            args = [placeholder(dtype_of(a), shape=_shape_for(a, mode)) for a in inputs]
        outs = outputs_of(opdef(*args, **attrs))
    return graph, args, outs


def _shape_for(arr: np.ndarray, mode: str) -> Any:
    if mode == "exact":
        return arr.shape
    if mode == "rank":
        return [None] * arr.ndim
    if mode == "unknown":
        return None
    raise ValueError(mode)


def run(graph: Graph, fetches: Sequence[Tensor], feeds: dict[Tensor, np.ndarray]) -> list[np.ndarray]:
    with Session(graph=graph) as sess:
        values = sess.run(list(fetches), feed_dict=feeds or None)
    return [np.asarray(v) for v in values]


def shape_matches(static: TensorShape, real: tuple[int, ...], exact: bool) -> str | None:
    """None if ``static`` describes ``real`` (equal where fully known, when ``exact``), else why not."""
    if not static.is_compatible_with(TensorShape(real)):
        return f"inferred shape {static} is not compatible with real shape {real}"
    if exact and static.is_fully_defined() and static.as_tuple() != tuple(real):
        return f"inferred shape {static} != real shape {real}"
    return None


def weights_for(rng: np.random.Generator, outs: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]


def is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


def analytic_vjp(opdef: OpDef, inputs: Sequence[np.ndarray], attrs: dict[str, Any], weights: Sequence[np.ndarray],
                 float_outs: Sequence[int]) -> dict[int, np.ndarray | None]:
    """tf.gradients of sum(out_k * w_k) w.r.t. each float input; None where the op's rule gives none."""
    graph, phs, outs = build(opdef, inputs, attrs)
    xs = [i for i, a in enumerate(inputs) if is_float(a)]
    with graph.as_default():
        ys = [outs[k] for k in float_outs]
        grad_ys = [constant(w) for w in weights]
        grads = gradients(ys, [phs[i] for i in xs], grad_ys=grad_ys)
    fetch = [g for g in grads if g is not None]
    values = iter(run(graph, fetch, dict(zip(phs, frozen(inputs)))))
    return {i: (None if g is None else next(values)) for i, g in zip(xs, grads)}


def numeric_vjp(opdef: OpDef, inputs: Sequence[np.ndarray], attrs: dict[str, Any], weights: Sequence[np.ndarray],
                float_outs: Sequence[int], n_out: int, index: int, eps: float) -> np.ndarray:
    """Central differences of sum(out_k * w_k) w.r.t. input ``index``, through NumPy (the ground truth)."""
    base = [np.array(a, copy=True) for a in inputs]
    x = base[index]
    grad = np.zeros(x.shape, dtype=np.float64)

    def loss() -> float:
        outs = impl_outputs(opdef, np, base, attrs, n_out)
        return float(sum(np.sum(np.asarray(outs[k], np.float64) * w.astype(np.float64))
                         for k, w in zip(float_outs, weights)))

    flat = x.reshape(-1)  # a view: perturbing it perturbs the input
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        up = loss()
        flat[j] = keep - eps
        down = loss()
        flat[j] = keep
        grad.reshape(-1)[j] = (up - down) / (2 * eps)
    return grad


def ctype(dtype: np.dtype) -> str:
    """The type name CuPy's ElementwiseKernel accepts for a NumPy dtype."""
    return "bool" if dtype == np.bool_ else np.dtype(dtype).name
