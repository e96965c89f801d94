"""The TF1 input-pipeline, graph-freezing and seeded-weight programs of examples/ print what TensorFlow
prints (data/tf_outputs.json, made by data/make_tf_outputs.py under TensorFlow 2.21's tf.compat.v1)."""

from __future__ import annotations

from pathlib import Path

from test_tf1_examples import TF_OUTPUTS, numbers, run_script


def test_random_seed_init_gives_tensorflows_initial_weights_and_first_step(tmp_path: Path) -> None:
    lines, stderr = run_script("random_seed_init.py", tmp_path)
    assert stderr == ""
    assert lines == TF_OUTPUTS["random_seed_init.py"]  # every initializer, the dropout mask and the losses


def test_freeze_graph(tmp_path: Path) -> None:
    lines, stderr = run_script("freeze_graph.py", tmp_path)
    assert stderr == ""
    assert lines == TF_OUTPUTS["freeze_graph.py"]  # node counts, op types, imported names, equal outputs
    assert lines[-2] == "outputs equal the trained model's: True"
    assert (tmp_path / "logs" / "freeze_graph" / "frozen.pb").stat().st_size > 0


def test_csv_queue_pipeline(tmp_path: Path) -> None:
    lines, stderr = run_script("csv_queue_pipeline.py", tmp_path)
    # deterministic: one reading thread in file order, so the batches and the training are TensorFlow's
    assert lines == TF_OUTPUTS["csv_queue_pipeline.py"]
    assert lines[-2] == "done: 15 epochs, 150 steps"


def test_cifar10_queue_training(tmp_path: Path) -> None:
    lines, _ = run_script("cifar10_queue_training.py", tmp_path)
    theirs = TF_OUTPUTS["cifar10_queue_training.py"]
    assert lines[:2] == theirs[:2]  # the batch tensors (names, static shapes) and the variables
    steps = lines[2:5]
    assert [line.split(",")[0] for line in steps] == [line.split(",")[0] for line in theirs[2:5]]
    # one batch's loss at each logged step, after random crops, flips and a threaded shuffle: TensorFlow
    # printed 2.40, 0.88, 0.10 once, but any one batch may be a hard one; the evaluation below is the test
    losses = [numbers(line)[-1] for line in steps]
    assert losses[0] > 2.0 and min(losses[1:]) < losses[0], steps
    assert lines[5:7] == theirs[5:7]  # the moving averages restored, from the checkpoint of the last step
    assert numbers(lines[7])[-1] >= 0.8, lines[7]  # TensorFlow: 1.000
