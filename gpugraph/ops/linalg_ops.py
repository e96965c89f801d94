"""Matrix ops: matmul (transposes, batches), matrix_inverse, matrix_determinant."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.grad_util import unbroadcast
from gpugraph.ops.host_blas import is_small_product, sized_product
from gpugraph.ops.registry import OpDef, register_op
from gpugraph.ops.xp_compat import linalg_errors

__all__ = ["matmul", "matrix_inverse", "matrix_determinant"]


def _matmul_infer(a: Tensor, b: Tensor, *, transpose_a: bool, transpose_b: bool) -> Any:
    shape_fns.numeric(a)
    da, db = a.shape.as_tuple(), b.shape.as_tuple()
    if da is None or db is None:
        return TensorShape(None), a.dtype.base_dtype
    if len(da) < 2 or len(db) < 2:
        raise ValueError(f"Shape must be rank >= 2 but is rank {min(len(da), len(db))}")
    m, ka = (da[-1], da[-2]) if transpose_a else (da[-2], da[-1])
    kb, n = (db[-1], db[-2]) if transpose_b else (db[-2], db[-1])
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb}")
    batch = shape_fns.broadcast_dims(da[:-2], db[:-2])
    return tuple(batch) + (m, n), a.dtype.base_dtype  # type: ignore[arg-type]


def _t(x: Any, flag: bool) -> Any:
    return x.swapaxes(-1, -2) if flag else x


def _matmul_impl(xp: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    a, b = _t(a, transpose_a), _t(b, transpose_b)
    if a.ndim < 2 or b.ndim < 2:
        return xp.matmul(a, b)
    macs = max(a.size * b.shape[-1], b.size * a.shape[-2])  # multiply-adds, batches included
    return sized_product(xp, macs, lambda: xp.matmul(a, b))


def _matmul_lowering(op: Any, xp: Any) -> Any:
    """On NumPy, a product of two matrices (rank 2 in the graph) with no batch to broadcast: small ones go
    straight to ``numpy.matmul`` (a mini-batch's 100x9 by 9x1 costs less than the generic checks)."""
    if xp is not np or op.inputs[0].shape.ndims != 2 or op.inputs[1].shape.ndims != 2:
        return None
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")

    def product(a: Any, b: Any) -> Any:
        x, y = (a.T if ta else a), (b.T if tb else b)
        macs = x.size * y.shape[1]
        if is_small_product(macs):
            return np.matmul(x, y)
        return sized_product(np, macs, lambda: np.matmul(x, y))
    return product


def _matmul_grad(op: Any, dy: Tensor) -> list[Any]:
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        ga, gb = MATMUL(dy, b, transpose_a=False, transpose_b=True), MATMUL(a, dy, transpose_a=True, transpose_b=False)
    elif not ta and tb:
        ga, gb = MATMUL(dy, b, transpose_a=False, transpose_b=False), MATMUL(dy, a, transpose_a=True, transpose_b=False)
    elif ta and not tb:
        ga, gb = MATMUL(b, dy, transpose_a=False, transpose_b=True), MATMUL(a, dy, transpose_a=False, transpose_b=False)
    else:
        ga, gb = MATMUL(b, dy, transpose_a=True, transpose_b=True), MATMUL(dy, a, transpose_a=True, transpose_b=True)
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is not None and rb is not None and ra == rb == 2:
        return [ga, gb]
    return [unbroadcast(ga, a), unbroadcast(gb, b)]  # batched: sum over broadcast batch dims


MATMUL = register_op(OpDef(
    "MatMul", infer=_matmul_infer, impl=_matmul_impl, grad=_matmul_grad, input_names=("a", "b"),
    lowering=_matmul_lowering,
    sample=lambda rng: [
        ([rng.standard_normal((2, 3)), rng.standard_normal((3, 4))], {"transpose_a": False, "transpose_b": False}),
        ([rng.standard_normal((3, 2)), rng.standard_normal((4, 3))], {"transpose_a": True, "transpose_b": True}),
        ([rng.standard_normal((5, 2, 3)), rng.standard_normal((3, 4))], {"transpose_a": False, "transpose_b": False}),
    ],
))


def _square_infer(x: Tensor, **_: Any) -> Any:
    shape_fns.floating(x)
    dims = x.shape.as_tuple()
    if dims is not None:
        if len(dims) < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {len(dims)}")
        if dims[-1] is not None and dims[-2] is not None and dims[-1] != dims[-2]:
            raise ValueError(f"Dimensions must be equal, but are {dims[-2]} and {dims[-1]}")
    return x.shape, x.dtype.base_dtype


def _inverse_impl(xp: Any, x: Any, *, adjoint: bool = False) -> Any:
    # CuPy reports a singular input only when asked to (it then waits for cuSOLVER's status)
    try:
        with linalg_errors(xp):
            return xp.linalg.inv(_t(x, adjoint))
    except np.linalg.LinAlgError:  # NumPy's and CuPy's: TF1's message, a run-time InvalidArgumentError
        raise ValueError("Input is not invertible.") from None


def _inverse_grad(op: Any, dy: Tensor) -> list[Any]:
    # Y = inv(A) gives dA = -Y^T dY Y^T; Y = inv(A^T) gives dA = -Y dY^T Y
    inv = op.outputs[0]
    if op.get_attr("adjoint"):
        return [-MATMUL(inv, MATMUL(dy, inv, transpose_a=True, transpose_b=False),
                        transpose_a=False, transpose_b=False)]
    return [-MATMUL(inv, MATMUL(dy, inv, transpose_a=False, transpose_b=True),
                    transpose_a=True, transpose_b=False)]


def _well_conditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    n = shape[-1]
    return rng.standard_normal(shape) * 0.3 + np.eye(n) * 2.0


def _det_infer(x: Tensor) -> Any:
    _square_infer(x)
    dims = x.shape.as_tuple()
    return (TensorShape(None) if dims is None else dims[:-2]), x.dtype.base_dtype


def _det_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import expand_dims

    # d det(A) / dA = det(A) * inv(A)^T = det(A) * inv(A^T): no rank needed
    x, det = op.inputs[0], op.outputs[0]
    scale = expand_dims(expand_dims(dy * det, -1), -1)
    return [scale * MATRIX_INVERSE(x, adjoint=True)]


MATRIX_INVERSE = register_op(OpDef(
    "MatrixInverse", infer=_square_infer, impl=_inverse_impl, grad=_inverse_grad,
    input_names=("input",), sample=lambda rng: [([_well_conditioned(rng, (3, 3))], {"adjoint": False}),
                                                ([_well_conditioned(rng, (2, 2, 2))], {"adjoint": False}),
                                                ([_well_conditioned(rng, (2, 3, 3))], {"adjoint": True})],
))
MATRIX_DETERMINANT = register_op(OpDef(
    "MatrixDeterminant", infer=_det_infer, impl=lambda xp, x: xp.asarray(xp.linalg.det(x), dtype=x.dtype),
    grad=_det_grad, input_names=("input",), sample=lambda rng: [([_well_conditioned(rng, (3, 3))], {}),
                                                                ([_well_conditioned(rng, (2, 2, 2))], {})],
))


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False,
           name: str | None = None) -> Tensor:
    """a @ b over the last two dims (batched when either is 3-D or more); adjoint == transpose for reals."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    return MATMUL(a, b, name=name or "MatMul", transpose_a=bool(transpose_a or adjoint_a),
                  transpose_b=bool(transpose_b or adjoint_b))


def matrix_inverse(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    return MATRIX_INVERSE(input, name=name, adjoint=bool(adjoint))


def matrix_determinant(input: Any, name: str | None = None) -> Tensor:
    return MATRIX_DETERMINANT(input, name=name)
