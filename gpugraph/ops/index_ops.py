"""Indexing and layout ops: gather, tile, pad, one_hot, argmax/argmin, reverse, clip_by_value.

Indices, multiples and paddings are static attrs (Python ints); Tensor-valued ones raise TypeError.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns, slicing_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.manip_ops import _INDEX_TYPES, _along, _axis, _int, _ints, _no_tensor, _randn
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import flip, on_host, scatter_add

__all__ = ["gather", "tile", "pad", "one_hot", "argmax", "argmin", "arg_max", "arg_min", "clip_by_value",
           "reverse", "reverse_v2"]

# --- GatherV2 and its dense gradient ---
def _gather_infer(params: Tensor, indices: Tensor, *, axis: int) -> Any:
    if indices.dtype.base_dtype not in _INDEX_TYPES:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {indices.dtype.base_dtype.name} "
                        "not in list of allowed values: int32, int64")
    dims, idims = params.shape.as_tuple(), indices.shape.as_tuple()
    if dims is None:
        return TensorShape(None), params.dtype.base_dtype
    a = _axis(axis, len(dims))
    if idims is None:
        return TensorShape(None), params.dtype.base_dtype
    return dims[:a] + idims + dims[a + 1:], params.dtype.base_dtype


def _check_indices(xp: Any, indices: Any, n: int) -> None:
    # Checked on the host only: on a GPU the check would stall the stream (TF1's GPU kernel skips it too).
    if not on_host(xp) or not indices.size:
        return
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        where = tuple(int(i) for i in xp.argwhere(bad)[0])
        raise ValueError(f"indices[{','.join(map(str, where))}] = {indices[where]} is not in [0, {n})")


def _gather_impl(xp: Any, params: Any, indices: Any, *, axis: int) -> Any:
    n = params.shape[axis]
    if on_host(xp):
        _check_indices(xp, indices, n)
        return xp.take(params, indices, axis=axis)
    # CuPy wraps out-of-range indices around; TF1's GPU kernel writes zeros for them instead
    a = axis % params.ndim
    if n == 0:
        return xp.zeros(params.shape[:a] + indices.shape + params.shape[a + 1:], dtype=params.dtype)
    valid = (indices >= 0) & (indices < n)
    out = xp.take(params, xp.where(valid, indices, 0), axis=a)
    mask = valid.reshape((1,) * a + indices.shape + (1,) * (params.ndim - a - 1))
    return xp.where(mask, out, out.dtype.type(0))


def _gather_grad_impl(xp: Any, dy: Any, params: Any, indices: Any, *, axis: int) -> Any:
    a = axis % params.ndim
    n = params.shape[a]
    out = xp.zeros(params.shape, dtype=dy.dtype)
    idx = indices.reshape(-1)
    flat = dy.reshape(params.shape[:a] + (indices.size,) + params.shape[a + 1:])
    if not on_host(xp):  # as TF1's GPU kernel: out-of-range ids add nothing (CuPy would wrap them)
        if n == 0 or not idx.size:
            return out
        valid = (idx >= 0) & (idx < n)
        idx = xp.where(valid, idx, 0)
        flat = xp.where(valid.reshape((1,) * a + idx.shape + (1,) * (params.ndim - a - 1)), flat,
                        flat.dtype.type(0))
    scatter_add(xp, xp.moveaxis(out, a, 0), idx, xp.moveaxis(flat, a, 0))
    return out


GATHER = register_op(OpDef(
    "GatherV2", infer=_gather_infer, impl=_gather_impl, same_dtype=False, input_names=("params", "indices"),
    grad=lambda op, dy: [GATHER_GRAD(dy, *op.inputs, axis=op.get_attr("axis")), None],
    sample=lambda rng: [([rng.standard_normal((4, 3)), np.array([[0, 2], [2, 3]])], {"axis": 0}),
                        ([rng.standard_normal((2, 3, 2)), np.array([1, 1, 0])], {"axis": -2})],
))
GATHER_GRAD = register_op(OpDef(
    "GatherGrad", infer=lambda dy, params, indices, *, axis: (params.shape, dy.dtype.base_dtype),
    impl=_gather_grad_impl, same_dtype=False, input_names=("dy", "params", "indices"),
    grad=lambda op, g: [GATHER(g, op.inputs[2], axis=op.get_attr("axis")), None, None],
    sample=lambda rng: [([rng.standard_normal((3, 2, 2)), rng.standard_normal((3, 4)), np.array([[1, 3], [1, 0]])],
                         {"axis": 1})],
))


# --- Tile ---
def _tile_infer(x: Tensor, *, multiples: tuple[int, ...]) -> Any:
    dims = x.shape.as_tuple()
    if dims is not None and len(dims) != len(multiples):
        raise ValueError(f"Expected multiples argument to be a vector of length {len(dims)} but got length "
                         f"{len(multiples)}")
    for i, m in enumerate(multiples):
        if m < 0:
            raise ValueError(f"Expected multiples[{i}] >= 0, but got {m}")
    if dims is None:
        return (None,) * len(multiples), x.dtype.base_dtype
    return tuple(None if d is None else d * m for d, m in zip(dims, multiples)), x.dtype.base_dtype


def _tile_grad_impl(xp: Any, dy: Any, x: Any, *, multiples: tuple[int, ...]) -> Any:
    # dy viewed as [m0, d0, m1, d1, ...]: summing the m axes adds the tiles up
    split = tuple(v for m, d in zip(multiples, x.shape) for v in (m, d))
    return dy.reshape(split).sum(axis=tuple(range(0, 2 * len(multiples), 2))).astype(dy.dtype, copy=False)


TILE = register_op(OpDef(
    "Tile", infer=_tile_infer, impl=lambda xp, x, *, multiples: xp.tile(x, multiples), input_names=("input",),
    grad=lambda op, dy: [TILE_GRAD(dy, op.inputs[0], multiples=op.get_attr("multiples"))],
    sample=_randn((2, 3), multiples=(2, 3)),
))
TILE_GRAD = register_op(OpDef(
    "TileGrad", infer=lambda dy, x, *, multiples: (x.shape, dy.dtype.base_dtype), impl=_tile_grad_impl,
    grad=lambda op, g: [TILE(g, multiples=op.get_attr("multiples")), None], input_names=("dy", "x"),
    sample=_randn((4, 3), (2, 3), multiples=(2, 1)),
))


# --- Pad, PadV2, MirrorPad ---
def _padded_dims(dims: Sequence[Any], paddings: tuple[tuple[int, int], ...], mode: str = "CONSTANT") -> Any:
    if len(dims) != len(paddings):
        raise ValueError(f"The first dimension of paddings must be the rank of inputs [{len(paddings)},2] "
                         f"(input rank {len(dims)})")
    for d, (b, a) in zip(dims, paddings):
        if b < 0 or a < 0:
            raise ValueError(f"Paddings must be non-negative: {b} {a}")
        if d is not None and mode == "REFLECT" and max(b, a) >= d:
            raise ValueError(f"paddings must be less than the dimension size: {b}, {a} not less than {d}")
        if d is not None and mode == "SYMMETRIC" and max(b, a) > d:
            raise ValueError(f"paddings must be no greater than the dimension size: {b}, {a} greater than {d}")
    return tuple(None if d is None else d + b + a for d, (b, a) in zip(dims, paddings))


def _pad_infer(x: Tensor, *constant: Tensor, paddings: Any, mode: str = "CONSTANT") -> Any:
    if constant and constant[0].shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {constant[0].shape.ndims}")
    dims = x.shape.as_tuple()
    return _padded_dims((None,) * len(paddings) if dims is None else dims, paddings, mode), x.dtype.base_dtype


def _pad_impl(xp: Any, x: Any, *constant: Any, paddings: Any) -> Any:
    shape = _padded_dims(x.shape, paddings)
    if constant:
        out = xp.empty(shape, dtype=x.dtype)
        out[...] = constant[0]
    else:
        out = xp.zeros(shape, dtype=x.dtype)
    out[tuple(builtins.slice(b, b + d) for d, (b, _) in zip(x.shape, paddings))] = x
    return out


def _pad_grad(op: Operation, dy: Tensor) -> list[Any]:
    spec = tuple(builtins.slice(b, -a if a else None) for b, a in op.get_attr("paddings"))
    return [slicing_ops.STRIDED_SLICE(dy, spec=spec)] + [None] * (len(op.inputs) - 1)


def _pad_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal((2, 3))], {"paddings": ((1, 0), (2, 1))})]


PAD = register_op(OpDef("Pad", infer=_pad_infer, impl=_pad_impl, grad=_pad_grad, input_names=("input",),
                        sample=_pad_sample))
PAD_V2 = register_op(OpDef(
    "PadV2", infer=_pad_infer, impl=_pad_impl, grad=_pad_grad, input_names=("input", "constant_values"),
    sample=lambda rng: [([rng.standard_normal((2, 3)), np.float64(1.5)], {"paddings": ((0, 2), (1, 1))})],
))


def _mirror_pad_grad_impl(xp: Any, dy: Any, *, paddings: Any, mode: str) -> Any:
    # fold each padded border back onto the elements it mirrored, one axis at a time
    off = 1 if mode == "REFLECT" else 0
    g = dy
    for ax, (b, a) in enumerate(paddings):
        if not (b or a):
            continue
        n = g.shape[ax] - b - a
        core = g[_along(ax, b, b + n)].copy()
        if b:
            core[_along(ax, off, off + b)] += xp.flip(g[_along(ax, 0, b)], axis=ax)
        if a:
            core[_along(ax, n - off - a, n - off)] += xp.flip(g[_along(ax, b + n, None)], axis=ax)
        g = core
    return g


def _mirror_pad_grad_infer(dy: Tensor, *, paddings: Any, mode: str) -> Any:
    dims = dy.shape.as_tuple()
    if dims is None:
        return (None,) * len(paddings), dy.dtype.base_dtype
    return tuple(None if d is None else d - b - a for d, (b, a) in zip(dims, paddings)), dy.dtype.base_dtype


def _mirror_pad_impl(xp: Any, x: Any, *, paddings: Any, mode: str) -> Any:
    _padded_dims(x.shape, paddings, mode)  # NumPy would wrap borders wider than the tensor
    return xp.pad(x, paddings, mode=mode.lower())


MIRROR_PAD = register_op(OpDef(
    "MirrorPad", infer=_pad_infer, impl=_mirror_pad_impl, input_names=("input",),
    grad=lambda op, dy: [MIRROR_PAD_GRAD(dy, **op.attrs)],
    sample=lambda rng: [([rng.standard_normal((3, 4))], {"paddings": ((1, 2), (2, 0)), "mode": "REFLECT"}),
                        ([rng.standard_normal((3, 4))], {"paddings": ((2, 3), (0, 4)), "mode": "SYMMETRIC"})],
))
MIRROR_PAD_GRAD = register_op(OpDef(
    "MirrorPadGrad", infer=_mirror_pad_grad_infer, impl=_mirror_pad_grad_impl, input_names=("input",),
    grad=lambda op, g: [MIRROR_PAD(g, **op.attrs)],
    sample=lambda rng: [([rng.standard_normal((6, 6))], {"paddings": ((1, 2), (2, 0)), "mode": "REFLECT"}),
                        ([rng.standard_normal((8, 8))], {"paddings": ((2, 3), (0, 4)), "mode": "SYMMETRIC"})],
))


# --- OneHot, ArgMax/ArgMin, ReverseV2 ---
def _one_hot_infer(indices: Tensor, on: Tensor, off: Tensor, *, depth: int, axis: int) -> Any:
    if indices.dtype.base_dtype not in (dtypes.uint8, *_INDEX_TYPES):
        raise TypeError(f"Value passed to parameter 'indices' has DataType {indices.dtype.base_dtype.name} "
                        "not in list of allowed values: uint8, int32, int64")
    if on.dtype.base_dtype != off.dtype.base_dtype:
        raise TypeError(f"dtype {on.dtype.base_dtype.name} of on_value does not match dtype "
                        f"{off.dtype.base_dtype.name} of off_value")
    for t, what in ((on, "on_value"), (off, "off_value")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"{what} must be a scalar, but got shape {t.shape}")
    if depth < 0:
        raise ValueError(f"depth must be non-negative, got: {depth}")
    dims = indices.shape.as_tuple()
    if dims is None:
        return TensorShape(None), on.dtype.base_dtype
    if not -1 <= axis <= len(dims):
        raise ValueError(f"Expected axis to be -1 or between [0, {len(dims)}].  But received: {axis}")
    a = len(dims) if axis == -1 else axis
    return dims[:a] + (depth,) + dims[a:], on.dtype.base_dtype


def _one_hot_impl(xp: Any, indices: Any, on: Any, off: Any, *, depth: int, axis: int) -> Any:
    a = indices.ndim if axis == -1 else axis
    classes = xp.arange(depth).reshape((depth,) + (1,) * (indices.ndim - a))
    return xp.where(xp.expand_dims(indices, a) == classes, on, off)  # out-of-range indices: all off


ONE_HOT = register_op(OpDef(
    "OneHot", infer=_one_hot_infer, impl=_one_hot_impl, grad=NO_GRADIENT, same_dtype=False,
    input_names=("indices", "on_value", "off_value"),
    sample=lambda rng: [([np.array([[0, 3], [2, 5]]), np.float64(2.0), np.float64(-1.0)], {"depth": 4, "axis": 1})],
))


def _arg_infer(x: Tensor, *, axis: int, output_type: dtypes.DType) -> Any:
    shape_fns.numeric(x)
    if output_type not in _INDEX_TYPES:
        raise TypeError(f"output_type must be int32 or int64, got {output_type.name}")
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), output_type
    a = _axis(axis, len(dims), "dimension")
    return dims[:a] + dims[a + 1:], output_type


def _arg_op(name: str, fn: str) -> OpDef:
    def impl(xp: Any, x: Any, *, axis: int, output_type: dtypes.DType) -> Any:
        return getattr(xp, fn)(x, axis=axis).astype(output_type.np_dtype)
    return register_op(OpDef(name, infer=_arg_infer, impl=impl, grad=NO_GRADIENT, input_names=("input",),
                             sample=_randn((3, 4), axis=1, output_type=dtypes.int64)))


ARG_MAX = _arg_op("ArgMax", "argmax")
ARG_MIN = _arg_op("ArgMin", "argmin")


def _reverse_infer(x: Tensor, *, axis: tuple[int, ...]) -> Any:
    rank = x.shape.ndims
    if rank is not None:
        seen = [_axis(a, rank, "'axis'") for a in axis]
        for a in seen:
            if seen.count(a) > 1:
                raise ValueError(f"'axis' {a} specified more than once.")
    return x.shape, x.dtype.base_dtype


REVERSE = register_op(OpDef(
    "ReverseV2", infer=_reverse_infer, impl=lambda xp, x, *, axis: flip(x, axis), aliases=True,
    grad=lambda op, dy: [REVERSE(dy, axis=op.get_attr("axis"))], input_names=("tensor",),
    sample=_randn((2, 3, 4), axis=(0, -1)),
))




def gather(params: Any, indices: Any, validate_indices: Any = None, name: str | None = None, axis: Any = None,
           batch_dims: int = 0) -> Tensor:
    if batch_dims:
        raise ValueError("tf.gather: batch_dims other than 0 is not supported")
    axis = 0 if axis is None else _int(axis, "tf.gather axis")
    return GATHER(params, indices, name=name, axis=axis)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops import dynamic_shape_ops

    if dynamic_shape_ops.contains_graph_value(multiples):  # multiples known only at run time (or packed)
        graph = graph_of([input, multiples])
        with graph.as_default(), graph.name_scope(name or "Tile") as scope:
            return dynamic_shape_ops.tile(input, multiples, scope)
    return TILE(input, name=name, multiples=_ints(multiples, "tf.tile multiples"))


def _paddings(value: Any) -> tuple[tuple[int, int], ...]:
    _no_tensor(value, "tf.pad paddings")
    arr = np.asarray(value)
    if arr.size == 0:
        return ()
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise ValueError(f"tf.pad: paddings must be an integer matrix with 2 columns, got {value!r}")
    return tuple((int(b), int(a)) for b, a in arr)


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", name: str | None = None,
        constant_values: Any = 0) -> Tensor:
    mode = mode.upper()
    pads = _paddings(paddings)
    if mode == "CONSTANT":
        is_zero = not isinstance(constant_values, Tensor) and not hasattr(constant_values, "_as_tensor") \
            and np.ndim(constant_values) == 0 and constant_values == 0
        if is_zero:
            return PAD(tensor, name=name, paddings=pads)
        return PAD_V2(tensor, constant_values, name=name, paddings=pads)
    if mode in ("REFLECT", "SYMMETRIC"):
        return MIRROR_PAD(tensor, name=name, paddings=pads, mode=mode)
    raise ValueError(f"Unknown padding mode: {mode}")


def one_hot(indices: Any, depth: Any, on_value: Any = None, off_value: Any = None, axis: Any = None,
            dtype: Any = None, name: str | None = None) -> Tensor:
    """Off-value everywhere except at each index along the new ``axis`` (default last); no gradient."""
    depth = _int(depth, "tf.one_hot depth")
    axis = -1 if axis is None else _int(axis, "tf.one_hot axis")
    graph = graph_of([indices, on_value, off_value])
    with graph.as_default(), graph.name_scope(name or "one_hot") as scope:
        indices = convert_to_tensor(indices, name="indices")
        dt = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
        on = None if on_value is None else convert_to_tensor(on_value, dtype=dt, name="on_value")
        off = None if off_value is None else convert_to_tensor(off_value, dtype=dt, name="off_value")
        if dt is None:
            dt = on.dtype.base_dtype if on is not None else off.dtype.base_dtype if off is not None else \
                dtypes.float32
        on = convert_to_tensor(1, dtype=dt, name="on_value") if on is None else on
        off = convert_to_tensor(0, dtype=dt, name="off_value") if off is None else off
        return ONE_HOT(indices, on, off, name=scope, depth=depth, axis=axis)


def _arg(opdef: OpDef, input: Any, axis: Any, name: str | None, dimension: Any, output_type: Any) -> Tensor:
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = dimension if axis is None else axis
    axis = 0 if axis is None else _int(axis, f"tf.{opdef.name.lower()} axis")
    return opdef(input, name=name, axis=axis, output_type=dtypes.as_dtype(output_type).base_dtype)


def argmax(input: Any, axis: Any = None, name: str | None = None, dimension: Any = None,
           output_type: Any = dtypes.int64) -> Tensor:
    return _arg(ARG_MAX, input, axis, name, dimension, output_type)


def argmin(input: Any, axis: Any = None, name: str | None = None, dimension: Any = None,
           output_type: Any = dtypes.int64) -> Tensor:
    return _arg(ARG_MIN, input, axis, name, dimension, output_type)


def arg_max(input: Any, dimension: Any, name: str | None = None, output_type: Any = dtypes.int64) -> Tensor:
    return _arg(ARG_MAX, input, None, name, dimension, output_type)


def arg_min(input: Any, dimension: Any, name: str | None = None, output_type: Any = dtypes.int64) -> Tensor:
    return _arg(ARG_MIN, input, None, name, dimension, output_type)


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """minimum then maximum, as TF1 builds it; the gradient passes where t lies inside the range."""
    from gpugraph.ops.math_ops import maximum, minimum

    graph = graph_of([t, clip_value_min, clip_value_max])
    with graph.as_default(), graph.name_scope(name or "clip_by_value") as scope:
        t = convert_to_tensor(t, name="t")
        t_min = minimum(t, clip_value_max)
        if not t.shape.is_compatible_with(t_min.shape):
            raise ValueError(f"clip_by_value: clip_value_max must not broadcast t's shape {t.shape} "
                             f"(got {t_min.shape})")
        out = maximum(t_min, clip_value_min, name=scope)
        if not t.shape.is_compatible_with(out.shape):
            raise ValueError(f"clip_by_value: clip_value_min must not broadcast t's shape {t.shape} "
                             f"(got {out.shape})")
        return out


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    return REVERSE(tensor, name=name, axis=_ints(axis, "tf.reverse axis"))


reverse_v2 = reverse
