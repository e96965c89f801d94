"""static_rnn / static_bidirectional_rnn against TensorFlow (sequence_length, variable names, gradients)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))

import gpugraph as tf  # noqa: E402
from gpugraph.nn.rnn import reverse_sequence  # noqa: E402
from rnn_cases import SEQ_LEN, STATIC_CASES, assert_matches, run_case  # noqa: E402

REFERENCE = json.loads((Path(__file__).resolve().parent / "data" / "rnn_reference.json").read_text())["cases"]


@pytest.mark.parametrize("name", ["static_seq_len_lstm", "static_seq_len_multi", "static_bidirectional"])
def test_static_rnn_matches_tensorflow(name: str) -> None:
    want = REFERENCE[name]
    assert_matches(run_case(tf, STATIC_CASES[name], given=want), want)


def test_outputs_past_sequence_length_are_zero_and_state_is_carried() -> None:
    got = run_case(tf, STATIC_CASES["static_seq_len_lstm"], given=REFERENCE["static_seq_len_lstm"])
    outputs = np.asarray(got["outputs"])            # [T, B, units]
    for b, length in enumerate(SEQ_LEN):
        assert np.all(outputs[length:, b] == 0)
        assert np.all(outputs[:length, b] != 0)
    final_h = np.asarray(got["state"][1])
    np.testing.assert_array_equal(final_h[0], outputs[SEQ_LEN[0] - 1, 0])
    np.testing.assert_array_equal(final_h[2], 0)    # a sequence of length 0 keeps the zero state


def test_reverse_sequence_against_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 4, 2)).astype(np.float32)     # [batch, time, ...]
    lengths = np.array([5, 2, 0], np.int64)
    want = x.copy()
    for b, n in enumerate(lengths):
        want[b, :n] = x[b, :n][::-1]
    placeholder = tf.placeholder(tf.float32, [None, 5, 4, 2])
    out = reverse_sequence(placeholder, tf.constant(lengths), seq_axis=1, batch_axis=0)
    grad = tf.gradients(tf.reduce_sum(out * np.arange(x.size, dtype=np.float32).reshape(x.shape)), placeholder)[0]
    with tf.Session() as sess:
        got, got_grad = sess.run([out, grad], {placeholder: x})
    np.testing.assert_array_equal(got, want)
    coef = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    want_grad = coef.copy()
    for b, n in enumerate(lengths):
        want_grad[b, :n] = coef[b, :n][::-1]
    np.testing.assert_array_equal(got_grad, want_grad)


def test_unknown_batch_size_and_reuse() -> None:
    xs = [tf.placeholder(tf.float32, [None, 3]) for _ in range(3)]
    with tf.variable_scope("net") as scope:
        outputs, state = tf.nn.static_rnn(tf.nn.rnn_cell.GRUCell(2), xs, dtype=tf.float32,
                                          sequence_length=tf.constant([3, 1]))
    with tf.variable_scope(scope, reuse=True):
        again, _ = tf.nn.static_rnn(tf.nn.rnn_cell.GRUCell(2), xs, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        "net/rnn/gru_cell/gates/kernel", "net/rnn/gru_cell/gates/bias", "net/rnn/gru_cell/candidate/kernel",
        "net/rnn/gru_cell/candidate/bias"]
    assert outputs[0].shape.as_list()[-1] == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: np.ones((2, 3), np.float32) for x in xs}
        o, s, a = sess.run([outputs, state, again], feed)
    np.testing.assert_array_equal(o[2][1], 0)
    np.testing.assert_allclose(s[0], a[2][0], rtol=1e-6)


def test_static_rnn_errors() -> None:
    cell = tf.nn.rnn_cell.BasicRNNCell(2)
    with pytest.raises(TypeError, match="must be a sequence"):
        tf.nn.static_rnn(cell, tf.zeros([2, 3]), dtype=tf.float32)
    with pytest.raises(ValueError, match="must not be empty"):
        tf.nn.static_rnn(cell, [], dtype=tf.float32)
    with pytest.raises(ValueError, match="`dtype` must be specified"):
        tf.nn.static_rnn(cell, [tf.zeros([2, 3])])
    with pytest.raises(ValueError, match="must be accessible via shape inference"):
        tf.nn.static_rnn(cell, [tf.placeholder(tf.float32, [2, None])], dtype=tf.float32)
