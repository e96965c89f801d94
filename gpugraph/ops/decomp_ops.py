"""Solvers and decompositions: matrix_solve, matrix_triangular_solve, cholesky, cholesky_solve, qr, svd,
self_adjoint_eig(vals), slogdet, logdet."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.linalg_extra_ops import MATRIX_BAND_PART, MATRIX_DIAG_PART, MATRIX_SET_DIAG, matrix_transpose
from gpugraph.ops.linalg_ops import MATMUL, MATRIX_INVERSE, _square_infer, _t
from gpugraph.ops.registry import OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import linalg_errors

__all__ = ["matrix_solve", "matrix_triangular_solve", "cholesky", "cholesky_solve", "qr", "svd", "self_adjoint_eig",
           "self_adjoint_eigvals", "slogdet", "logdet"]


def _spd(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    a = rng.standard_normal(shape) * 0.5
    return a @ np.swapaxes(a, -1, -2) + np.eye(shape[-1]) * 2.0


def _well(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) * 0.3 + np.eye(shape[-1]) * 2.0


def _mm(a: Any, b: Any, ta: bool = False, tb: bool = False) -> Tensor:
    return MATMUL(a, b, transpose_a=ta, transpose_b=tb)


def _solve_infer(a: Tensor, b: Tensor, **_: Any) -> Any:
    _square_infer(a)
    da, db = a.shape.as_tuple(), b.shape.as_tuple()
    if da is not None and db is not None:
        if len(db) < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {len(db)}")
        TensorShape([da[-1]]).merge_with(TensorShape([db[-2]]))
    return b.shape, b.dtype.base_dtype


def _reraise_unless_linalg(e: Exception) -> None:
    if type(e).__name__ != "LinAlgError":
        raise e


def _solve_impl(xp: Any, a: Any, b: Any, *, adjoint: bool) -> Any:
    try:
        with linalg_errors(xp):
            return xp.linalg.solve(_t(a, adjoint), b)
    except Exception as e:  # NumPy's LinAlgError, which CuPy raises too
        _reraise_unless_linalg(e)
        raise ValueError("Input matrix is not invertible.") from None


def _solve_grad(op: Any, dy: Tensor) -> list[Any]:
    a, _ = op.inputs
    x = op.outputs[0]
    adjoint = op.get_attr("adjoint")
    gb = MATRIX_SOLVE(a, dy, adjoint=not adjoint)
    ga = -_mm(x, gb, tb=True) if adjoint else -_mm(gb, x, tb=True)
    return [ga, gb]


MATRIX_SOLVE = register_op(OpDef(
    "MatrixSolve", infer=_solve_infer, impl=_solve_impl, grad=_solve_grad, input_names=("matrix", "rhs"),
    sample=lambda rng: [([_well(rng, (3, 3)), rng.standard_normal((3, 2))], {"adjoint": False}),
                        ([_well(rng, (2, 3, 3)), rng.standard_normal((2, 3, 1))], {"adjoint": True})],
))


def _triangle(xp: Any, a: Any, lower: bool) -> Any:
    n = a.shape[-1]
    keep = xp.tril(xp.ones((n, n), dtype=bool)) if lower else xp.triu(xp.ones((n, n), dtype=bool))
    return xp.where(keep, a, xp.zeros((), dtype=a.dtype))


def _tri_solve_impl(xp: Any, a: Any, b: Any, *, lower: bool, adjoint: bool) -> Any:
    # only the named triangle of a is read, as TF's kernel reads it
    return _solve_impl(xp, _triangle(xp, a, lower), b, adjoint=adjoint)


def _tri_solve_grad(op: Any, dy: Tensor) -> list[Any]:
    a, _ = op.inputs
    x = op.outputs[0]
    lower, adjoint = op.get_attr("lower"), op.get_attr("adjoint")
    gb = MATRIX_TRIANGULAR_SOLVE(a, dy, lower=lower, adjoint=not adjoint)
    ga = -_mm(x, gb, tb=True) if adjoint else -_mm(gb, x, tb=True)
    ga = MATRIX_BAND_PART(ga, num_lower=-1, num_upper=0) if lower else MATRIX_BAND_PART(ga, num_lower=0,
                                                                                         num_upper=-1)
    return [ga, gb]


MATRIX_TRIANGULAR_SOLVE = register_op(OpDef(
    "MatrixTriangularSolve", infer=_solve_infer, impl=_tri_solve_impl, grad=_tri_solve_grad,
    input_names=("matrix", "rhs"),
    sample=lambda rng: [([_well(rng, (3, 3)), rng.standard_normal((3, 2))], {"lower": True, "adjoint": False}),
                        ([_well(rng, (2, 3, 3)), rng.standard_normal((2, 3, 2))], {"lower": False, "adjoint": True})],
))


def _cholesky_impl(xp: Any, a: Any) -> Any:
    # the symmetric part is factored: for the symmetric input TF expects, this is TF's result, and the
    # derivative is the symmetric one TF's gradient gives
    sym = (a + xp.swapaxes(a, -1, -2)) * a.dtype.type(0.5)
    try:
        with linalg_errors(xp):
            return xp.linalg.cholesky(sym)
    except Exception as e:  # NumPy's LinAlgError, which CuPy raises too
        _reraise_unless_linalg(e)
        raise ValueError("Cholesky decomposition was not successful. The input might not be valid.") from None


def _cholesky_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import ones_like, zeros_like

    chol = op.outputs[0]
    identity = MATRIX_SET_DIAG(zeros_like(chol), ones_like(MATRIX_DIAG_PART(chol)))
    chol_inv = MATRIX_TRIANGULAR_SOLVE(chol, identity, lower=True, adjoint=False)
    middle = _mm(chol, dy, ta=True)
    middle = MATRIX_SET_DIAG(MATRIX_BAND_PART(middle, num_lower=-1, num_upper=0), 0.5 * MATRIX_DIAG_PART(middle))
    ga = _mm(_mm(chol_inv, middle, ta=True), chol_inv)
    return [0.5 * (ga + matrix_transpose(ga))]


CHOLESKY = register_op(OpDef(
    "Cholesky", infer=_square_infer, impl=_cholesky_impl, grad=_cholesky_grad, input_names=("input",),
    sample=lambda rng: [([_spd(rng, (3, 3))], {}), ([_spd(rng, (2, 2, 2))], {})],
))


def _qr_infer(x: Tensor, *, full_matrices: bool) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return [(TensorShape(None), x.dtype.base_dtype)] * 2
    m, n = dims[-2], dims[-1]
    k = None if m is None or n is None else min(m, n)
    q = dims[:-2] + (m, m if full_matrices else k)
    r = dims[:-2] + (m if full_matrices else k, n)
    return [(q, x.dtype.base_dtype), (r, x.dtype.base_dtype)]


QR = register_op(OpDef(
    "Qr", infer=_qr_infer, input_names=("input",),
    impl=lambda xp, x, *, full_matrices: tuple(xp.linalg.qr(x, mode="complete" if full_matrices else "reduced")),
    sample=lambda rng: [([rng.standard_normal((4, 3))], {"full_matrices": False}),
                        ([rng.standard_normal((2, 3, 2))], {"full_matrices": True})],
))


def _svd_infer(x: Tensor, *, full_matrices: bool, compute_uv: bool) -> Any:
    dims = x.shape.as_tuple()
    dt = x.dtype.base_dtype
    if dims is None:
        return [(TensorShape(None), dt)] * (3 if compute_uv else 1)
    m, n = dims[-2], dims[-1]
    k = None if m is None or n is None else min(m, n)
    s = (dims[:-2] + (k,), dt)
    if not compute_uv:
        return [s]
    return [s, (dims[:-2] + (m, m if full_matrices else k), dt), (dims[:-2] + (n, n if full_matrices else k), dt)]


def _svd_impl(xp: Any, x: Any, *, full_matrices: bool, compute_uv: bool) -> Any:
    if not compute_uv:
        return xp.linalg.svd(x, compute_uv=False)
    u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
    return s, u, xp.swapaxes(vh, -1, -2).copy()  # TF returns v, not its adjoint


SVD = register_op(OpDef(
    "Svd", infer=_svd_infer, impl=_svd_impl, input_names=("input",),
    sample=lambda rng: [([rng.standard_normal((4, 3))], {"full_matrices": False, "compute_uv": True}),
                        ([rng.standard_normal((2, 3))], {"full_matrices": True, "compute_uv": True}),
                        ([rng.standard_normal((3, 3))], {"full_matrices": False, "compute_uv": False})],
))


def _eig_infer(x: Tensor, *, compute_v: bool) -> Any:
    _square_infer(x)
    dims = x.shape.as_tuple()
    dt = x.dtype.base_dtype
    e = (TensorShape(None) if dims is None else dims[:-1], dt)
    return [e, (x.shape, dt)] if compute_v else [e]


def _eig_impl(xp: Any, x: Any, *, compute_v: bool) -> Any:
    if not compute_v:
        return xp.linalg.eigvalsh(x)
    e, v = xp.linalg.eigh(x)
    return e, v


def _eig_grad(op: Any, de: Tensor, dv: Tensor | None = None) -> list[Any]:
    # TF1's rule; eigh reads the lower triangle, so the gradient lives there (diagonal halved)
    from gpugraph.ops.array_ops import expand_dims, zeros_like
    from gpugraph.ops.linalg_extra_ops import matrix_diag
    from gpugraph.ops.unary_ops import reciprocal

    e = op.outputs[0]
    if not op.get_attr("compute_v"):
        _, v = SELF_ADJOINT_EIG(op.inputs[0], compute_v=True)
        inner = matrix_diag(de)
    else:
        v = op.outputs[1]
        f = MATRIX_SET_DIAG(reciprocal(expand_dims(e, -2) - expand_dims(e, -1)), zeros_like(e))
        inner = matrix_diag(de) + (f * _mm(v, dv, ta=True) if dv is not None else 0.0)
    ga = _mm(_mm(v, inner), v, tb=True)
    ga = MATRIX_BAND_PART(ga + matrix_transpose(ga), num_lower=-1, num_upper=0)
    return [MATRIX_SET_DIAG(ga, 0.5 * MATRIX_DIAG_PART(ga))]


SELF_ADJOINT_EIG = register_op(OpDef(
    "SelfAdjointEigV2", infer=_eig_infer, impl=_eig_impl, grad=_eig_grad, input_names=("input",),
    sample=lambda rng: [([_spd(rng, (3, 3)) + np.diag([0.0, 3.0, 6.0])], {"compute_v": False})],
))


def _slogdet_infer(x: Tensor) -> Any:
    _square_infer(x)
    dims = x.shape.as_tuple()
    out = TensorShape(None) if dims is None else dims[:-2]
    return [(out, x.dtype.base_dtype), (out, x.dtype.base_dtype)]


def _slogdet_impl(xp: Any, x: Any) -> Any:
    sign, logdet_ = xp.linalg.slogdet(x)
    return sign.astype(x.dtype, copy=False), logdet_.astype(x.dtype, copy=False)


def _slogdet_grad(op: Any, dsign: Tensor, dlog: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import expand_dims

    return [expand_dims(expand_dims(dlog, -1), -1) * MATRIX_INVERSE(op.inputs[0], adjoint=True)]


LOG_MATRIX_DETERMINANT = register_op(OpDef(
    "LogMatrixDeterminant", infer=_slogdet_infer, impl=_slogdet_impl, grad=_slogdet_grad, input_names=("input",),
    sample=lambda rng: [([_well(rng, (3, 3))], {}), ([-_well(rng, (2, 3, 3))], {})],
))


def matrix_solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    return MATRIX_SOLVE(matrix, rhs, name=name, adjoint=bool(adjoint))


def matrix_triangular_solve(matrix: Any, rhs: Any, lower: bool = True, adjoint: bool = False,
                            name: str | None = None) -> Tensor:
    return MATRIX_TRIANGULAR_SOLVE(matrix, rhs, name=name, lower=bool(lower), adjoint=bool(adjoint))


def cholesky(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF1 name
    return CHOLESKY(input, name=name)


def cholesky_solve(chol: Any, rhs: Any, name: str | None = None) -> Tensor:
    graph = graph_of([chol, rhs])
    with graph.as_default(), graph.name_scope(name or "cholesky_solve") as scope:
        y = MATRIX_TRIANGULAR_SOLVE(chol, rhs, lower=True, adjoint=False)
        return MATRIX_TRIANGULAR_SOLVE(chol, y, name=scope, lower=True, adjoint=True)


def qr(input: Any, full_matrices: bool = False, name: str | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    return tuple(QR(input, name=name, full_matrices=bool(full_matrices)))  # type: ignore[return-value]


def svd(tensor: Any, full_matrices: bool = False, compute_uv: bool = True, name: str | None = None) -> Any:
    """(s, u, v) with compute_uv, else s; v (not its adjoint), as TF returns it."""
    out = SVD(tensor, name=name, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    return tuple(out) if compute_uv else out


def self_adjoint_eig(tensor: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    return tuple(SELF_ADJOINT_EIG(tensor, name=name, compute_v=True))  # type: ignore[return-value]


def self_adjoint_eigvals(tensor: Any, name: str | None = None) -> Tensor:
    return SELF_ADJOINT_EIG(tensor, name=name, compute_v=False)


def slogdet(input: Any, name: str | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002 - TF1 name
    return tuple(LOG_MATRIX_DETERMINANT(input, name=name))  # type: ignore[return-value]


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """log(det(matrix)) of a Hermitian positive-definite matrix: 2 * sum(log(diag(cholesky)))."""
    from gpugraph.ops.reduction_ops import reduce_sum
    from gpugraph.ops.unary_ops import log

    graph = graph_of([matrix])
    with graph.as_default(), graph.name_scope(name or "logdet") as scope:
        from gpugraph.ops.math_ops import MUL

        chol = CHOLESKY(convert_to_tensor(matrix, name="matrix"))
        return MUL(2.0, reduce_sum(log(MATRIX_DIAG_PART(chol)), axis=[-1]), name=scope)
