"""String tensors (tf.string): constants, feeds, fetches and shape ops; expected values as TensorFlow gives them."""

from __future__ import annotations

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf
from gpugraph.compiler.place import has_gpu_kernel


def _bytes_array(values: list, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(shape)


def _assert_bytes_array(got: object, want: np.ndarray) -> None:
    assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == want.shape
    assert got.tolist() == want.tolist() and all(type(v) is bytes for v in got.reshape(-1))


def test_scalar_constant_fetches_bytes_and_prints_as_tensorflow(capsys) -> None:
    hello = tf.constant("Hello, TensorFlow!")
    assert str(hello) == 'Tensor("Const:0", shape=(), dtype=string)'
    value = run(hello)
    assert type(value) is bytes and value == b"Hello, TensorFlow!"
    print(value)
    assert capsys.readouterr().out == "b'Hello, TensorFlow!'\n"


def test_list_constants_and_utf8() -> None:
    a = tf.constant([b"a", b"b"])
    assert a.dtype == tf.string and a.shape.as_list() == [2]
    _assert_bytes_array(run(a), _bytes_array([b"a", b"b"], (2,)))
    _assert_bytes_array(run(tf.constant([["é"]])), _bytes_array([b"\xc3\xa9"], (1, 1)))
    assert tf.constant(["x", "yy"]).dtype == tf.string


@pytest.mark.parametrize("fed, want", [
    (["x", b"y"], [b"x", b"y"]),
    (np.array(["x", "yz"]), [b"x", b"yz"]),
    (np.array([b"p", b"q"]), [b"p", b"q"]),
    (np.array(["o", b"b"], dtype=object), [b"o", b"b"]),
])
def test_feeds_of_str_bytes_and_arrays_fetch_as_bytes(fed: object, want: list) -> None:
    p = tf.placeholder(tf.string, [None])
    _assert_bytes_array(run(tf.identity(p), feed={p: fed}), _bytes_array(want, (2,)))


def test_unshaped_placeholder_takes_a_python_string() -> None:
    q = tf.placeholder(tf.string)
    assert run(tf.identity(q), feed={q: "z"}) == b"z"


def test_shape_ops_on_strings() -> None:
    h = tf.constant("hi")
    a = tf.constant([b"a", b"b"])
    _assert_bytes_array(run(tf.reshape(tf.stack([h, h]), [2, 1])), _bytes_array([b"hi", b"hi"], (2, 1)))
    _assert_bytes_array(run(tf.concat([a, a], 0)), _bytes_array([b"a", b"b", b"a", b"b"], (4,)))
    _assert_bytes_array(run(tf.gather(a, [1, 0])), _bytes_array([b"b", b"a"], (2,)))


def test_string_ops_stay_on_the_host() -> None:
    a = tf.constant([b"a"])
    assert not has_gpu_kernel(tf.identity(a).op) and not has_gpu_kernel(a.op)
    assert has_gpu_kernel(tf.identity(tf.constant([1.0])).op)


@pytest.mark.parametrize("build, message", [
    (lambda: tf.constant(["a", 1]), "Failed to convert"),
    (lambda: tf.constant("a", dtype=tf.float32), "expected float32, got 'a' of type 'str'"),
    (lambda: tf.constant(1.0, dtype=tf.string), "expected string, got 1.0 of type 'float'"),
])
def test_mixed_and_mistyped_values_are_refused(build, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build()


def test_feeding_numbers_to_a_string_placeholder_names_the_tensor() -> None:
    p = tf.placeholder(tf.string, [2], name="words")
    with pytest.raises(TypeError, match="words:0"):
        run(tf.identity(p), feed={p: [1, 2]})
