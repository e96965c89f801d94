"""``gpugraph run -n N`` and ``gpugraph train --np N``: ranks under mpiexec, rank-0-only outputs, sharding."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph import cli, launch
from gpugraph.config import ConfigProto, GPUOptions
from gpugraph.config_files import load_settings
from gpugraph.trainer import loop
from gpugraph.trainer.distributed import Ranks, place_on_local_gpu
from gpugraph.trainer.loop import _Batches

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "horovod" / "workers" / "run_script_worker.py"
CONFIG = """
[model]
type = "linear_regression"
[data]
path = "lin.npz"
normalize = "none"
test_fraction = 0.25
[train]
optimizer = "momentum"
learning_rate = 0.05
batch_size = {batch}
steps = 30
seed = 3
[output]
checkpoint_every = 10
log_every = 5
"""


def gpugraph(*args: str, cwd: Path = ROOT, timeout: float = 90) -> subprocess.CompletedProcess:
    env = dict(os.environ, GPUGRAPH_HOROVOD_TIMEOUT="6", GPUGRAPH_HOROVOD_HEARTBEAT="0.2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop(launch.ENV_RANK_MARK, None)
    return subprocess.run([sys.executable, "-m", "gpugraph", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def config(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(96, 3))
    np.savez(tmp_path / "lin.npz", x=x, y=x @ np.array([1.5, -2.0, 0.5]) + 1.0 + 0.1 * rng.normal(size=96))

    def write(batch: int = 16) -> Path:
        path = tmp_path / f"run{batch}.toml"
        path.write_text(CONFIG.format(batch=batch))
        return path
    return write


def weights(checkpoint: Path) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


# --- gpugraph run -n N ---
def test_run_starts_n_ranks_that_reduce_together():
    done = gpugraph("run", "-n", "2", str(WORKER), "--", "5")
    assert done.returncode == 0, done.stderr
    for rank in (0, 1):  # the sum over ranks of [rank, step] at the last step
        assert f"rank {rank} of 2: [1.0, 8.0]" in done.stdout, done.stdout


@pytest.mark.parametrize("mode, lost", [("raise", "rank 1 shut down before joining"),
                                        ("exit", "rank 1 stopped responding")])
def test_a_rank_lost_mid_run_fails_the_job_naming_it(mode, lost):
    began = time.monotonic()
    done = gpugraph("run", "-n", "3", str(WORKER), "--", "8", mode)
    seconds = time.monotonic() - began
    assert done.returncode != 0
    output = done.stdout + done.stderr
    for survivor in (0, 2):
        assert f"gpugraph.horovod [rank {survivor}]: {lost}" in output, output
    assert "HorovodAllreduce" in output and "UnavailableError" in output
    if mode == "raise":
        assert "ValueError: rank 1 gives up at step 3" in output
    assert "of 3:" not in output  # nobody finished
    assert seconds < 6 + 8, seconds  # within the deadline (plus start-up), never hanging


def test_mpiexec_command_and_its_errors(tmp_path, monkeypatch):
    command = launch.mpiexec_command(4, ["run", "s.py"], hosts="a:2,b:2")
    assert Path(command[0]).name == "mpiexec" and os.access(command[0], os.X_OK)
    assert command[1:4] == ["-disable-auto-cleanup", "-n", "4"] and command[4:6] == ["-hosts", "a:2,b:2"]
    assert command[-5:] == [sys.executable, "-m", "gpugraph", "run", "s.py"]
    with pytest.raises(launch.LaunchError, match="hostfile not found: nowhere"):
        launch.mpiexec_command(2, ["run", "s.py"], hostfile="nowhere")
    monkeypatch.setattr(launch.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(launch.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(launch.LaunchError, match=r"pip install 'gpugraph\[mpi\]'"):
        launch.mpiexec_path()


def test_ranks_share_the_cores_unless_told(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setattr(launch.os, "cpu_count", lambda: 8)
    command = launch.mpiexec_command(2, ["run", "s.py"])
    assert "OMP_NUM_THREADS" not in command
    i = command.index("OPENBLAS_NUM_THREADS")
    assert command[i - 1:i + 2] == ["-genv", "OPENBLAS_NUM_THREADS", "4"]


def test_options_reach_every_rank(config, monkeypatch, tmp_path):
    seen: list[list[str]] = []
    monkeypatch.setattr(launch, "run_ranks", lambda command: seen.append(list(command)) or 0)
    monkeypatch.delenv(launch.ENV_RANK_MARK, raising=False)
    assert cli.main(["train", "--np", "2", str(config()), "--steps", "7", "--cpu", "--quiet"]) == 0
    assert seen[0][seen[0].index("gpugraph"):] == ["gpugraph", "train", str(config()), "--steps", "7", "--cpu",
                                                   "--quiet"]
    script = tmp_path / "s.py"
    script.write_text("")
    assert cli.main(["run", "-n", "3", "--cpu", str(script), "--", "-n", "x"]) == 0
    assert seen[1][seen[1].index("-n"):][:2] == ["-n", "3"]
    assert seen[1][seen[1].index("gpugraph"):] == ["gpugraph", "run", "--cpu", str(script), "--", "-n", "x"]


# --- gpugraph train --np N ---
def test_train_on_two_ranks_equals_one_process_with_rank_0_writing(config, tmp_path):
    single = train_in_process(config(), tmp_path / "single")
    done = gpugraph("train", "--np", "2", str(config()), "--checkpoint-dir", str(tmp_path / "ck"),
                    "--logdir", str(tmp_path / "logs"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("train loss (MSE):") == 1 and "2 ranks" in done.stdout  # rank 0 alone prints
    checkpoints = sorted(p.name for p in (tmp_path / "ck").iterdir())
    expected = [f"model.ckpt-{s}.{e}" for s in (10, 20, 30) for e in ("meta", "safetensors")]
    assert checkpoints == ["checkpoint", *expected]
    for part in ("train", "test"):  # one event file each: rank 1 writes none
        assert len(list((tmp_path / "logs" / part).iterdir())) == 1
    two = weights(tmp_path / "ck" / "model.ckpt-30")
    for name, value in weights(single).items():  # averaged shard gradients = the full batch's gradient
        np.testing.assert_allclose(two[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_resume_on_two_ranks_broadcasts_rank_0s_checkpoint(config, tmp_path):
    single = train_in_process(config(), tmp_path / "single")
    first = gpugraph("train", "--np", "2", str(config()), "--steps", "20", "--checkpoint-dir", str(tmp_path / "ck"))
    assert first.returncode == 0, first.stderr
    done = gpugraph("train", "--np", "2", str(config()), "--checkpoint-dir", str(tmp_path / "ck"))
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stdout and "at step 20" in done.stdout
    resumed = weights(tmp_path / "ck" / "model.ckpt-30")
    for name, value in weights(single).items():
        np.testing.assert_allclose(resumed[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_batch_smaller_than_the_ranks_is_refused(config):
    done = gpugraph("train", "--np", "2", str(config(batch=1)), "--quiet")
    assert done.returncode != 0
    assert "the batch of 1 examples cannot be shared by 2 ranks" in done.stderr


def train_in_process(config_path: Path, checkpoint_dir: Path) -> Path:
    settings = load_settings(config_path, require_model=True)
    settings.set("output", "checkpoint_dir", str(checkpoint_dir), "test")
    result = loop.train(settings, quiet=True)
    return Path(result.checkpoint)


# --- the pieces, in one process ---
class _FakeHvd:
    pass


def test_each_rank_takes_its_part_of_every_batch(config):
    settings = load_settings(config(batch=10), require_model=True)
    from gpugraph.trainer.data import load_dataset

    data = load_dataset(settings.data, settings.directory, False)
    whole = _Batches(data, 10, seed=5)
    parts = [_Batches(data, 10, seed=5, ranks=Ranks(_FakeHvd(), r, 3, r)) for r in range(3)]

    class G:
        x, y = "x", "y"
    for step in (0, 1, 6):
        full = whole.feed(step, G)["x"]
        shards = [p.feed(step, G)["x"] for p in parts]
        assert [len(s) for s in shards] == [4, 3, 3]
        np.testing.assert_array_equal(np.concatenate(shards), full)
    # 72 training rows: the last batch of 2 cannot give 3 ranks a row each, so an epoch skips it
    assert (whole.per_epoch, parts[0].per_epoch) == (8, 7)
    assert [len(p.feed(7, G)["x"]) for p in parts] == [4, 3, 3]  # the next epoch's first batch


def test_each_rank_takes_the_gpu_of_its_local_rank():
    ranks = Ranks(_FakeHvd(), rank=5, size=8, local_rank=1)
    listed = ConfigProto(gpu_options=GPUOptions(visible_device_list="2,3"))
    assert place_on_local_gpu(listed, ranks).gpu_options.visible_device_list == "3"
    with pytest.raises(ValueError, match="local rank 1 .* lists only 1 GPU"):
        place_on_local_gpu(ConfigProto(gpu_options=GPUOptions(visible_device_list="2")), ranks)
    cpu = ConfigProto(device_count={"GPU": 0}, gpu_options=GPUOptions(visible_device_list="2"))
    assert place_on_local_gpu(cpu, ranks).gpu_options.visible_device_list == "2"
