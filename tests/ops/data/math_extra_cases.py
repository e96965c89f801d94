"""Math, sorting, segment, indexing and linalg graphs built the same way by TensorFlow and by gpugraph.

Each case takes the ``tf`` module (tf.compat.v1 or gpugraph) and returns a list of tensors: the values,
and for differentiable cases the gradients of a weighted sum of the value, so both rules are compared.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

RNG = np.random.default_rng(3)
X = RNG.uniform(-0.9, 0.9, (3, 4))
POS = RNG.uniform(0.3, 3.0, (3, 4))
BIG = RNG.uniform(1.2, 3.0, (3, 4))
W = RNG.standard_normal((3, 4))
SPD = (lambda a: a @ a.T + 3 * np.eye(3))(RNG.standard_normal((3, 3)))
A = RNG.standard_normal((3, 3)) * 0.3 + 2 * np.eye(3)
B = RNG.standard_normal((3, 2))


def _grad(build: Callable[[Any, Any], Any], value: np.ndarray, weights: Any = None) -> Callable[[Any], Any]:
    """The op's value and d(sum(value * w))/dx."""
    def make(tf: Any) -> list[Any]:
        x = tf.constant(value)
        y = build(tf, x)
        w = tf.constant(1.5 if weights is None else weights)
        return [y, tf.gradients(tf.reduce_sum(y * tf.cast(w, y.dtype)), x)[0]]
    return make


def _value(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def make(tf: Any) -> list[Any]:
        out = build(tf)
        return list(out) if isinstance(out, (list, tuple)) else [out]
    return make


SEG_DATA = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 4.0], [2.0, 2.0], [-3.0, 1.5]])
SORTED_IDS = np.array([0, 0, 2, 2, 3])
UNSORTED_IDS = np.array([3, 0, 3, -1, 1])

CASES: dict[str, Callable[[Any], Any]] = {
    "erf": _grad(lambda tf, x: tf.erf(x), X * 2),
    "erfc": _grad(lambda tf, x: tf.math.erfc(x), X * 2),
    "lgamma": _grad(lambda tf, x: tf.lgamma(x), POS),
    "digamma": _grad(lambda tf, x: tf.digamma(x), POS),
    "expm1": _grad(lambda tf, x: tf.expm1(x), X),
    "asin": _grad(lambda tf, x: tf.asin(x), X),
    "acos": _grad(lambda tf, x: tf.acos(x), X),
    "atan": _grad(lambda tf, x: tf.atan(x), X * 3),
    "sinh": _grad(lambda tf, x: tf.sinh(x), X * 2),
    "cosh": _grad(lambda tf, x: tf.cosh(x), X * 2),
    "asinh": _grad(lambda tf, x: tf.asinh(x), X * 3),
    "acosh": _grad(lambda tf, x: tf.acosh(x), BIG),
    "atanh": _grad(lambda tf, x: tf.atanh(x), X),
    "tan": _grad(lambda tf, x: tf.math.tan(x), X),
    "atan2": _grad(lambda tf, x: tf.atan2(x, tf.constant(POS - 1.5)), X),
    "log_sigmoid": _grad(lambda tf, x: tf.log_sigmoid(x), X * 30),
    "softsign": _grad(lambda tf, x: tf.math.softsign(x), X * 3),
    "xlogy": _value(lambda tf: tf.math.xlogy(tf.constant([0.0, 0.0, 2.0, 3.0]), tf.constant([0.0, 2.0, 3.0, 0.5]))),
    "xdivy": _value(lambda tf: tf.math.xdivy(tf.constant([0.0, 0.0, 2.0]), tf.constant([0.0, 2.0, 3.0]))),
    "rint": _value(lambda tf: tf.rint(tf.constant([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.7]))),
    "is_nan_inf_finite": _value(lambda tf: [f(tf.constant([0.0, np.nan, np.inf, -np.inf]))
                                            for f in (tf.is_nan, tf.is_inf, tf.is_finite)]),
    "saturate_cast": _value(lambda tf: tf.saturate_cast(tf.constant([-300.0, 12.7, 300.0]), tf.uint8)),
    "clip_by_average_norm": _grad(lambda tf, x: tf.clip_by_average_norm(x, 0.05), X.astype(np.float32)),
    "scalar_mul": _value(lambda tf: tf.scalar_mul(2.5, tf.constant(X))),
    "reduce_all_any": _value(lambda tf: [tf.reduce_all(tf.constant(X > -0.5), axis=1),
                                         tf.reduce_any(tf.constant(X > 0.5), axis=0, keepdims=True)]),
    "reduce_logsumexp": _grad(lambda tf, x: tf.reduce_logsumexp(x, axis=1), X * 50, np.arange(3.0)),
    "reduce_logsumexp_all": _grad(lambda tf, x: tf.reduce_logsumexp(x, keepdims=True), X),
    "count_nonzero": _value(lambda tf: tf.count_nonzero(tf.constant([[0, 1, 2], [0, 0, 3]]), axis=1)),
    "reduce_std_variance": _value(lambda tf: [tf.math.reduce_std(tf.constant(X), axis=0),
                                              tf.math.reduce_variance(tf.constant(X), keepdims=True)]),
    "cumsum": _grad(lambda tf, x: tf.cumsum(x, axis=1, exclusive=True, reverse=True), X, W),
    "cumprod": _grad(lambda tf, x: tf.cumprod(x, axis=0, exclusive=True), POS, W),
    "sort": _grad(lambda tf, x: tf.sort(x, axis=0, direction="DESCENDING"), X, W),
    "argsort": _value(lambda tf: [tf.argsort(tf.constant([3, 1, 3, 0, 1])),
                                  tf.argsort(tf.constant([3, 1, 3, 0, 1]), direction="DESCENDING")]),
    "searchsorted": _value(lambda tf: [tf.searchsorted(tf.constant([[0.0, 1, 1, 3], [2, 4, 6, 8]]),
                                                       tf.constant([[1.0, 2, 4], [2, 5, 9]]), side=s)
                                       for s in ("left", "right")]),
    "unique": _value(lambda tf: tf.unique_with_counts(tf.constant([4, 1, 4, 2, 1, 4]))),
    "setdiff1d": _value(lambda tf: tf.setdiff1d(tf.constant([5, 1, 2, 5, 3]), tf.constant([5, 3]))),
    "invert_permutation": _value(lambda tf: tf.invert_permutation(tf.constant([2, 0, 3, 1]))),
    "bincount": _value(lambda tf: [tf.bincount(tf.constant([1, 1, 4, 0])),
                                   tf.bincount(tf.constant([1, 1, 4, 0]), minlength=7),
                                   tf.bincount(tf.constant([1, 1, 4, 0]), maxlength=3),
                                   tf.bincount(tf.constant([1, 1, 3]), weights=tf.constant([0.5, 2.0, 1.0]))]),
    "histogram_fixed_width": _value(lambda tf: tf.histogram_fixed_width(
        tf.constant([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0]), [0.0, 5.0], nbins=5)),
    "confusion_matrix": _value(lambda tf: [tf.confusion_matrix([1, 2, 4], [2, 2, 4]),
                                           tf.math.confusion_matrix([0, 1], [1, 1], num_classes=3,
                                                                    weights=[0.5, 2.0], dtype=tf.float32)]),
    "segment_sum": _grad(lambda tf, x: tf.segment_sum(x, SORTED_IDS), SEG_DATA),
    "segment_mean": _grad(lambda tf, x: tf.segment_mean(x, SORTED_IDS), SEG_DATA),
    "segment_max": _grad(lambda tf, x: tf.segment_max(x, SORTED_IDS), SEG_DATA),
    "segment_min": _grad(lambda tf, x: tf.segment_min(x, SORTED_IDS), SEG_DATA),
    "segment_prod": _grad(lambda tf, x: tf.segment_prod(x, SORTED_IDS), SEG_DATA),
    "unsorted_segment_sum": _grad(lambda tf, x: tf.unsorted_segment_sum(x, UNSORTED_IDS, 5), SEG_DATA),
    "unsorted_segment_max": _value(lambda tf: tf.unsorted_segment_max(tf.constant(SEG_DATA), UNSORTED_IDS, 5)),
    "unsorted_segment_min": _value(lambda tf: tf.unsorted_segment_min(tf.constant(SEG_DATA), UNSORTED_IDS, 5)),
    "unsorted_segment_prod": _grad(lambda tf, x: tf.unsorted_segment_prod(x, UNSORTED_IDS, 5),
                                   SEG_DATA * np.array([[1.0, 0.0]] * 2 + [[1.0, 1.0]] * 3)),
    "unsorted_segment_mean": _grad(lambda tf, x: tf.math.unsorted_segment_mean(x, UNSORTED_IDS, 5), SEG_DATA),
    "unsorted_segment_sqrt_n": _grad(lambda tf, x: tf.math.unsorted_segment_sqrt_n(x, UNSORTED_IDS, 5), SEG_DATA),
    "dynamic_partition": _grad(lambda tf, x: tf.concat(tf.dynamic_partition(x, [1, 0, 2, 1, 1], 3), 0) * 1.0,
                               SEG_DATA),
    "dynamic_stitch": _value(lambda tf: tf.dynamic_stitch([[0, 2], [1, 2]], [[[1.0], [2.0]], [[3.0], [4.0]]])),
    "gather_nd": _grad(lambda tf, x: tf.gather_nd(x, [[0, 1], [2, 3], [0, 1]]), X),
    "scatter_nd": _value(lambda tf: tf.scatter_nd([[1], [3], [1]], tf.constant([[1.0, 2.0], [3.0, 4.0],
                                                                                [5.0, 6.0]]), [4, 2])),
    "batch_gather": _grad(lambda tf, x: tf.batch_gather(x, [[3, 0], [1, 1], [2, 0]]), X),
    "boolean_mask": _grad(lambda tf, x: tf.boolean_mask(x, X[:, 0] > 0), X),
    "boolean_mask_axis": _grad(lambda tf, x: tf.boolean_mask(x, [True, False, True, True], axis=1), X),
    "sequence_mask": _value(lambda tf: [tf.sequence_mask([1, 3, 2], 5), tf.sequence_mask([[1, 3], [0, 2]]),
                                        tf.sequence_mask([2, 0], 3, dtype=tf.float32)]),
    "broadcast_to": _grad(lambda tf, x: tf.broadcast_to(x[:, :1], [2, 3, 4]), X),
    "meshgrid": _value(lambda tf: tf.meshgrid([1, 2, 3], [4, 5]) + tf.meshgrid([1, 2], [3, 4, 5], indexing="ij")),
    "repeat": _grad(lambda tf, x: tf.repeat(x, [1, 0, 2], axis=0), X),
    "roll": _grad(lambda tf, x: tf.roll(x, [1, -3], [0, 1]), X, W),
    "reverse_sequence": _grad(lambda tf, x: tf.reverse_sequence(x, [2, 4, 0], seq_axis=1, batch_axis=0), X, W),
    "eye": _value(lambda tf: [tf.eye(2, 3), tf.eye(2, batch_shape=[2], dtype=tf.int32)]),
    "linspace": _value(lambda tf: tf.lin_space(-1.0, 2.0, 7)),
    "diag": _grad(lambda tf, x: tf.diag(x), X[:2]),
    "diag_part": _grad(lambda tf, x: tf.diag_part(x), np.arange(36.0).reshape(2, 3, 2, 3)),
    "matrix_diag": _grad(lambda tf, x: tf.matrix_diag(x), X),
    "matrix_diag_part": _grad(lambda tf, x: tf.matrix_diag_part(x), X),
    "matrix_set_diag": _grad(lambda tf, x: tf.matrix_set_diag(x, [1.0, 2.0, 3.0]), X, W),
    "matrix_band_part": _grad(lambda tf, x: tf.matrix_band_part(x, 1, 0), X, W),
    "matrix_transpose": _value(lambda tf: tf.matrix_transpose(tf.constant(np.arange(12.0).reshape(1, 3, 4)))),
    "einsum": _grad(lambda tf, x: tf.einsum("ij,kj->ik", x, tf.constant(W)), X),
    "einsum_sum": _grad(lambda tf, x: tf.einsum("ij->j", x), X),
    "norm": _value(lambda tf: [tf.norm(tf.constant(X)), tf.norm(tf.constant(X), ord=1, axis=1),
                               tf.norm(tf.constant(X), ord=np.inf, axis=0, keepdims=True),
                               tf.norm(tf.constant(X), ord=3, axis=1), tf.norm(tf.constant(X), ord="fro", axis=[0, 1]),
                               tf.norm(tf.constant(X), ord=1, axis=[0, 1])]),
    "cross": _grad(lambda tf, x: tf.cross(x[:, :3], tf.constant(W[:, :3])), X),
    "trace": _grad(lambda tf, x: tf.trace(x), X),
    "matrix_solve": _grad(lambda tf, x: tf.matrix_solve(x, tf.constant(B)), A, RNG.standard_normal((3, 2))),
    "matrix_solve_adjoint": _grad(lambda tf, x: tf.matrix_solve(x, tf.constant(B), adjoint=True), A,
                                  RNG.standard_normal((3, 2))),
    "matrix_triangular_solve": _grad(lambda tf, x: tf.matrix_triangular_solve(x, tf.constant(B)), A,
                                     RNG.standard_normal((3, 2))),
    "cholesky": _grad(lambda tf, x: tf.cholesky(x), SPD, np.tril(RNG.standard_normal((3, 3)))),
    "cholesky_solve": _value(lambda tf: tf.cholesky_solve(tf.cholesky(tf.constant(SPD)), tf.constant(B))),
    "self_adjoint_eigvals": _grad(lambda tf, x: tf.self_adjoint_eigvals(x), SPD + np.diag([0.0, 4.0, 8.0]),
                                  np.array([1.0, -2.0, 0.5])),
    "slogdet": _grad(lambda tf, x: tf.linalg.slogdet(x)[1], -A),
    "logdet": _grad(lambda tf, x: tf.linalg.logdet(x), SPD),
    "linalg_namespace": _value(lambda tf: [tf.linalg.inv(tf.constant(A)), tf.linalg.det(tf.constant(A)),
                                           tf.linalg.band_part(tf.constant(X), 0, 1), tf.linalg.trace(tf.constant(A)),
                                           tf.linalg.eye(2), tf.linalg.diag([1.0, 2.0])]),
}
