"""`gpugraph train` as a process: killed runs resume from their last checkpoint; Ctrl-C saves, then exits 130;
SIGTERM saves, then exits 143 (in `gpugraph run` too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import gpugraph as tf

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
[model]
type = "linear_regression"
[data]
path = "lin.npz"
[train]
optimizer = "sgd"
learning_rate = 0.05
batch_size = 8
[output]
checkpoint_every = 50
"""


def start(tmp_path: Path, steps: int) -> subprocess.Popen:
    if not (tmp_path / "run.toml").exists():
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, size=(64, 2))
        np.savez(tmp_path / "lin.npz", x=x, y=x @ np.array([1.0, -2.0]) + 0.5)
        (tmp_path / "run.toml").write_text(CONFIG)
    command = [sys.executable, "-m", "gpugraph.cli", "train", str(tmp_path / "run.toml"), "--steps", str(steps),
               "--checkpoint-dir", str(tmp_path / "ckpt")]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


def wait_for_checkpoint(proc: subprocess.Popen, directory: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = tf.train.latest_checkpoint(str(directory)) if directory.exists() else None
        if latest:
            return latest
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no checkpoint within {timeout} s: {proc.communicate()}")


def step_of(checkpoint: str) -> int:
    return int(checkpoint.rsplit("-", 1)[1])


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    proc = start(tmp_path, 10_000_000)
    wait_for_checkpoint(proc, ckpt)
    proc.kill()  # SIGKILL: no chance to save anything more
    proc.communicate(timeout=30)
    saved = step_of(tf.train.latest_checkpoint(str(ckpt)))
    assert saved >= 50 and saved % 50 == 0
    again = start(tmp_path, saved + 120)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"resumed from {ckpt}/model.ckpt-{saved} at step {saved}\n" in out
    assert tf.train.latest_checkpoint(str(ckpt)) == f"{ckpt}/model.ckpt-{saved + 120}"
    assert f"step {saved + 100}/{saved + 120}: loss " in err and "test R^2: " in out


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    ckpt = tmp_path / "ckpt"
    proc = start(tmp_path, 10_000_000)
    wait_for_checkpoint(proc, ckpt)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    latest = tf.train.latest_checkpoint(str(ckpt))
    stopped = step_of(latest)
    assert f"interrupted at step {stopped} of 10000000; checkpoint saved: {latest}\n" in err
    assert "Traceback" not in err
    assert "train R^2: " in out  # the metrics of the model as saved


def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
    ckpt = tmp_path / "ckpt"
    proc = start(tmp_path, 10_000_000)
    wait_for_checkpoint(proc, ckpt)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    latest = tf.train.latest_checkpoint(str(ckpt))
    assert f"terminated (SIGTERM) at step {step_of(latest)} of 10000000; checkpoint saved: {latest}\n" in err
    assert "Traceback" not in err


SCRIPT = """
import sys
from gpugraph.config_files import load_settings
from gpugraph.trainer import train

settings = load_settings(sys.argv[1], require_model=True)
settings.set("train", "steps", 10_000_000, "script")
settings.set("output", "checkpoint_dir", sys.argv[2], "script")
result = train(settings, quiet=True)
print("train returned", result.interrupted)  # not reached after SIGTERM
"""


def test_sigterm_in_gpugraph_run_of_a_script_using_the_trainer(tmp_path):
    start(tmp_path, 1).communicate(timeout=60)  # writes the data and config
    ckpt = tmp_path / "run-ckpt"
    (tmp_path / "script.py").write_text(SCRIPT)
    command = [sys.executable, "-m", "gpugraph.cli", "run", str(tmp_path / "script.py"), str(tmp_path / "run.toml"),
               str(ckpt)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wait_for_checkpoint(proc, ckpt)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    latest = tf.train.latest_checkpoint(str(ckpt))
    assert f"terminated (SIGTERM) at step {step_of(latest)} of 10000000; checkpoint saved: {latest}\n" in err
    assert "train returned" not in out and "Traceback" not in err
