"""matmul (transposes, adjoints, batches, shape errors), matrix_inverse and matrix_determinant."""

from __future__ import annotations


import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


RNG = np.random.default_rng(1)
A, B = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))


@pytest.mark.parametrize("kw,a,b", [
    ({}, A, B),
    ({"transpose_a": True}, A.T, B),
    ({"transpose_b": True}, A, B.T),
    ({"transpose_a": True, "transpose_b": True}, A.T, B.T),
    ({"adjoint_a": True}, A.T, B),
    ({"adjoint_b": True}, A, B.T),
    ({"adjoint_a": True, "transpose_b": True}, A.T, B.T),
])
def test_matmul_transposes_and_adjoints(kw: dict[str, bool], a: np.ndarray, b: np.ndarray) -> None:
    out = tf.matmul(tf.constant(a), tf.constant(b), **kw)
    assert out.op.name == "MatMul" and out.shape.as_list() == [2, 4]
    np.testing.assert_allclose(run(out), A @ B, rtol=1e-12)


def test_transpose_and_adjoint_of_one_operand_are_exclusive() -> None:
    with pytest.raises(ValueError, match="transpose_a and adjoint_a"):
        tf.matmul(tf.constant(A), tf.constant(B), transpose_a=True, adjoint_a=True)
    with pytest.raises(ValueError, match="transpose_b and adjoint_b"):
        tf.matmul(tf.constant(A), tf.constant(B), transpose_b=True, adjoint_b=True)


@pytest.mark.parametrize("sa,sb", [((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                                   ((1, 2, 3), (6, 3, 4)), ((2, 1, 2, 3), (3, 3, 4))])
def test_batched_matmul(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    out = tf.matmul(tf.constant(a), tf.constant(b))
    want = a @ b
    assert out.shape.as_tuple() == want.shape
    np.testing.assert_allclose(run(out), want, rtol=1e-12)


def test_batched_matmul_with_transposes() -> None:
    a, b = RNG.standard_normal((4, 3, 2)), RNG.standard_normal((4, 5, 3))
    out = tf.matmul(tf.constant(a), tf.constant(b), transpose_a=True, transpose_b=True)
    np.testing.assert_allclose(run(out), a.swapaxes(-1, -2) @ b.swapaxes(-1, -2), rtol=1e-12)


def test_inner_dimension_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError) as err:
        tf.matmul(tf.ones([2, 3]), tf.ones([4, 5]))
    msg = str(err.value)
    assert "[2,3], [4,5]" in msg and "MatMul" in msg and "3 and 4" in msg
    with pytest.raises(ValueError, match="'prod'.*\\[2,3\\], \\[2,5\\]"):
        tf.matmul(tf.ones([2, 3]), tf.ones([2, 5]), name="prod")
    with pytest.raises(ValueError, match="rank"):
        tf.matmul(tf.ones([3]), tf.ones([3, 2]))
    with pytest.raises(ValueError, match="MatMul"):
        tf.matmul(tf.ones([2, 2, 3]), tf.ones([3, 3, 5]))  # batch dims 2 and 3
    with pytest.raises(TypeError, match="MatMul"):
        tf.matmul(tf.constant([[True]]), tf.constant([[True]]))


def test_unknown_dims() -> None:
    p = tf.placeholder(tf.float64, [None, 3])
    q = tf.placeholder(tf.float64, [3, None])
    u = tf.placeholder(tf.float64)
    assert tf.matmul(p, q).shape.as_tuple() == (None, None)
    assert tf.matmul(p, tf.constant(B)).shape.as_tuple() == (None, 4)
    assert tf.matmul(p, p, transpose_b=True).shape.as_tuple() == (None, None)
    assert tf.matmul(tf.placeholder(tf.float64, [None, 2, 3]), tf.constant(B)).shape.as_tuple() == (None, 2, 4)
    assert tf.matmul(u, tf.constant(B)).shape.as_tuple() is None
    pv = RNG.standard_normal((5, 3))
    got = run(tf.matmul(p, tf.constant(B)), tf.matmul(u, tf.constant(B)), feed={p: pv, u: A})
    np.testing.assert_allclose(got[0], pv @ B)
    np.testing.assert_allclose(got[1], A @ B)
    with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
        run(tf.matmul(u, tf.constant(B)), feed={u: B})  # inner dims 4 and 3 at run time


def test_integer_matmul() -> None:
    got = run(tf.matmul(tf.constant([[1, 2], [3, 4]]), tf.constant([[5], [6]])))
    assert got.dtype == np.int32 and got.tolist() == [[17], [39]]


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_gradients_for_each_transpose(ta: bool, tb: bool) -> None:
    av = A.T.copy() if ta else A
    bv = B.T.copy() if tb else B
    w = RNG.standard_normal((2, 4))
    a, b = tf.constant(av), tf.constant(bv)
    ga, gb = run(*tf.gradients(tf.reduce_sum(tf.matmul(a, b, transpose_a=ta, transpose_b=tb) * w), [a, b]))
    d_opa, d_opb = w @ B.T, A.T @ w  # d loss / d op(a), d loss / d op(b)
    np.testing.assert_allclose(ga, d_opa.T if ta else d_opa, rtol=1e-12)
    np.testing.assert_allclose(gb, d_opb.T if tb else d_opb, rtol=1e-12)


def test_batched_gradient_sums_over_broadcast_batch() -> None:
    a, b = RNG.standard_normal((5, 2, 3)), RNG.standard_normal((3, 4))
    ta, tb = tf.constant(a), tf.constant(b)
    ga, gb = run(*tf.gradients(tf.reduce_sum(tf.matmul(ta, tb)), [ta, tb]))
    ones = np.ones((5, 2, 4))
    np.testing.assert_allclose(ga, ones @ b.T)
    np.testing.assert_allclose(gb, np.einsum("bij,bik->jk", a, ones))


# --- inverse and determinant ---
def _well_conditioned(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape) * 0.3 + 2.0 * np.eye(shape[-1])


def test_matrix_inverse_values_adjoint_and_batches() -> None:
    m, bm = _well_conditioned(3, 3), _well_conditioned(4, 2, 2)
    inv = tf.matrix_inverse(tf.constant(m))
    assert inv.op.name == "MatrixInverse"
    got = run(inv, tf.matrix_inverse(tf.constant(m), adjoint=True), tf.matrix_inverse(tf.constant(bm)),
              tf.matrix_inverse(tf.constant(bm), adjoint=True))
    np.testing.assert_allclose(got[0], np.linalg.inv(m))
    np.testing.assert_allclose(got[1], np.linalg.inv(m.T))
    np.testing.assert_allclose(got[2], np.linalg.inv(bm))
    np.testing.assert_allclose(got[3], np.linalg.inv(bm.swapaxes(-1, -2)))
    u = tf.placeholder(tf.float64)
    np.testing.assert_allclose(run(tf.matrix_inverse(u, adjoint=True), feed={u: bm}),
                               np.linalg.inv(bm.swapaxes(-1, -2)))


def test_singular_matrix_at_run_time_is_invalid_argument_naming_the_op() -> None:
    p = tf.placeholder(tf.float64, [2, 2])
    inv = tf.matrix_inverse(p, name="inv")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible") as err:
        run(inv, feed={p: singular})
    assert "inv" in str(err.value) and err.value.op is inv.op
    assert not isinstance(err.value, np.linalg.LinAlgError)
    folded = tf.matrix_inverse(tf.constant(singular))  # a constant input is folded when the plan is built
    with pytest.raises(tf.errors.InvalidArgumentError, match="MatrixInverse.*not invertible") as err:
        run(folded)
    assert err.value.op is folded.op
    np.testing.assert_allclose(run(inv, feed={p: np.eye(2) * 4}), np.eye(2) / 4)  # the session still works


def test_inverse_and_determinant_input_checks() -> None:
    with pytest.raises(TypeError, match="MatrixInverse"):
        tf.matrix_inverse(tf.constant([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match="MatrixInverse.*\\[2,3\\]"):
        tf.matrix_inverse(tf.ones([2, 3]))
    with pytest.raises(ValueError, match="MatrixDeterminant"):
        tf.matrix_determinant(tf.ones([3]))


def test_matrix_determinant_batched() -> None:
    bm = _well_conditioned(4, 3, 3)
    det = tf.matrix_determinant(tf.constant(bm))
    assert det.op.name == "MatrixDeterminant" and det.shape.as_tuple() == (4,)
    np.testing.assert_allclose(run(det), np.linalg.det(bm))
    d32 = run(tf.matrix_determinant(tf.constant(bm.astype(np.float32))))
    assert d32.dtype == np.float32 and d32.shape == (4,)
    assert tf.matrix_determinant(tf.placeholder(tf.float32, [None, 2, 2])).shape.as_tuple() == (None,)
    assert tf.matrix_determinant(tf.placeholder(tf.float32)).shape.as_tuple() is None
    np.testing.assert_allclose(run(tf.matrix_determinant(tf.constant([[1.0, 2.0], [2.0, 4.0]]))), 0.0)


def test_determinant_gradient_is_det_times_inverse_transpose() -> None:
    bm = _well_conditioned(3, 2, 2)
    x = tf.placeholder(tf.float64)  # unknown rank: the rule needs none
    g = run(tf.gradients(tf.reduce_sum(tf.matrix_determinant(x)), x)[0], feed={x: bm})
    want = np.linalg.det(bm)[:, None, None] * np.linalg.inv(bm).swapaxes(-1, -2)
    np.testing.assert_allclose(g, want, rtol=1e-10)


@pytest.mark.parametrize("m,k,n", [(100, 9, 1), (130, 70, 60)])  # below and above a one-thread product's size
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_fed_matrix_products_of_either_size_equal_numpy(m: int, k: int, n: int, ta: bool, tb: bool) -> None:
    a = RNG.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = RNG.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    pa, pb = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, None])
    with tf.Session() as sess:
        for _ in range(2):
            got = sess.run(tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb), {pa: a, pb: b})
            want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
            assert got.dtype == np.float32 and got.shape == (m, n)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
            sess.run(tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb), {pa: a, pb: b[:-1] if not tb else b[:, :-1]})
