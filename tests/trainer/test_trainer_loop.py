"""The built-in trainer in process: each model learns, checkpoints resume exactly, summaries and progress."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.config_files import load_settings
from gpugraph.trainer import TrainError, train

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def settings(tmp_path: Path, text: str, **output):
    path = tmp_path / "run.toml"
    path.write_text(text)
    s = load_settings(path, {}, require_model=True)
    for key, value in output.items():
        s.set("output", key, str(value) if isinstance(value, Path) else value, "test")
    return s


@pytest.fixture
def linear_npz(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(120, 3))
    np.savez(tmp_path / "lin.npz", x=x, y=x @ np.array([2.0, -1.0, 0.5]) + 3.0)
    return "lin.npz"


LINEAR = """
[model]
type = "linear_regression"
[data]
path = "lin.npz"
normalize = "none"
[train]
optimizer = "{optimizer}"
learning_rate = {rate}
batch_size = 16
steps = {steps}
"""


def test_linear_regression_finds_the_exact_fit(tmp_path, linear_npz):
    result = train(settings(tmp_path, LINEAR.format(optimizer="adam", rate=0.05, steps=1500)), quiet=True)
    assert result.step == result.total_steps == 1500 and not result.interrupted
    assert result.metrics["train loss (MSE)"] < 1e-4 and result.metrics["test loss (MSE)"] < 1e-4
    assert result.metrics["test R^2"] > 0.9999


@pytest.mark.parametrize("optimizer, rate", [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.05), ("rmsprop", 0.02),
                                             ("adagrad", 0.5), ("adadelta", 10.0)])
def test_every_optimizer_learns(tmp_path, linear_npz, optimizer, rate):
    start = train(settings(tmp_path, LINEAR.format(optimizer=optimizer, rate=rate, steps=1)), quiet=True)
    result = train(settings(tmp_path, LINEAR.format(optimizer=optimizer, rate=rate, steps=300)), quiet=True)
    assert result.metrics["train loss (MSE)"] < 0.4 * start.metrics["train loss (MSE)"], result.metrics
    if optimizer != "adadelta":  # Adadelta's first steps are tiny (TF1's epsilon = 1e-8)
        assert result.metrics["test R^2"] > 0.95, result.metrics


def test_learning_rate_decay_slows_learning(tmp_path, linear_npz):
    text = LINEAR.format(optimizer="sgd", rate=0.1, steps=40)
    plain = train(settings(tmp_path, text), quiet=True)
    decayed = train(settings(tmp_path, text + "decay_steps = 1\ndecay_rate = 0.5\nstaircase = true\n"), quiet=True)
    # halving the rate every step leaves it summing to 0.2: far from the fit that 40 plain steps reach
    assert plain.metrics["train R^2"] > 0.9 > decayed.metrics["train R^2"]


def test_binary_logistic_regression(tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(-2, 1, size=(100, 2)), rng.normal(2, 1, size=(100, 2))])
    np.savez(tmp_path / "blobs.npz", x=x, y=np.repeat([0, 1], 100))
    s = settings(tmp_path, '[model]\ntype = "logistic_regression"\n[data]\npath = "blobs.npz"\n'
                           '[train]\noptimizer = "adam"\nlearning_rate = 0.05\nsteps = 200\n')
    result = train(s)
    out = capsys.readouterr().out
    assert "model: binary (sigmoid) logistic regression on 2 inputs" in out
    assert result.metrics["test accuracy"] >= 0.95
    assert f"test accuracy: {result.metrics['test accuracy']:.6g}\n" in out


def test_mlp_digits_config_reaches_95_percent(tmp_path, capsys):
    """The shipped config as it is, outputs moved to tmp_path."""
    s = load_settings(CONFIGS / "mlp-digits.toml", {}, require_model=True)
    s.set("output", "logdir", str(tmp_path / "logs"), "test")
    s.set("output", "checkpoint_dir", str(tmp_path / "ckpt"), "test")
    result = train(s)
    assert result.metrics["test accuracy"] >= 0.95, result.metrics
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "model: MLP classifier 64 -> 128 -> 10 (relu)"
    assert [line.split(":")[0] for line in lines[-4:]] == [
        "train loss (cross-entropy)", "train accuracy", "test loss (cross-entropy)", "test accuracy"]
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("model.ckpt-2000")
    assert len(list((tmp_path / "ckpt").glob("*.safetensors"))) == 3  # max_to_keep = 3


@pytest.mark.parametrize("name", ["linear-regression.toml", "polynomial.toml", "logistic-digits.toml"])
def test_shipped_training_configs_run(tmp_path, name):
    s = load_settings(CONFIGS / name, {}, require_model=True)
    s.set("output", "logdir", "", "test")
    s.set("output", "checkpoint_dir", "", "test")
    full = train(s, quiet=True)
    metric = "test accuracy" if "digits" in name else "test R^2"
    assert full.metrics[metric] > 0.95, full.metrics


ADAM_DIGITS = """
[model]
type = "mlp_classifier"
hidden_sizes = [16]
[data]
dataset = "digits"
[train]
optimizer = "adam"
learning_rate = 0.01
batch_size = 100
steps = {steps}
[output]
checkpoint_every = 25
max_to_keep = 2
log_every = 10
"""


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight = train(settings(tmp_path, ADAM_DIGITS.format(steps=70)), quiet=True)
    ckpt = tmp_path / "ckpt"
    first = train(settings(tmp_path, ADAM_DIGITS.format(steps=40), checkpoint_dir=ckpt), quiet=True)
    assert (first.start_step, first.step) == (0, 40)
    out = io.StringIO()
    second = train(settings(tmp_path, ADAM_DIGITS.format(steps=70), checkpoint_dir=ckpt), out=out, err=io.StringIO())
    assert (second.start_step, second.step) == (40, 70)
    assert f"resumed from {ckpt}/model.ckpt-40 at step 40\n" in out.getvalue()
    # same batches, same Adam slots and step counts: the resumed run ends where the straight one did
    for name, value in straight.metrics.items():
        assert second.metrics[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name
    assert sorted(p.name for p in ckpt.glob("*.safetensors")) == ["model.ckpt-50.safetensors",
                                                                  "model.ckpt-70.safetensors"]
    again = io.StringIO()
    third = train(settings(tmp_path, ADAM_DIGITS.format(steps=70), checkpoint_dir=ckpt), out=again)
    assert (third.start_step, third.step) == (70, 70)
    assert "step 70 already reaches the 70 steps configured; nothing to train\n" in again.getvalue()


def test_checkpoint_of_another_model_is_refused(tmp_path):
    ckpt = tmp_path / "ckpt"
    train(settings(tmp_path, ADAM_DIGITS.format(steps=5), checkpoint_dir=ckpt), quiet=True)
    other = ADAM_DIGITS.format(steps=10).replace("[16]", "[8]")
    with pytest.raises(TrainError) as info:
        train(settings(tmp_path, other, checkpoint_dir=ckpt), quiet=True)
    assert str(info.value).startswith(f"cannot resume from {ckpt}/model.ckpt-5: ")
    assert "use another checkpoint_dir" in str(info.value)


def test_tensorboard_logs_for_train_and_test(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = tmp_path / "logs"
    result = train(settings(tmp_path, ADAM_DIGITS.format(steps=30), logdir=logdir), quiet=True)
    for run in ("train", "test"):
        events = EventAccumulator(str(logdir / run))
        events.Reload()
        assert sorted(events.Tags()["scalars"]) == ["accuracy", "loss"]
        assert [e.step for e in events.Scalars("loss")] == [10, 20, 30]
    test_events = EventAccumulator(str(logdir / "test"))
    test_events.Reload()
    assert test_events.Scalars("accuracy")[-1].value == pytest.approx(result.metrics["test accuracy"], abs=1e-6)


def test_progress_bar_and_plain_log_lines(tmp_path):
    bar = io.StringIO()
    train(settings(tmp_path, ADAM_DIGITS.format(steps=30)), progress=True, out=io.StringIO(), err=bar)
    assert "30/30" in bar.getvalue() and "step/s" in bar.getvalue()
    lines = io.StringIO()  # not a terminal: no bar, a line per checkpoint interval instead
    train(settings(tmp_path, ADAM_DIGITS.format(steps=30), checkpoint_dir=tmp_path / "c"), out=io.StringIO(),
          err=lines)
    text = lines.getvalue().splitlines()
    assert [line.split(":")[0] for line in text] == ["step 25/30", "step 30/30"]
    assert text[0].endswith(f"steps/s, checkpoint {tmp_path}/c/model.ckpt-25")
    quiet = io.StringIO()
    train(settings(tmp_path, ADAM_DIGITS.format(steps=5), checkpoint_dir=tmp_path / "q"), quiet=True, out=quiet,
          err=quiet)
    assert [line.split(":")[0] for line in quiet.getvalue().splitlines()] == [
        "train loss (cross-entropy)", "train accuracy", "test loss (cross-entropy)", "test accuracy"]


def test_diverging_loss_stops_with_advice(tmp_path, linear_npz):
    with pytest.raises(TrainError) as info:
        train(settings(tmp_path, LINEAR.format(optimizer="sgd", rate=1e6, steps=200)), quiet=True)
    assert "; lower [train] learning_rate" in str(info.value) and "the loss became" in str(info.value)
