"""Math, sorting, segment, N-d indexing and linalg ops against TensorFlow-generated reference data
(tests/ops/data/make_math_extra_reference.py), plus TF1's errors and the tf.math/tf.linalg namespaces."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from op_testing import graph, run  # noqa: F401 - autouse fixture: a fresh default graph per test

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from math_extra_cases import CASES  # noqa: E402

REFERENCE = json.loads((DATA / "math_extra_reference.json").read_text())["cases"]


def _decode(entry: dict) -> np.ndarray:
    values = [np.nan if v is None else float(v) if isinstance(v, str) else v for v in entry["value"]]
    return np.asarray(values, dtype=entry["dtype"]).reshape(entry["shape"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name: str) -> None:
    got = run(*CASES[name](tf))
    got = got if len(REFERENCE[name]) > 1 else [got]
    assert len(got) == len(REFERENCE[name])
    for k, (g, entry) in enumerate(zip(got, REFERENCE[name])):
        want = _decode(entry)
        g = np.asarray(g)
        assert g.shape == want.shape, f"{name} output {k}: shape {g.shape} != TensorFlow's {want.shape}"
        assert g.dtype == want.dtype, f"{name} output {k}: dtype {g.dtype} != TensorFlow's {want.dtype}"
        if want.dtype.kind == "f":
            np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6, err_msg=f"{name} output {k}")
        else:
            np.testing.assert_array_equal(g, want, err_msg=f"{name} output {k}")


def test_reference_covers_every_case() -> None:
    assert sorted(REFERENCE) == sorted(CASES)


def test_data_dependent_sizes_are_unknown_statically() -> None:
    x = tf.placeholder(tf.int32, [6])
    y, idx = tf.unique(x)
    assert y.shape.as_list() == [None] and idx.shape.as_list() == [6]
    masked = tf.boolean_mask(tf.zeros([4, 3]), tf.placeholder(tf.bool, [4]))
    assert masked.shape.as_list() == [None, 3]
    assert tf.segment_sum(tf.zeros([5, 2]), tf.placeholder(tf.int32, [5])).shape.as_list() == [None, 2]
    assert tf.unsorted_segment_sum(tf.zeros([5, 2]), tf.placeholder(tf.int32, [5]), 7).shape.as_list() == [7, 2]


def test_build_time_errors_name_the_op() -> None:
    with pytest.raises(ValueError, match="Only scalar multiply works"):
        tf.scalar_mul(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))
    with pytest.raises(ValueError, match="should be one of ASCENDING, DESCENDING"):
        tf.sort([1.0], direction="UP")
    with pytest.raises(ValueError, match="indices.shape\\[-1\\] must be <= params.rank.*GatherNd"):
        tf.gather_nd(tf.zeros([2, 3]), [[0, 1, 2]])
    with pytest.raises(TypeError, match="bool.*'Erf'"):
        tf.erf(tf.constant([True]))
    with pytest.raises(ValueError, match="'ord' must be a supported matrix norm"):
        tf.norm(tf.zeros([2, 2]), ord=2, axis=[0, 1])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(tf.zeros([2]), True)


def test_run_time_errors_are_invalid_argument() -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a permutation"):
        run(tf.invert_permutation([0, 0, 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into param shape"):
        run(tf.gather_nd(tf.zeros([2, 3]), [[1, 3]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not increasing"):
        run(tf.segment_sum(tf.zeros([3]), [1, 0, 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        run(tf.matrix_solve(tf.ones([2, 2]), tf.ones([2, 1])))


def test_numpy_reference_for_unsorted_segments_with_empty_segments() -> None:
    data = np.array([[1.0, 5.0], [2.0, -1.0], [7.0, 0.0]])
    ids = np.array([2, 0, 2])
    got = run(tf.unsorted_segment_max(data, ids, 4), tf.unsorted_segment_prod(data, ids, 4),
              tf.segment_max(data, [0, 0, 3]))
    lowest = np.finfo(np.float64).min
    np.testing.assert_array_equal(got[0][[1, 3]], lowest)  # TF: the lowest finite value
    np.testing.assert_array_equal(got[0][[0, 2]], [[2.0, -1.0], [7.0, 5.0]])
    np.testing.assert_array_equal(got[1], [[2.0, -1.0], [1.0, 1.0], [7.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(got[2], [[2.0, 5.0], [0.0, 0.0], [0.0, 0.0], [7.0, 0.0]])


def test_qr_and_svd_reconstruct_their_input() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3))
    q, r = run(*tf.qr(x))
    s, u, v = run(*tf.svd(x))
    np.testing.assert_allclose(q @ r, x, atol=1e-12)
    np.testing.assert_allclose(u @ np.diag(s) @ v.T, x, atol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False))
    e, vecs = run(*tf.self_adjoint_eig(x.T @ x))
    np.testing.assert_allclose(vecs @ np.diag(e) @ vecs.T, x.T @ x, atol=1e-12)


def test_namespaces_hold_the_same_functions() -> None:
    assert tf.math.cumsum is tf.cumsum and tf.math.reduce_sum is tf.reduce_sum and tf.math.add is tf.add
    assert tf.math.top_k is tf.nn.top_k and tf.math.in_top_k is tf.nn.in_top_k
    assert tf.linalg.inv is tf.matrix_inverse and tf.linalg.solve is tf.matrix_solve
    assert tf.linalg.band_part is tf.matrix_band_part and tf.linalg.eigh is tf.self_adjoint_eig
    assert tf.compat.v1.math.xlogy is tf.math.xlogy and tf.compat.v1.linalg.qr is tf.qr
    assert tf.dimension_value(tf.Dimension(3)) == 3 and tf.dimension_value(None) is None
    assert tf.is_tensor(tf.constant(1.0)) and not tf.is_tensor(1.0)
    np.testing.assert_array_equal(tf.get_static_value(tf.shape(tf.zeros([2, 5]))), [2, 5])
    assert tf.broadcast_static_shape(tf.TensorShape([3, 1]), tf.TensorShape([4])).as_list() == [3, 4]


def test_small_utilities_against_numpy() -> None:
    a, b = tf.zeros([2, 1, 3]), tf.zeros([4, 3])
    shapes = run(*tf.shape_n([a, b]))
    np.testing.assert_array_equal(shapes[0], [2, 1, 3])
    np.testing.assert_array_equal(run(tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b))), [2, 4, 3])
    ensured = tf.ensure_shape(tf.placeholder(tf.float32, [None, 3]), [2, 3])
    assert ensured.shape.as_list() == [2, 3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not compatible"):
        run(ensured, feed={ensured.op.inputs[0]: np.zeros((4, 3), np.float32)})
    np.testing.assert_array_equal(run(tf.parallel_stack([[1, 2], [3, 4]])), [[1, 2], [3, 4]])
    ids = run(*tf.identity_n([tf.constant(1), tf.constant([2.0])]))
    assert ids[0] == 1 and ids[1].tolist() == [2.0]
