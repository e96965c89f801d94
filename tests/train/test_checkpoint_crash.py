"""Crash safety: a child process saving checkpoints in a loop is SIGKILLed at random moments; after
every kill, latest_checkpoint names a complete checkpoint that restores exactly one saved step."""

from __future__ import annotations

import os
import random
import select
import signal
import time
import traceback

import numpy as np

import gpugraph as tf
from gpugraph.train import checkpoint_io

KILLS = 50
N = 64 * 1024  # ~256 KiB of float32 per checkpoint: a write takes long enough to be interrupted


def _values(step: int) -> dict[str, np.ndarray]:
    """What the variables hold after ``step``: every element depends on the step."""
    return {"big": (np.arange(N, dtype=np.float32) * np.float32(1e-3) + np.float32(step)),
            "mix": np.array([step, -step, step * 7], np.int64),
            "flag": np.array([step % 2 == 0, step % 3 == 0])}


def _child(directory: str, saver: tf.train.Saver, variables: dict[str, tf.Variable], err: str,
           progress: int) -> None:
    """Resume from the newest checkpoint and save forever (until killed); one byte on ``progress``
    after each completed save."""
    try:
        with tf.Session() as sess:
            latest = tf.train.latest_checkpoint(directory)
            if latest is None:
                step = 0
            else:
                saver.restore(sess, latest)
                step = int(sess.run(variables["step"]))
                saver.recover_last_checkpoints(tf.train.get_checkpoint_state(directory).all_model_checkpoint_paths)
            while True:
                step += 1
                for name, value in _values(step).items():
                    variables[name].load(value, sess)
                variables["step"].load(step, sess)
                saver.save(sess, os.path.join(directory, "model.ckpt"), global_step=step)
                os.write(progress, b".")
    except BaseException:
        with open(err, "w") as f:
            f.write(traceback.format_exc())
        os._exit(1)


def _check(sess: tf.Session, saver: tf.train.Saver, variables: dict[str, tf.Variable], path: str) -> int:
    saver.restore(sess, path)
    step = int(sess.run(variables["step"]))
    assert path.endswith(f"-{step}"), (path, step)
    for name, want in _values(step).items():
        got = sess.run(variables[name])
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (path, name)
    return step


def _wait_for_saves(fd: int, count: int, pid: int, err: str) -> None:
    got = 0
    while got < count:
        ready, _, _ = select.select([fd], [], [], 20.0)
        assert ready, "the child made no progress for 20 s"
        data = os.read(fd, count - got)
        assert data, open(err).read() if os.path.exists(err) else f"child {pid} exited"
        got += len(data)


def _save_seconds(saver: tf.train.Saver, sess: tf.Session, variables: dict[str, tf.Variable], where: str) -> float:
    """How long one save takes here: kills are timed to land inside the next one."""
    for name, value in _values(1).items():
        variables[name].load(value, sess)
    variables["step"].load(1, sess)
    times = []
    for i in range(5):
        t = time.perf_counter()
        saver.save(sess, os.path.join(where, "probe"), global_step=i)
        times.append(time.perf_counter() - t)
    return sorted(times)[2]


def test_sigkill_at_random_moments_leaves_a_complete_checkpoint(tmp_path):
    directory = str(tmp_path / "run")
    os.mkdir(directory)
    os.mkdir(tmp_path / "probe")
    err = str(tmp_path / "child-error.txt")
    rng = random.Random(20240601)
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: tf.Variable(value, name=name) for name, value in _values(0).items()}
        variables["step"] = tf.Variable(np.int64(0), name="step")
        saver = tf.train.Saver(max_to_keep=3)
    start = time.monotonic()
    last_step, leftovers_seen = 0, 0
    with graph.as_default(), tf.Session() as sess:
        save_s = _save_seconds(tf.train.Saver(max_to_keep=3), sess, variables, str(tmp_path / "probe"))
        for kill in range(KILLS):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child never returns into pytest
                os.close(read_fd)
                _child(directory, saver, variables, err, write_fd)
                os._exit(0)
            os.close(write_fd)
            try:
                # wait for 0-2 completed saves, then kill at a random moment of the next one (or of
                # the start-up and restore, when no save is awaited)
                completed = rng.choice([0, 1, 1, 2])
                _wait_for_saves(read_fd, completed, pid, err)
                time.sleep(rng.uniform(0.0, 1.2 * save_s))
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            finally:
                os.close(read_fd)
            assert not os.path.exists(err), open(err).read()
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

            leftovers_seen += sum(name.endswith(".gpugraph-tmp") for name in os.listdir(directory))
            latest = tf.train.latest_checkpoint(directory)
            if latest is None:
                assert last_step == 0 and completed == 0, "a completed save must stay visible"
                continue
            step = _check(sess, saver, variables, latest)
            # the saves the child reported are all visible (the one killed may or may not be)
            assert step >= last_step + completed, (last_step, completed, step)
            # every checkpoint the state file lists is complete too: deletion only follows the new state
            for path in tf.train.get_checkpoint_state(directory).all_model_checkpoint_paths:
                _check(sess, saver, variables, path)
            last_step = step
        # a clean save removes what the killed saves left behind
        saver.save(sess, os.path.join(directory, "model.ckpt"), global_step=last_step + 1)
    assert not [n for n in os.listdir(directory) if n.endswith(".gpugraph-tmp")]
    assert last_step >= KILLS // 2
    assert time.monotonic() - start < 40
    print(f"{KILLS} kills, restored up to step {last_step}, {leftovers_seen} temp files seen after kills, "
          f"one save takes {save_s * 1e3:.1f} ms")


def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = str(tmp_path / "f.safetensors")
    checkpoint_io.atomic_write(path, b"old")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    try:
        checkpoint_io.atomic_write(path, b"new")
    except OSError:
        pass
    else:
        raise AssertionError("the failed write was not reported")
    assert open(path, "rb").read() == b"old"
    assert os.listdir(tmp_path) == ["f.safetensors"]
