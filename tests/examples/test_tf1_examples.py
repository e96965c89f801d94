"""The TF1-style acceptance programs of examples/ run unchanged and print what TensorFlow prints.

The reference is tf_outputs.json, what each program printed under TensorFlow 2.21's
tf.compat.v1 (made by data/make_tf_outputs.py). Lines that show names, shapes and deterministic
values must be equal; lines whose values come from random initial weights or random draws (a
different random generator) are checked for what they show: falling losses, accuracy, ranges.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_seed_examples import without_numpy_notice

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# TF1 printed an unknown dimension as "?" (as gpugraph does); TF 2's TensorShape prints "None".
def tf1_shapes(line: str) -> str:
    return re.sub(r"(?<=[(, ])None(?=[,)])", "?", line) if "shape=(" in line else line


TF_OUTPUTS = {name: [tf1_shapes(line) for line in lines] for name, lines in json.loads(
    (Path(__file__).resolve().parent / "data" / "tf_outputs.json").read_text())["outputs"].items()}


def run_script(name: str, tmp_path: Path, *args: str) -> tuple[list[str], str]:
    """Run examples/NAME in a scratch copy of examples/; (stdout lines, stderr)."""
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, tmp_path / source.name)
    proc = subprocess.run([sys.executable, name, *args], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(TF_OUTPUTS[name]), f"{name} printed {lines}, TensorFlow {TF_OUTPUTS[name]}"
    return lines, without_numpy_notice(proc.stderr)


def numbers(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", line)]


def test_every_tf1_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")
               if "import gpugraph as tf" in p.read_text().splitlines() and not p.name.startswith("seed")}
    assert scripts == set(TF_OUTPUTS), "examples/ and data/tf_outputs.json list different programs"
    # each one is run by a test of this file, of test_rnn_examples.py or of test_pipeline_examples.py
    here = Path(__file__).resolve().parent
    sources = "".join((here / name).read_text() for name in (
        "test_tf1_examples.py", "test_rnn_examples.py", "test_pipeline_examples.py"))
    untested = scripts - set(re.findall(r'run_script\("(\w+\.py)"', sources))
    assert not untested, f"examples without a test: {sorted(untested)}"


def test_mnist_deep_cnn(tmp_path: Path) -> None:
    lines, stderr = run_script("mnist_deep_cnn.py", tmp_path)
    theirs = TF_OUTPUTS["mnist_deep_cnn.py"]
    assert stderr == ""
    assert lines[:3] == theirs[:3]  # the tensors' names and static shapes
    assert [line.split(",")[0] for line in lines[3:6]] == ["step 0", "step 100", "step 200"]
    train_acc = [numbers(line)[-1] for line in lines[3:6]]
    assert train_acc[0] < 0.5 and train_acc[2] > 0.8, lines
    assert numbers(lines[6])[0] > 0.9, lines[6]  # TensorFlow: about 0.97


def test_mnist_layers_cnn(tmp_path: Path) -> None:
    lines, stderr = run_script("mnist_layers_cnn.py", tmp_path)
    theirs = TF_OUTPUTS["mnist_layers_cnn.py"]
    assert stderr == ""
    assert lines[:11] == theirs[:11]  # variables (TF1 layer names), logits, loss and metric tensors
    losses = [numbers(line)[-1] for line in lines[11:14]]
    assert losses[0] > 2.0 and losses[2] < losses[0] / 3, lines[11:14]
    assert lines[14] == theirs[14] == "global step 300"
    assert numbers(lines[15])[0] > 0.9, lines[15]


def test_mlp_batch_norm(tmp_path: Path) -> None:
    lines, stderr = run_script("mlp_batch_norm.py", tmp_path)
    theirs = TF_OUTPUTS["mlp_batch_norm.py"]
    assert stderr == ""
    assert lines[:4] == theirs[:4]  # update ops, batch-norm variables, in_top_k's tensor
    accuracies = [numbers(line)[-1] for line in lines[4:8]]
    assert accuracies[-1] > 0.7 and accuracies[-1] > accuracies[0], lines[4:8]
    assert lines[8] == theirs[8] == "moving mean moved: True"


def test_word2vec_basic(tmp_path: Path) -> None:
    lines, stderr = run_script("word2vec_basic.py", tmp_path)
    theirs = TF_OUTPUTS["word2vec_basic.py"]
    assert stderr == ""
    assert lines[:14] == theirs[:14]  # data, skip-gram batches, embedding/loss/similarity tensors
    averages = [numbers(line)[-1] for line in lines[14:18]]
    assert averages[0] > 20 and averages[-1] < 6, lines[14:18]  # TensorFlow: 64 -> 3.5
    assert numbers(lines[18])[0] >= 14, lines[18]  # TensorFlow: 22 of 32 (chance: about 3)
    assert lines[19] == theirs[19] == "(300, 64)"


def test_dcgan(tmp_path: Path) -> None:
    lines, stderr = run_script("dcgan.py", tmp_path)
    theirs = TF_OUTPUTS["dcgan.py"]
    assert stderr == ""
    assert lines[:4] == theirs[:4]  # variable lists of both networks, generator and reused discriminator
    for line in lines[4:8]:
        d_loss, g_loss = numbers(line)[1:]
        assert 0.0 < d_loss < 5.0 and 0.0 < g_loss < 5.0, line
    assert lines[8] == theirs[8] == "samples (32, 16, 16, 1) in [-1, 1]: True"


def test_app_flags_gfile(tmp_path: Path) -> None:
    lines, stderr = run_script("app_flags_gfile.py", tmp_path, "--max_steps=120")
    theirs = TF_OUTPUTS["app_flags_gfile.py"]
    assert lines[0] == theirs[0] == "learning_rate 0.5 max_steps 120"
    assert numbers(lines[1])[-1] > 0.95, lines[1]
    assert lines[2:] == theirs[2:]  # gfile listing, latest_checkpoint, one event file
    assert "INFO:tensorflow:Step 0: loss = 0.69" in stderr.splitlines()


def test_lstm_mnist(tmp_path: Path) -> None:
    lines, stderr = run_script("lstm_mnist.py", tmp_path)
    theirs = TF_OUTPUTS["lstm_mnist.py"]
    assert stderr == ""
    assert lines[0] == theirs[0]  # TF1's LSTM variable names: rnn/basic_lstm_cell/kernel, .../bias
    losses = [numbers(line)[1] for line in lines[1:6]]
    assert losses[0] > 1.5 and losses[-1] < 0.6, lines[1:6]  # TensorFlow: about 3 -> 0.3
    assert lines[6] == theirs[6] == "Optimization Finished!"
    assert numbers(lines[7])[0] > 0.8, lines[7]  # TensorFlow: about 0.9


def test_monitored_training(tmp_path: Path) -> None:
    lines, stderr = run_script("monitored_training.py", tmp_path)
    assert lines == TF_OUTPUTS["monitored_training.py"]  # deterministic: data from a seeded generator
    assert "Saving checkpoints for 150 into logs/monitored_training/model.ckpt." in stderr


SIMULATED_GPU_RUNNER = """
import runpy, sys
import gpugraph as tf
from gpugraph.runtime.default_config import set_default_config
from gpugraph.testing import simulated_gpus

set_default_config(tf.ConfigProto(allow_soft_placement=True))
with simulated_gpus(1, memory=512 << 20) as (gpu,):
    script = sys.argv[1]
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")
print("transfers to the simulated GPU:", gpu.transfers_to_device, file=sys.stderr)
"""


@pytest.mark.parametrize("name", ["monitored_training.py", "mlp_batch_norm.py"])
def test_example_runs_the_device_path_on_a_simulated_gpu(name: str, tmp_path: Path) -> None:
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, tmp_path / source.name)
    (tmp_path / "simulated_gpu_runner.py").write_text(SIMULATED_GPU_RUNNER)
    proc = subprocess.run([sys.executable, "simulated_gpu_runner.py", name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    if name == "monitored_training.py":
        assert lines == TF_OUTPUTS[name]  # deterministic: the same as on the host, and as TensorFlow's
    else:
        assert lines[:4] == TF_OUTPUTS[name][:4] and numbers(lines[7])[-1] > 0.7, lines
    assert int(proc.stderr.strip().splitlines()[-1].rsplit(" ", 1)[1]) > 0  # the device path really ran
