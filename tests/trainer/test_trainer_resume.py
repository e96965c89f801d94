"""Resuming from damaged or hostile checkpoint directories: a corrupted newest checkpoint falls back to the newest
intact one, nothing is lost, and a state file cannot make the trainer delete files elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.config_files import load_settings
from gpugraph.trainer import TrainError, train

CONFIG = """
[model]
type = "linear_regression"
[data]
path = "lin.npz"
[train]
optimizer = "sgd"
learning_rate = 0.05
batch_size = 8
steps = {steps}
[output]
checkpoint_every = 10
max_to_keep = 2
"""


def run(tmp_path: Path, steps: int) -> tuple[object, str, str]:
    if not (tmp_path / "lin.npz").exists():
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, size=(40, 2))
        np.savez(tmp_path / "lin.npz", x=x, y=x @ np.array([1.0, -2.0]) + 0.5)
    (tmp_path / "run.toml").write_text(CONFIG.format(steps=steps))
    s = load_settings(tmp_path / "run.toml", {}, require_model=True)
    s.set("output", "checkpoint_dir", str(tmp_path / "ckpt"), "test")
    out, err = io.StringIO(), io.StringIO()
    return train(s, quiet=True, out=out, err=err), out.getvalue(), err.getvalue()


def corrupt(path: Path) -> bytes:
    data = path.read_bytes()
    damaged = bytearray(data)
    damaged[-1] ^= 0x01  # one bit of the last tensor's data
    path.write_bytes(bytes(damaged))
    return bytes(damaged)


def test_corrupted_latest_falls_back_to_the_newest_intact(tmp_path):
    ckpt = tmp_path / "ckpt"
    run(tmp_path, 20)
    newest = ckpt / "model.ckpt-20.safetensors"
    damaged = corrupt(newest)
    result, out, err = run(tmp_path, 30)
    assert (result.start_step, result.step) == (10, 30)
    assert f"warning: skipping checkpoint {ckpt}/model.ckpt-20: Checkpoint {newest} is corrupted: " in err
    assert f"resuming from {ckpt}/model.ckpt-10, the newest intact checkpoint, instead of corrupted " \
           f"{ckpt}/model.ckpt-20" in err
    assert tf.train.latest_checkpoint(str(ckpt)) == f"{ckpt}/model.ckpt-30"
    # the corrupted file was overwritten only by a new save of the same step, never deleted unasked
    assert newest.read_bytes() != damaged
    assert sorted(p.name for p in ckpt.glob("*.safetensors")) == ["model.ckpt-20.safetensors",
                                                                  "model.ckpt-30.safetensors"]


def test_every_checkpoint_corrupted_advises_starting_afresh_and_keeps_them(tmp_path):
    ckpt = tmp_path / "ckpt"
    run(tmp_path, 20)
    damaged = {p: corrupt(p) for p in ckpt.glob("*.safetensors")}
    with pytest.raises(TrainError) as info:
        run(tmp_path, 30)
    message = str(info.value)
    assert message.startswith(f"cannot resume: every checkpoint in {ckpt} is corrupted ({ckpt}/model.ckpt-20, "
                              f"{ckpt}/model.ckpt-10); ")
    assert "start afresh" in message and "another model" not in message
    assert {p: p.read_bytes() for p in ckpt.glob("*.safetensors")} == damaged


def test_resume_with_a_hostile_state_file_deletes_nothing_elsewhere(tmp_path):
    ckpt = tmp_path / "ckpt"
    run(tmp_path, 10)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "weights.safetensors").write_bytes(b"precious")
    (victim / "weights.meta").write_bytes(b"precious too")
    (ckpt / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-10"\n'
                                     'all_model_checkpoint_paths: "../victim/weights"\n'
                                     'all_model_checkpoint_paths: "model.ckpt-10"\n')
    with pytest.warns(UserWarning, match="Not deleting old checkpoint .*victim/weights"):
        result, _, _ = run(tmp_path, 40)
    assert (result.start_step, result.step) == (10, 40)
    assert (victim / "weights.safetensors").read_bytes() == b"precious"
    assert (victim / "weights.meta").read_bytes() == b"precious too"
    assert sorted(p.name for p in ckpt.glob("*.safetensors")) == ["model.ckpt-30.safetensors",
                                                                  "model.ckpt-40.safetensors"]
