"""static_rnn / dynamic_rnn and their bidirectional forms against TensorFlow (sequence_length, variable names,
gradients), and dynamic_rnn against a NumPy LSTM at run-time batch sizes and lengths."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))

import gpugraph as tf  # noqa: E402
from gpugraph.nn.rnn import reverse_sequence  # noqa: E402
from gpugraph.testing import simulated_gpus  # noqa: E402
from rnn_cases import DYNAMIC_CASES, SEQ_LEN, STATIC_CASES, assert_matches, run_case  # noqa: E402

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


@pytest.mark.parametrize("name", sorted(DYNAMIC_CASES))
def test_dynamic_rnn_matches_tensorflow(name: str) -> None:
    want = REFERENCE[name]
    assert_matches(run_case(tf, DYNAMIC_CASES[name], given=want), want)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def numpy_lstm(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, lengths: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BasicLSTMCell (gates i, j, f, o; forget bias 1) over batch-major ``x``: outputs, final c and h."""
    batch, steps, _ = x.shape
    units = kernel.shape[1] // 4
    c = np.zeros((batch, units))
    h = np.zeros((batch, units))
    outputs = np.zeros((batch, steps, units))
    for t in range(steps):
        i, j, f, o = np.split(np.concatenate([x[:, t], h], 1) @ kernel + bias, 4, axis=1)
        new_c = c * _sigmoid(f + 1.0) + _sigmoid(i) * np.tanh(j)
        new_h = np.tanh(new_c) * _sigmoid(o)
        live = np.ones(batch, bool) if lengths is None else t < lengths
        c = np.where(live[:, None], new_c, c)
        h = np.where(live[:, None], new_h, h)
        outputs[:, t] = np.where(live[:, None], new_h, 0.0)
    return outputs, c, h


def _lstm_weights(depth: int, units: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return ((0.4 * rng.standard_normal((depth + units, 4 * units))).astype(np.float32),
            (0.1 * rng.standard_normal(4 * units)).astype(np.float32))


def test_unknown_batch_size_fed_at_two_sizes() -> None:
    x = tf.placeholder(tf.float32, [None, 5, 3])
    lengths = tf.placeholder(tf.int32, [None])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), x, sequence_length=lengths, dtype=tf.float32)
    assert outputs.shape.as_list() == [None, 5, 4]
    assert state.c.shape.as_list() == [None, 4] and state.h.shape.as_list() == [None, 4]
    kernel, bias = _lstm_weights(3, 4)
    rng = np.random.default_rng(4)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.global_variables()[0].load(kernel, sess)
        tf.global_variables()[1].load(bias, sess)
        for batch, seq in ((2, [5, 3]), (5, [1, 5, 0, 2, 4])):
            feed = rng.standard_normal((batch, 5, 3)).astype(np.float32)
            got_out, got_c, got_h = sess.run([outputs, state.c, state.h], {x: feed, lengths: seq})
            want_out, want_c, want_h = numpy_lstm(feed, kernel, bias, np.array(seq))
            np.testing.assert_allclose(got_out, want_out, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_c, want_c, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_h, want_h, rtol=1e-5, atol=1e-6)


def test_unknown_number_of_time_steps_fed_at_two_lengths() -> None:
    x = tf.placeholder(tf.float32, [None, None, 2])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), x, dtype=tf.float32)
    assert outputs.shape.as_list() == [None, None, 3]
    loss = tf.reduce_sum(outputs * outputs)
    dx, dkernel = tf.gradients(loss, [x, tf.global_variables()[0]])
    kernel, bias = _lstm_weights(2, 3)
    rng = np.random.default_rng(5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.global_variables()[0].load(kernel, sess)
        tf.global_variables()[1].load(bias, sess)
        for steps in (2, 7):
            feed = rng.standard_normal((3, steps, 2)).astype(np.float32)
            got_out, got_h, got_dx = sess.run([outputs, state.h, dx], {x: feed})
            want_out, _, want_h = numpy_lstm(feed.astype(np.float64), kernel, bias)
            np.testing.assert_allclose(got_out, want_out, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_h, want_h, rtol=1e-5, atol=1e-6)
            # d loss / d x[0, 0, 0] by central differences of the NumPy LSTM in float64
            bumped = [feed.astype(np.float64) for _ in range(2)]
            bumped[0][0, 0, 0] += 1e-6
            bumped[1][0, 0, 0] -= 1e-6
            numeric = (np.sum(numpy_lstm(bumped[0], kernel, bias)[0] ** 2) -
                       np.sum(numpy_lstm(bumped[1], kernel, bias)[0] ** 2)) / 2e-6
            np.testing.assert_allclose(got_dx[0, 0, 0], numeric, rtol=1e-3, atol=1e-5)
            assert got_dx.shape == feed.shape


def _lstm_classifier(seed: int) -> tuple[Any, ...]:
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 6, 4])
    y = tf.placeholder(tf.int64, [None])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(8), x, dtype=tf.float32)
    logits = tf.layers.dense(state.h, 2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return x, y, loss, train


def _sequence_task() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(6)
    data = rng.standard_normal((32, 6, 4)).astype(np.float32)
    return data, (data[:, :, 0].sum(1) > 0).astype(np.int64)  # the class: sign of the sum of one feature


def test_training_an_lstm_with_adam_lowers_the_loss() -> None:
    x, y, loss, train = _lstm_classifier(1)
    data, labels = _sequence_task()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([train, loss], {x: data, y: labels})[1] for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0]


def test_on_a_simulated_gpu_the_loop_gives_the_host_values() -> None:
    x, y, loss, train = _lstm_classifier(2)
    data, labels = _sequence_task()
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        host = [sess.run([train, loss], {x: data, y: labels})[1] for _ in range(3)]
        host_vars = sess.run(tf.trainable_variables())
    with simulated_gpus(1), tf.Session() as sess:
        sess.run(init)
        assert sess._cells[tf.trainable_variables()[0].op].device == "/device:GPU:0"
        device = [sess.run([train, loss], {x: data, y: labels})[1] for _ in range(3)]
        device_vars = sess.run(tf.trainable_variables())
    np.testing.assert_allclose(device, host, rtol=1e-5)
    for a, b in zip(device_vars, host_vars):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_dynamic_rnn_names_and_static_shapes() -> None:
    x = tf.placeholder(tf.float32, [6, 3, 2])
    (fw, bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(4), tf.nn.rnn_cell.BasicLSTMCell(2), x, sequence_length=[1, 6, 3],
        dtype=tf.float32, time_major=True)
    assert fw.shape.as_list() == [6, 3, 4] and bw.shape.as_list() == [6, 3, 2]
    assert state_fw.shape.as_list() == [3, 4] and state_bw.h.shape.as_list() == [3, 2]
    assert [v.op.name for v in tf.global_variables()] == [
        "bidirectional_rnn/fw/gru_cell/gates/kernel", "bidirectional_rnn/fw/gru_cell/gates/bias",
        "bidirectional_rnn/fw/gru_cell/candidate/kernel", "bidirectional_rnn/fw/gru_cell/candidate/bias",
        "bidirectional_rnn/bw/basic_lstm_cell/kernel", "bidirectional_rnn/bw/basic_lstm_cell/bias"]
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(5), tf.placeholder(tf.float32, [None, 4, 2]),
                                       dtype=tf.float32)
    assert outputs.name == "rnn/transpose_1:0" and outputs.shape.as_list() == [None, 4, 5]
    assert state.name.startswith("rnn/while/Exit")


def test_dynamic_rnn_errors() -> None:
    cell = tf.nn.rnn_cell.GRUCell(2)
    with pytest.raises(ValueError, match="must have rank at least 3"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, 3]), dtype=tf.float32)
    with pytest.raises(ValueError, match="must be accessible via shape inference"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, 3, None]), dtype=tf.float32)
    with pytest.raises(ValueError, match="`dtype` must be specified"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, 3, 4]))
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, 3, 4]), sequence_length=[[1]], dtype=tf.float32)
    with pytest.raises(ValueError, match="Time steps is not the same"):
        tf.nn.dynamic_rnn(cell, (tf.placeholder(tf.float32, [2, 3, 4]), tf.placeholder(tf.float32, [2, 4, 4])),
                          dtype=tf.float32)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        tf.nn.dynamic_rnn("cell", tf.placeholder(tf.float32, [2, 3, 4]), dtype=tf.float32)


class _RandomMaskCell(tf.nn.rnn_cell.RNNCell):
    """Output: the input times a fresh random 0/1 mask; state: the running sum of outputs."""

    @property
    def state_size(self) -> int:
        return 2

    @property
    def output_size(self) -> int:
        return 2

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        out = inputs * tf.floor(tf.random_uniform(tf.shape(inputs)) * 2.0)
        return out, state + out


def test_gradients_through_the_loop_see_the_forward_random_values() -> None:
    x = tf.placeholder(tf.float32, [3, 20, 2])
    outputs, state = tf.nn.dynamic_rnn(_RandomMaskCell(), x, dtype=tf.float32)
    dx = tf.gradients(tf.reduce_sum(outputs) + tf.reduce_sum(state), x)[0]
    feed = np.random.default_rng(8).uniform(1.0, 2.0, (3, 20, 2)).astype(np.float32)
    with tf.Session() as sess:
        out, got = sess.run([outputs, dx], {x: feed})
    mask = out / feed
    assert 0 < mask.sum() < mask.size and set(np.unique(mask)) == {0.0, 1.0}
    np.testing.assert_array_equal(got, 2 * mask)  # each output counts once, and once more in the final state
