"""Matrix structure ops: diag/diag_part, matrix_diag/_part/set_diag, band_part, eye, linspace, einsum, cross,
trace, matrix_transpose, norm."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["diag", "diag_part", "matrix_diag", "matrix_diag_part", "matrix_set_diag", "matrix_band_part", "eye",
           "linspace", "lin_space", "einsum", "cross", "trace", "matrix_transpose", "norm"]


def _randn(*shapes: tuple[int, ...], **attrs: Any) -> Any:
    return lambda rng: [([rng.standard_normal(s) for s in shapes], dict(attrs))]


def _rank_at_least(t: Tensor, n: int) -> tuple[Any, ...] | None:
    dims = t.shape.as_tuple()
    if dims is not None and len(dims) < n:
        raise ValueError(f"Shape must be at least rank {n} but is rank {len(dims)}")
    return dims


# --- MatrixDiag, MatrixDiagPart, MatrixSetDiag ---
def _matrix_diag_infer(d: Tensor) -> Any:
    dims = _rank_at_least(d, 1)
    return (TensorShape(None) if dims is None else dims + dims[-1:]), d.dtype.base_dtype


def _matrix_diag_impl(xp: Any, d: Any) -> Any:
    n = d.shape[-1]
    return d[..., :, None] * xp.eye(n, dtype=d.dtype)


def _diag_part_infer(x: Tensor) -> Any:
    dims = _rank_at_least(x, 2)
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    m, n = dims[-2], dims[-1]
    return dims[:-2] + (None if m is None or n is None else min(m, n),), x.dtype.base_dtype


def _diag_part_impl(xp: Any, x: Any) -> Any:
    return xp.diagonal(x, axis1=-2, axis2=-1).copy()


def _set_diag_infer(x: Tensor, d: Tensor) -> Any:
    part, _ = _diag_part_infer(x)
    TensorShape(part).merge_with(d.shape)
    return x.shape, x.dtype.base_dtype


def _set_diag_impl(xp: Any, x: Any, d: Any) -> Any:
    k = min(x.shape[-2], x.shape[-1])
    out = x.copy()
    i = xp.arange(k)
    out[..., i, i] = d
    return out


MATRIX_DIAG = register_op(OpDef(
    "MatrixDiag", infer=_matrix_diag_infer, impl=_matrix_diag_impl, input_names=("diagonal",),
    grad=lambda op, dy: [MATRIX_DIAG_PART(dy)], sample=_randn((2, 3)),
))
MATRIX_DIAG_PART = register_op(OpDef(
    "MatrixDiagPart", infer=_diag_part_infer, impl=_diag_part_impl, input_names=("input",),
    grad=lambda op, dy: [MATRIX_SET_DIAG(_zeros_like(op.inputs[0]), dy)],
    sample=lambda rng: [([rng.standard_normal((2, 3, 4))], {}), ([rng.standard_normal((3, 2))], {})],
))
MATRIX_SET_DIAG = register_op(OpDef(
    "MatrixSetDiag", infer=_set_diag_infer, impl=_set_diag_impl, input_names=("input", "diagonal"),
    grad=lambda op, dy: [MATRIX_SET_DIAG(dy, _zeros_like(op.inputs[1])), MATRIX_DIAG_PART(dy)],
    sample=_randn((2, 3, 4), (2, 3)),
))


def _zeros_like(t: Tensor) -> Tensor:
    from gpugraph.ops.array_ops import zeros_like

    return zeros_like(t)


# --- Diag, DiagPart: rank k <-> rank 2k ---
def _diag_infer(d: Tensor) -> Any:
    dims = d.shape.as_tuple()
    return (TensorShape(None) if dims is None else dims + dims), d.dtype.base_dtype


def _diag_impl(xp: Any, d: Any) -> Any:
    n = d.size
    return (d.reshape(-1)[:, None] * xp.eye(n, dtype=d.dtype)).reshape(d.shape + d.shape)


def _tensor_diag_part_infer(x: Tensor) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    if len(dims) % 2:
        raise ValueError(f"Input must have even rank <= 6, got rank {len(dims)}")
    half = len(dims) // 2
    return TensorShape(dims[:half]).merge_with(TensorShape(dims[half:])), x.dtype.base_dtype


def _tensor_diag_part_impl(xp: Any, x: Any) -> Any:
    half = x.ndim // 2
    n = math.prod(x.shape[:half])
    return xp.diagonal(x.reshape(n, n)).reshape(x.shape[:half]).copy()


DIAG = register_op(OpDef("Diag", infer=_diag_infer, impl=_diag_impl, input_names=("diagonal",),
                         grad=lambda op, dy: [DIAG_PART(dy)], sample=_randn((2, 3))))
DIAG_PART = register_op(OpDef("DiagPart", infer=_tensor_diag_part_infer, impl=_tensor_diag_part_impl,
                              input_names=("input",), grad=lambda op, dy: [DIAG(dy)], sample=_randn((2, 3, 2, 3))))


# --- MatrixBandPart ---
def _band_infer(x: Tensor, **_: Any) -> Any:
    _rank_at_least(x, 2)
    return x.shape, x.dtype.base_dtype


def _band_impl(xp: Any, x: Any, *, num_lower: int, num_upper: int) -> Any:
    m, n = x.shape[-2], x.shape[-1]
    offset = xp.arange(n)[None, :] - xp.arange(m)[:, None]  # column - row
    keep = ((num_lower < 0) | (-offset <= num_lower)) & ((num_upper < 0) | (offset <= num_upper))
    return xp.where(keep, x, xp.zeros((), dtype=x.dtype))


MATRIX_BAND_PART = register_op(OpDef(
    "MatrixBandPart", infer=_band_infer, impl=_band_impl, input_names=("input",),
    grad=lambda op, dy: [MATRIX_BAND_PART(dy, **op.attrs)],
    sample=lambda rng: [([rng.standard_normal((2, 3, 4))], {"num_lower": 1, "num_upper": 0}),
                        ([rng.standard_normal((4, 3))], {"num_lower": -1, "num_upper": 1})],
))


# --- LinSpace ---
def _linspace_infer(start: Tensor, stop: Tensor, *, num: int) -> Any:
    shape_fns.floating(start)
    for t, what in ((start, "start"), (stop, "stop")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims} for '{what}'")
    if num <= 0:
        raise ValueError(f"Requires num > 0: {num}")
    return (num,), start.dtype.base_dtype


LIN_SPACE = register_op(OpDef(
    "LinSpace", infer=_linspace_infer, grad=NO_GRADIENT, input_names=("start", "stop"),
    impl=lambda xp, start, stop, *, num: xp.linspace(start, stop, num).astype(start.dtype, copy=False),
    sample=lambda rng: [([np.float64(-1.0), np.float64(2.0)], {"num": 7}), ([np.float64(3.0), np.float64(5.0)],
                                                                           {"num": 1})],
))


def linspace(start: Any, stop: Any, num: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops.manip_ops import _int

    graph = graph_of([start, stop])
    with graph.as_default(), graph.name_scope(name or "LinSpace") as scope:
        start = convert_to_tensor(start, name="start")
        stop = convert_to_tensor(stop, dtype=start.dtype.base_dtype, name="stop")
        return LIN_SPACE(start, stop, name=scope, num=_int(num, "num"))


lin_space = linspace


# --- Einsum ---
def _parse(equation: str, n: int) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = lhs.split(",")
    if len(ins) != n:
        raise ValueError(f"Expected {len(ins)} inputs for equation '{equation}', got {n}")
    return ins, out


def _einsum_infer(*xs: Tensor, equation: str) -> Any:
    ins, out = _parse(equation, len(xs))
    if "." in equation:  # ellipses: the shape only when every input's is known
        if not all(x.shape.is_fully_defined() for x in xs):
            return TensorShape(None), xs[0].dtype.base_dtype
        probe = [np.zeros(x.shape.as_tuple()) for x in xs]
        return np.einsum(equation, *probe).shape, xs[0].dtype.base_dtype
    sizes: dict[str, Any] = {}
    for x, sub in zip(xs, ins):
        dims = x.shape.as_tuple()
        if dims is None:
            continue
        if len(dims) != len(sub):
            raise ValueError(f"Input '{sub}' of equation '{equation}' has rank {len(dims)}, not {len(sub)}")
        for c, d in zip(sub, dims):
            if d is None:
                continue
            if sizes.get(c) not in (None, d) and 1 not in (sizes[c], d):
                raise ValueError(f"Expected dimension {sizes[c]} at axis of the input shaped {list(dims)} but got "
                                 f"dimension {d}")
            sizes[c] = d if sizes.get(c) in (None, 1) else sizes[c]
    return tuple(sizes.get(c) for c in out), xs[0].dtype.base_dtype


def _einsum_impl(xp: Any, *xs: Any, equation: str) -> Any:
    return xp.einsum(equation, *xs).astype(xs[0].dtype, copy=False)


def _einsum_grad_impl(xp: Any, dy: Any, *xs: Any, equation: str, index: int) -> Any:
    ins, out = _parse(equation, len(xs))
    others = [(s, x) for k, (s, x) in enumerate(zip(ins, xs)) if k != index]
    target = ins[index]
    available = set(out) | {c for s, _ in others for c in s}
    kept = "".join(dict.fromkeys(c for c in target if c in available))
    spec = ",".join([out] + [s for s, _ in others]) + "->" + kept
    part = xp.einsum(spec, dy, *[x for _, x in others])
    # letters only the target has were summed in the forward pass: their gradient is broadcast
    perm_shape = [part.shape[kept.index(c)] if c in kept else 1 for c in target]
    aligned = xp.einsum(kept + "->" + "".join(c for c in target if c in kept), part)
    return xp.broadcast_to(aligned.reshape(perm_shape), xs[index].shape).astype(dy.dtype, copy=True)


EINSUM_GRAD = register_op(OpDef(
    "EinsumGrad", infer=lambda dy, *xs, equation, index: (xs[index].shape, dy.dtype.base_dtype),
    impl=_einsum_grad_impl, input_names=("grad", "inputs"),
    sample=_randn((2, 4), (2, 3), (3, 4), equation="ij,jk->ik", index=0),
))


def _einsum_grad(op: Any, dy: Tensor) -> list[Any]:
    equation = op.get_attr("equation")
    ins, _ = _parse(equation, len(op.inputs))
    if "." in equation or any(len(set(s)) != len(s) for s in ins):
        raise LookupError(f"einsum '{equation}': no gradient for ellipses or repeated subscripts in one input")
    return [EINSUM_GRAD(dy, *op.inputs, equation=equation, index=i) for i in range(len(op.inputs))]


EINSUM = register_op(OpDef(
    "Einsum", infer=_einsum_infer, impl=_einsum_impl, grad=_einsum_grad, input_names=("inputs",),
    sample=lambda rng: [([rng.standard_normal((2, 3)), rng.standard_normal((3, 4))], {"equation": "ij,jk->ik"}),
                        ([rng.standard_normal((2, 3, 4))], {"equation": "bij->jb"}),
                        ([rng.standard_normal((3,)), rng.standard_normal((2,))], {"equation": "i,j->ij"})],
))


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"invalid keyword arguments for this function: {', '.join(sorted(kwargs))}")
    return EINSUM(*inputs, name=name or "einsum", equation=str(equation))


# --- Cross ---
def _cross_infer(a: Tensor, b: Tensor) -> Any:
    shape = a.shape.merge_with(b.shape) if a.shape.is_compatible_with(b.shape) else None
    if shape is None:
        raise ValueError(f"Shapes {a.shape} and {b.shape} are incompatible")
    dims = shape.as_tuple()
    if dims is not None and dims[-1] not in (None, 3):
        raise ValueError(f"Dimension must be 3 but is {dims[-1]}")
    return shape, a.dtype.base_dtype


CROSS = register_op(OpDef(
    "Cross", infer=_cross_infer, impl=lambda xp, a, b: xp.cross(a, b), input_names=("a", "b"),
    grad=lambda op, dy: [CROSS(op.inputs[1], dy), CROSS(dy, op.inputs[0])], sample=_randn((2, 3), (2, 3)),
))


def cross(a: Any, b: Any, name: str | None = None) -> Tensor:
    return CROSS(a, b, name=name)


# --- compositions ---
def matrix_diag(diagonal: Any, name: str = "diag", **_: Any) -> Tensor:
    return MATRIX_DIAG(diagonal, name=name)


def matrix_diag_part(input: Any, name: str = "diag_part", **_: Any) -> Tensor:  # noqa: A002 - TF1 name
    return MATRIX_DIAG_PART(input, name=name)


def matrix_set_diag(input: Any, diagonal: Any, name: str = "set_diag", **_: Any) -> Tensor:  # noqa: A002
    return MATRIX_SET_DIAG(input, diagonal, name=name)


def matrix_band_part(input: Any, num_lower: Any, num_upper: Any, name: str | None = None) -> Tensor:  # noqa: A002
    from gpugraph.ops.manip_ops import _int

    return MATRIX_BAND_PART(input, name=name, num_lower=_int(num_lower, "num_lower"),
                            num_upper=_int(num_upper, "num_upper"))


def diag(diagonal: Any, name: str | None = None) -> Tensor:
    return DIAG(diagonal, name=name)


def diag_part(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF1 name
    return DIAG_PART(input, name=name)


def trace(x: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops.reduction_ops import reduce_sum

    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "Trace") as scope:
        return reduce_sum(MATRIX_DIAG_PART(convert_to_tensor(x, name="x")), axis=[-1], name=scope)


def matrix_transpose(a: Any, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    from gpugraph.ops.array_ops import transpose

    graph = graph_of([a])
    with graph.as_default(), graph.name_scope(name) as scope:
        a = convert_to_tensor(a, name="a")
        rank = a.shape.ndims
        if rank is None:
            raise ValueError("matrix_transpose needs the rank of its input")
        if rank < 2:
            raise ValueError(f"Argument 'a' should be a (batch) matrix, with rank >= 2.  Found: {a.shape}")
        return transpose(a, list(range(rank - 2)) + [rank - 1, rank - 2], name=scope)


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None, dtype: Any = dtypes.float32,
        name: str | None = None) -> Tensor:
    """An identity matrix (batch_shape + [num_rows, num_columns]); sizes are Python ints here."""
    from gpugraph.ops.manip_ops import _int, _ints

    rows = _int(num_rows, "num_rows")
    cols = rows if num_columns is None else _int(num_columns, "num_columns")
    batch = () if batch_shape is None else _ints(batch_shape, "batch_shape")
    dt = dtypes.as_dtype(dtype).base_dtype
    value = np.broadcast_to(np.eye(rows, cols, dtype=dt.np_dtype), batch + (rows, cols))
    return constant(np.ascontiguousarray(value), dtype=dt, name=name or "eye")


_VECTOR_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: Any = None,  # noqa: A002
         name: str | None = None, keep_dims: Any = None) -> Tensor:
    """Vector norms (any p >= 1, inf) and matrix norms ('fro', 'euclidean', 1, inf) as TF1 builds them."""
    from gpugraph.ops.array_ops import squeeze
    from gpugraph.ops.math_ops import pow as pow_
    from gpugraph.ops.reduction_ops import reduce_max, reduce_sum
    from gpugraph.ops.unary_ops import abs as abs_
    from gpugraph.ops.unary_ops import sqrt

    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keep_dims if keepdims is None else keepdims)
    axes = None if axis is None else [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    is_matrix = axes is not None and len(axes) == 2
    if axes is not None and len(axes) not in (1, 2):
        raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
    if is_matrix and ord not in ("euclidean", "fro", 1, np.inf):
        raise ValueError(f"'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, inf], got {ord}")
    if not is_matrix and not (ord in ("euclidean", "fro", np.inf) or
                              (isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord >= 1)):
        raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    graph = graph_of([tensor])
    with graph.as_default(), graph.name_scope(name or "norm") as scope:
        x = convert_to_tensor(tensor, name="tensor")
        if ord in ("euclidean", "fro") or (ord == 2 and not is_matrix):
            result = sqrt(reduce_sum(x * x, axes, keepdims=True))
        elif is_matrix:
            rank = x.shape.ndims
            a0, a1 = (a % rank if rank is not None else a for a in axes)  # type: ignore[union-attr]
            summed, maxed = (a0, a1) if ord == 1 else (a1, a0)
            result = reduce_max(reduce_sum(abs_(x), [summed], keepdims=True), [maxed], keepdims=True)
        elif ord == np.inf:
            result = reduce_max(abs_(x), axes, keepdims=True)
        else:
            result = pow_(reduce_sum(pow_(abs_(x), float(ord)), axes, keepdims=True), 1.0 / float(ord))
        if keep:
            from gpugraph.ops.array_ops import identity

            return identity(result, name=scope)
        squeeze_axes = axes if axes is not None else None
        return squeeze(result, axis=squeeze_axes, name=scope)
