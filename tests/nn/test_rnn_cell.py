"""tf.nn.rnn_cell against TensorFlow: each cell unrolled by static_rnn with fixed weights (outputs, final
states, gradients w.r.t. inputs and weights, variable names), plus the cell API TF1 scripts use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))

import gpugraph as tf  # noqa: E402
from rnn_cases import STATIC_CASES, assert_matches, run_case  # noqa: E402

REFERENCE = json.loads((Path(__file__).resolve().parent / "data" / "rnn_reference.json").read_text())["cases"]
CELL_CASES = ["basic_rnn", "basic_rnn_relu", "basic_lstm", "basic_lstm_concat_state", "lstm",
              "lstm_peepholes_proj_clip", "gru", "multi_gru_lstm", "multi_concat_state", "residual_gru"]


@pytest.mark.parametrize("name", CELL_CASES)
def test_cell_matches_tensorflow(name: str) -> None:
    want = REFERENCE[name]
    assert_matches(run_case(tf, STATIC_CASES[name], given=want), want)


def test_direct_calls_share_variables_in_the_cell_scope() -> None:
    cell = tf.nn.rnn_cell.BasicRNNCell(5)
    state = cell.zero_state(2, tf.float32)
    assert state.name == "BasicRNNCellZeroState/zeros:0" and state.shape.as_list() == [2, 5]
    out1, _ = cell(tf.zeros([2, 3]), state)
    out2, _ = cell(tf.zeros([2, 3]), out1)
    tf.nn.rnn_cell.BasicRNNCell(5)(tf.zeros([2, 3]), state, scope="myscope")
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["basic_rnn_cell/kernel", "basic_rnn_cell/bias", "myscope/kernel", "myscope/bias"]
    assert [v.op.name for v in cell.trainable_weights] == ["basic_rnn_cell/kernel", "basic_rnn_cell/bias"]


def test_default_initializers_are_tf1s() -> None:
    x = tf.zeros([2, 3])
    gru = tf.nn.rnn_cell.GRUCell(4)
    lstm = tf.nn.rnn_cell.LSTMCell(4, use_peepholes=True, num_proj=2)
    gru(x, gru.zero_state(2, tf.float32))
    with tf.variable_scope("l"):
        lstm(x, lstm.zero_state(2, tf.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
    np.testing.assert_array_equal(values["gru_cell/gates/bias"], np.ones(8))      # r, u start open
    np.testing.assert_array_equal(values["gru_cell/candidate/bias"], np.zeros(4))
    np.testing.assert_array_equal(values["l/lstm_cell/bias"], np.zeros(16))
    kernel = values["gru_cell/gates/kernel"]  # glorot_uniform: U(-sqrt(6 / (fan_in + fan_out)), +...)
    assert kernel.shape == (7, 8) and np.abs(kernel).max() <= np.sqrt(6.0 / 15) and kernel.std() > 0.1
    assert np.abs(values["l/lstm_cell/kernel"]).max() <= np.sqrt(6.0 / (5 + 16)) + 1e-7
    assert values["l/lstm_cell/projection/kernel"].shape == (4, 2)
    assert values["l/lstm_cell/w_f_diag"].shape == (4,)


def test_state_and_output_sizes() -> None:
    multi = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(3), tf.nn.rnn_cell.LSTMCell(4, num_proj=2)])
    assert multi.state_size == ((3, 3), (4, 2)) and multi.output_size == 2
    assert isinstance(multi.state_size[0], tf.nn.rnn_cell.LSTMStateTuple)
    zero = multi.zero_state(5, tf.float32)
    assert zero[1].h.shape.as_list() == [5, 2]
    assert zero[0].c.name == "MultiRNNCellZeroState/BasicLSTMCellZeroState/zeros:0"
    assert tf.compat.v1.nn.rnn_cell.GRUCell is tf.nn.rnn_cell.GRUCell
    assert tf.nn.rnn_cell.BasicLSTMCell(3, state_is_tuple=False).state_size == 6


def test_zero_state_with_a_tensor_batch_size() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    cell = tf.nn.rnn_cell.GRUCell(2)
    state = cell.zero_state(tf.shape(x)[0], tf.float32)
    out, _ = cell(x, state)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {x: np.ones((4, 3), np.float32)}).shape == (4, 2)


def test_errors_are_tf1s() -> None:
    cell = tf.nn.rnn_cell.BasicRNNCell(2)
    with pytest.raises(ValueError, match="RNN cell only supports floating point inputs"):
        cell(tf.zeros([2, 3], tf.int32), tf.zeros([2, 2], tf.int32))
    with pytest.raises(ValueError, match="expected ndim=2"):
        tf.nn.rnn_cell.GRUCell(2)(tf.zeros([2, 3, 1]), tf.zeros([2, 2]))
    with pytest.raises(ValueError, match="Must specify at least one cell"):
        tf.nn.rnn_cell.MultiRNNCell([])
    with pytest.raises(TypeError, match="is not an RNNCell"):
        tf.nn.static_rnn(object(), [tf.zeros([2, 3])], dtype=tf.float32)
    with pytest.raises(ValueError, match="must be between 0 and 1"):
        tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=1.5)


def test_dropout_wrapper_drops_and_scales_and_keeps_lstm_c() -> None:
    x = tf.ones([200, 4])
    keep = tf.placeholder(tf.float32, [])
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(8), input_keep_prob=keep,
                                         output_keep_prob=0.5, state_keep_prob=0.5, seed=3)
    out, state = cell(x, cell.zero_state(200, tf.float32))
    assert [v.op.name for v in tf.global_variables()] == ["basic_lstm_cell/kernel", "basic_lstm_cell/bias"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s = sess.run([out, state], {keep: 1.0})
    zero_out, zero_h = (o == 0).mean(), (s.h == 0).mean()
    assert 0.35 < zero_out < 0.65 and 0.35 < zero_h < 0.65
    assert (s.c == 0).mean() < 0.01  # c is never dropped
    assert np.all(np.abs(o) <= 2.0)  # |h| < 1, scaled by 1 / keep_prob


def test_residual_and_device_wrappers() -> None:
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    gru = tf.nn.rnn_cell.GRUCell(3)
    res = tf.nn.rnn_cell.ResidualWrapper(gru)
    out, new_state = res(x, res.zero_state(2, tf.float32))
    dev = tf.nn.rnn_cell.DeviceWrapper(tf.nn.rnn_cell.BasicRNNCell(3), "/cpu:0")
    out2, _ = dev(x, dev.zero_state(2, tf.float32))
    assert out2.op.device.lower().endswith("cpu:0")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s = sess.run([out, new_state])
    np.testing.assert_allclose(o, s + np.arange(6).reshape(2, 3), rtol=1e-6)
