"""The recurrent, control-flow and tf.data acceptance programs of examples/ against TensorFlow's output.

Same reference and rules as test_tf1_examples.py (data/tf_outputs.json, made by
data/make_tf_outputs.py under TensorFlow 2.21's tf.compat.v1): names, shapes and deterministic
values equal; values from random initial weights checked for what they show.

Two differences from TensorFlow 2.21 are TF1's own and are normalised here: TF 2.21 builds
while loops as control flow v2, so a loop's outputs are named ``.../Identity_N`` where TF1 (and
gpugraph) name them ``.../Exit_N``; and TF1's TensorShape repr lists ``Dimension(28)`` where
TF 2.21 lists ``28``. The gradients of a while loop are named differently by all three.
"""

from __future__ import annotations

import re
from pathlib import Path

from test_tf1_examples import TF_OUTPUTS, numbers, run_script

LOOP_OUTPUT = re.compile(r"(?<=[\"'])[\w/]*/(?:Exit|Identity)_\d+:\d+(?=[\"'])")


def loop_names_masked(line: str) -> str:
    return LOOP_OUTPUT.sub("<loop output>", line)


def any_name_masked(line: str) -> str:
    return re.sub(r'Tensor\("[^"]*"', "Tensor(<name>", line)


def tf1_dimensions(line: str) -> str:
    return re.sub(r"Dimension\((\w+)\)", r"\1", line)


def test_lstm_mnist_dynamic(tmp_path: Path) -> None:
    lines, stderr = run_script("lstm_mnist_dynamic.py", tmp_path)
    theirs = TF_OUTPUTS["lstm_mnist_dynamic.py"]
    assert stderr == ""
    assert lines[0] == theirs[0] == 'outputs: Tensor("rnn/transpose_1:0", shape=(?, 28, 64), dtype=float32)'
    assert loop_names_masked(lines[1]) == loop_names_masked(theirs[1])  # LSTMStateTuple(c=..., h=...) shapes
    assert "c=<tf.Tensor 'rnn/while/Exit_3:0'" in lines[1]  # TF1's name for the final c
    assert lines[2] == theirs[2]  # rnn/lstm_cell/kernel [92, 256], bias, dense/kernel, dense/bias
    losses = [numbers(line)[1] for line in lines[3:7]]
    assert losses[0] > 1.5 and losses[-1] < 0.6, lines[3:7]  # TensorFlow: about 2.2 -> 0.3
    assert numbers(lines[7])[0] > 0.8, lines[7]  # TensorFlow: about 0.9


def test_stacked_gru(tmp_path: Path) -> None:
    lines, stderr = run_script("stacked_gru.py", tmp_path)
    theirs = TF_OUTPUTS["stacked_gru.py"]
    assert stderr == ""
    assert lines[:2] == theirs[:2]  # vocabulary, outputs' name and shape
    assert loop_names_masked(lines[2]) == loop_names_masked(theirs[2])  # one state per GRU layer
    assert lines[3] == theirs[3]  # rnn/multi_rnn_cell/cell_k/gru_cell/{gates,candidate}/{kernel,bias}
    perplexities = [numbers(line)[-1] for line in lines[4:8]]
    assert perplexities[0] > 80, lines[4]  # untrained: about the vocabulary size, 105
    assert perplexities[1] < perplexities[0] / 2 and perplexities[3] < 25, lines[4:8]  # TensorFlow: 105 -> 18


def test_bidirectional_rnn(tmp_path: Path) -> None:
    lines, stderr = run_script("bidirectional_rnn.py", tmp_path)
    theirs = TF_OUTPUTS["bidirectional_rnn.py"]
    assert stderr == ""
    assert lines[:2] == theirs[:2]  # the last output (fw and bw concatenated); bidirectional_rnn/fw|bw/ variables
    losses = [numbers(line)[1] for line in lines[2:6]]
    assert losses[0] > 1.5 and losses[-1] < 0.7, lines[2:6]  # TensorFlow: about 2.2 -> 0.3
    assert lines[6] == theirs[6] == "Optimization Finished!"
    assert numbers(lines[7])[0] > 0.75, lines[7]  # TensorFlow: about 0.85


def test_time_series_rnn(tmp_path: Path) -> None:
    lines, stderr = run_script("time_series_rnn.py", tmp_path)
    theirs = TF_OUTPUTS["time_series_rnn.py"]
    assert stderr == ""
    assert lines[0] == theirs[0] and lines[2:4] == theirs[2:4]  # rnn outputs, projected outputs, variables
    assert loop_names_masked(lines[1]) == loop_names_masked(theirs[1])  # the final state
    mse = [numbers(line)[-1] for line in lines[4:9]]
    assert mse[0] > 5 and mse[-1] < 0.25 and mse[-1] < mse[1], lines[4:9]  # TensorFlow: about 15 -> 0.05
    assert lines[9].startswith("prediction: (1, 20, 1) test MSE:") and numbers(lines[9])[-1] < 0.3, lines[9]
    assert lines[10] == theirs[10] == "generated: 50 values"


def test_char_rnn(tmp_path: Path) -> None:
    lines, stderr = run_script("char_rnn.py", tmp_path)
    theirs = TF_OUTPUTS["char_rnn.py"]
    assert stderr == ""
    # the corpus; outputs/logits of unknown time length; SequenceMask/Cast_1 and the weighted loss's names;
    # sequence_mask's values; padding; outputs past each length are zero; final state at the last character
    assert lines[:13] == theirs[:13]
    losses = [numbers(line)[-1] for line in lines[13:16]]
    assert losses[0] > 2.5 and losses[-1] < 1.3, lines[13:16]  # TensorFlow: about 3.1 -> 0.8
    assert numbers(lines[16])[0] < 0.7, lines[16]  # TensorFlow: about 0.4


def test_while_loop_gradient(tmp_path: Path) -> None:
    lines, stderr = run_script("while_loop_gradient.py", tmp_path)
    theirs = TF_OUTPUTS["while_loop_gradient.py"]
    assert stderr == ""
    # the loops' results and their gradients: shapes and dtypes as TensorFlow's; TF1's forward names
    assert [any_name_masked(line) for line in lines[:4]] == [any_name_masked(line) for line in theirs[:4]]
    assert 'Tensor("newton/Exit_1:0"' in lines[0] and 'Tensor("euler/Exit_1:0"' in lines[2]
    # deterministic values: Newton's square roots and their derivative, the power iteration's eigenvalue
    # and its gradient, the Euler integrator's gradients and the fit of k through the loop
    assert lines[4:] == theirs[4:]


def test_data_pipeline_cnn(tmp_path: Path) -> None:
    lines, stderr = run_script("data_pipeline_cnn.py", tmp_path)
    theirs = TF_OUTPUTS["data_pipeline_cnn.py"]
    assert stderr == ""
    assert [tf1_dimensions(line) for line in lines[:2]] == theirs[:2]  # output_types and output_shapes
    assert "TensorShape([Dimension(None), Dimension(28), Dimension(28), Dimension(1)])" in lines[0]  # TF1's repr
    assert lines[2:4] == theirs[2:4]  # IteratorGetNext:0/1 and the logits
    losses = [numbers(line)[-1] for line in lines[4:8]]
    assert losses[0] > 2.0 and losses[-1] < 1.0, lines[4:8]  # TensorFlow: about 2.4 -> 0.6
    assert lines[8] == theirs[8] == "training steps: 64"  # 2 epochs of 32 batches, then OutOfRangeError
    assert lines[9].startswith("validation: 500 images") and numbers(lines[9])[-1] > 0.75, lines[9]
    assert lines[10] == theirs[10] == "second pass equal: True"
