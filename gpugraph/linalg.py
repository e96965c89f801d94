"""``tf.linalg``: TF1's matrix functions under their tf.linalg names."""

from __future__ import annotations

from typing import Any

from gpugraph.ops.linalg_ops import matmul, matrix_determinant as det, matrix_inverse as inv  # noqa: F401
from gpugraph.ops.linalg_extra_ops import (  # noqa: F401
    cross, einsum, eye, matrix_band_part as band_part, matrix_diag as diag, matrix_diag_part as diag_part,
    matrix_set_diag as set_diag, matrix_transpose, matrix_transpose as adjoint, matrix_transpose as transpose, norm,
    trace, diag as tensor_diag, diag_part as tensor_diag_part,
)
from gpugraph.ops.decomp_ops import (  # noqa: F401
    cholesky, cholesky_solve, logdet, matrix_solve as solve, matrix_triangular_solve as triangular_solve, qr,
    self_adjoint_eig as eigh, self_adjoint_eigvals as eigvalsh, slogdet, svd,
)
from gpugraph.ops.clip_ops import global_norm  # noqa: F401

from gpugraph.nn import l2_normalize  # noqa: F401


def matvec(a: Any, b: Any, transpose_a: bool = False, adjoint_a: bool = False, name: str | None = None) -> Any:
    """a @ b for a (batch of) matrix a and vector b."""
    from gpugraph.ops.array_ops import expand_dims, squeeze

    out = matmul(a, expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return squeeze(out, axis=[-1], name=name)
