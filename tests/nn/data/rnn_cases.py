"""RNN cases run the same way under TensorFlow (make_rnn_reference.py) and gpugraph (test_rnn*.py).

Each case builds a recurrent net with TF1's API from a module ``tf``; ``run_case`` loads fixed weights,
feeds fixed inputs, and returns outputs, final states, variable names and the gradients of a weighted
sum of everything w.r.t. the inputs and every variable.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

T, B, D = 4, 3, 3  # time steps, batch, input depth
SEQ_LEN = [4, 2, 0]


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flatten(item)]
    return [x]


def _step_inputs(tf: Any) -> list[Any]:
    return [tf.placeholder(tf.float32, [B, D], name=f"x{t}") for t in range(T)]


def _static(make_cell: Callable[[Any], Any], seq: bool = False) -> Callable[[Any], Any]:
    def build(tf: Any) -> Any:
        xs = _step_inputs(tf)
        outputs, state = tf.nn.static_rnn(make_cell(tf), xs, dtype=tf.float32,
                                          sequence_length=SEQ_LEN if seq else None)
        return xs, outputs, state
    return build


def _static_bidi(tf: Any) -> Any:
    xs = _step_inputs(tf)
    outputs, fw, bw = tf.nn.static_bidirectional_rnn(
        tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicLSTMCell(2), xs, dtype=tf.float32, sequence_length=SEQ_LEN)
    return xs, outputs, (fw, bw)


def _dynamic(make_cell: Callable[[Any], Any], time_major: bool = False, seq: bool = False) -> Callable[[Any], Any]:
    def build(tf: Any) -> Any:
        x = tf.placeholder(tf.float32, [T, B, D] if time_major else [B, T, D], name="x")
        outputs, state = tf.nn.dynamic_rnn(make_cell(tf), x, sequence_length=SEQ_LEN if seq else None,
                                           dtype=tf.float32, time_major=time_major)
        return [x], outputs, state
    return build


def _dynamic_bidi(tf: Any) -> Any:
    x = tf.placeholder(tf.float32, [B, T, D], name="x")
    outputs, states = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(3), tf.nn.rnn_cell.GRUCell(2), x, sequence_length=SEQ_LEN, dtype=tf.float32)
    return [x], outputs, states


STATIC_CASES: dict[str, Callable[[Any], Any]] = {
    "basic_rnn": _static(lambda tf: tf.nn.rnn_cell.BasicRNNCell(4)),
    "basic_rnn_relu": _static(lambda tf: tf.nn.rnn_cell.BasicRNNCell(4, activation=tf.nn.relu)),
    "basic_lstm": _static(lambda tf: tf.nn.rnn_cell.BasicLSTMCell(4, forget_bias=0.5)),
    "basic_lstm_concat_state": _static(lambda tf: tf.nn.rnn_cell.BasicLSTMCell(3, state_is_tuple=False)),
    "lstm": _static(lambda tf: tf.nn.rnn_cell.LSTMCell(4)),
    "lstm_peepholes_proj_clip": _static(lambda tf: tf.nn.rnn_cell.LSTMCell(
        5, use_peepholes=True, cell_clip=0.6, num_proj=3, proj_clip=0.4, forget_bias=0.7)),
    "gru": _static(lambda tf: tf.nn.rnn_cell.GRUCell(4)),
    "multi_gru_lstm": _static(lambda tf: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicLSTMCell(4)])),
    "multi_concat_state": _static(lambda tf: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicRNNCell(2)], state_is_tuple=False)),
    "residual_gru": _static(lambda tf: tf.nn.rnn_cell.ResidualWrapper(tf.nn.rnn_cell.GRUCell(D))),
    "static_seq_len_lstm": _static(lambda tf: tf.nn.rnn_cell.LSTMCell(4, use_peepholes=True), seq=True),
    "static_seq_len_multi": _static(lambda tf: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.BasicLSTMCell(3), tf.nn.rnn_cell.GRUCell(2)]), seq=True),
    "static_bidirectional": _static_bidi,
}

DYNAMIC_CASES: dict[str, Callable[[Any], Any]] = {
    "dynamic_lstm": _dynamic(lambda tf: tf.nn.rnn_cell.BasicLSTMCell(4)),
    "dynamic_gru_time_major_seq_len": _dynamic(lambda tf: tf.nn.rnn_cell.GRUCell(3), time_major=True, seq=True),
    "dynamic_multi_seq_len": _dynamic(lambda tf: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.LSTMCell(3, num_proj=2), tf.nn.rnn_cell.BasicRNNCell(2)]), seq=True),
    "dynamic_bidirectional": _dynamic_bidi,
}


def _weight(rng: np.random.Generator, shape: list[int]) -> np.ndarray:
    return (0.5 * rng.standard_normal(shape)).astype(np.float32)


def _coefficients(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed, distinct weights for the scalar whose gradients the cases compare."""
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64) * 0.7 + 0.3).reshape(shape).astype(np.float32)


def run_case(tf: Any, build: Callable[[Any], Any], given: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build into a fresh graph and run; ``given`` (inputs and weights from the reference) replaces random ones."""
    rng = np.random.default_rng(7)
    graph = tf.Graph()
    with graph.as_default():
        inputs, outputs, state = build(tf)
        flat = _flatten(outputs) + _flatten(state)
        loss = tf.add_n([tf.reduce_sum(t * _coefficients(tuple(t.shape.as_list()))) for t in flat])
        variables = tf.global_variables()
        grads = tf.gradients(loss, inputs + variables)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            weights: dict[str, Any] = {}
            for v in variables:
                value = (np.asarray(given["weights"][v.op.name], np.float32) if given
                         else _weight(rng, v.shape.as_list()))
                v.load(value, sess)
                weights[v.op.name] = value
            feeds = [np.asarray(x, np.float32) for x in given["inputs"]] if given else \
                [(rng.standard_normal(x.shape.as_list())).astype(np.float32) for x in inputs]
            values = sess.run({"outputs": _flatten(outputs), "state": _flatten(state), "grads": grads},
                              dict(zip(inputs, feeds)))
    return {
        "variables": [[v.op.name, v.shape.as_list()] for v in variables],
        "inputs": [x.tolist() for x in feeds],
        "weights": {k: w.tolist() for k, w in weights.items()},
        "outputs": [np.asarray(o).tolist() for o in values["outputs"]],
        "state": [np.asarray(s).tolist() for s in values["state"]],
        "input_grads": [np.asarray(g).tolist() for g in values["grads"][:len(inputs)]],
        "weight_grads": {v.op.name: np.asarray(g).tolist() for v, g in zip(variables, values["grads"][len(inputs):])},
    }


def assert_matches(got: dict[str, Any], want: dict[str, Any], rtol: float = 2e-5, atol: float = 2e-6) -> None:
    """gpugraph's run of a case against TensorFlow's: names, outputs, states and every gradient."""
    assert got["variables"] == want["variables"]
    for key in ("outputs", "state", "input_grads"):
        assert len(got[key]) == len(want[key]), key
        for i, (g, w) in enumerate(zip(got[key], want[key])):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol, err_msg=f"{key}[{i}]")
    assert sorted(got["weight_grads"]) == sorted(want["weight_grads"])
    for name, w in want["weight_grads"].items():
        np.testing.assert_allclose(np.asarray(got["weight_grads"][name]), np.asarray(w), rtol=rtol, atol=atol,
                                   err_msg=f"d loss / d {name}")
