"""Sums over leading axes by the compiled loop: NumPy's own sums to the bit, for the shapes a bias's
gradient takes, and NumPy's sum wherever the loop does not take the array."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.fusion import compiled
from gpugraph.kernels import leading_sums
from built_now import built_on_first_call

pytestmark = pytest.mark.skipif(not compiled.available(), reason="no host C++ compiler")


@pytest.fixture(autouse=True)
def built(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from built_on_first_call(leading_sums._LOOPS, tmp_path_factory.mktemp("leading-sums"), monkeypatch)


SHAPES = [(256, 256), (4096, 2), (3, 5000), (256, 10), (8, 7, 9, 16), (2, 3, 4, 6, 33)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_equals_numpys_sum_bit_for_bit(shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(len(shape) * 31 + shape[-1])
    x = (rng.standard_normal(shape) * rng.uniform(0.01, 1e4, shape[-1])).astype(dtype)
    x[..., 0] = -0.0  # a column of negative zeros sums to 0.0, as NumPy's (it starts from add's identity)
    x.reshape(-1, shape[-1])[5 % x.shape[0], 1] = np.nan if shape[-1] > 2 else x.reshape(-1, shape[-1])[0, 1]
    for lead in range(1, len(shape)):
        got = leading_sums.leading_sum(x, lead)
        want = x.sum(axis=tuple(range(lead)))
        assert got is not None and got.shape == want.shape and got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("case", ["one column", "strided", "float16", "int32", "small", "no lead", "list"])
def test_arrays_the_loop_does_not_take_are_left_to_numpy(case: str) -> None:
    x = np.ones((5000, 4), np.float32)
    x, lead = {"one column": (np.ones((5000, 1), np.float32), 1), "strided": (x[::2], 1),
               "float16": (x.astype(np.float16), 1), "int32": (x.astype(np.int32), 1),
               "small": (np.ones((10, 4), np.float32), 1), "no lead": (x, 0), "list": (x.tolist(), 1)}[case]
    assert leading_sums.leading_sum(x, lead) is None


def test_bias_gradients_in_a_graph_are_numpys_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    real = leading_sums.leading_sum

    def spy(x: object, lead: int) -> object:
        out = real(x, lead)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(leading_sums, "leading_sum", spy)
    rng = np.random.default_rng(0)
    g_value = rng.standard_normal((300, 64)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 64])
    b, c = tf.Variable(tf.zeros([64])), tf.Variable(tf.zeros([64]))
    y = tf.nn.bias_add(x + b, c)  # an Add's gradient (SumToShape) and a BiasAdd's (BiasAddGrad)
    grads = tf.gradients(y, [b, c], grad_ys=tf.constant(g_value))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gb, gc = sess.run(grads, {x: np.zeros((300, 64), np.float32)})
    want = g_value.sum(axis=0)
    assert gb.tobytes() == want.tobytes() and gc.tobytes() == want.tobytes()
    assert taken == [True, True]
