"""Hostile surroundings for checkpoints: state files naming paths elsewhere, junk tails far larger than memory,
restore memory, and file modes under the umask."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.train import checkpoint_io

ROOT = Path(__file__).resolve().parents[2]


def _model(**values: np.ndarray) -> tuple[tf.Graph, dict[str, tf.Variable]]:
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: tf.Variable(value, name=name) for name, value in values.items()}
    return graph, variables


@pytest.mark.parametrize("listed", ["../victim/weights", "ABSOLUTE"])
def test_state_file_cannot_make_max_to_keep_delete_elsewhere(tmp_path, listed):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "weights.safetensors").write_bytes(b"precious")
    (victim / "weights.meta").write_bytes(b"precious too")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    listed = str(victim / "weights") if listed == "ABSOLUTE" else listed
    # a hand-edited state file: an earlier "checkpoint" outside the directory
    (ckpt / "checkpoint").write_text(f'model_checkpoint_path: "{listed}"\nall_model_checkpoint_paths: "{listed}"\n')
    graph, _ = _model(w=np.ones(3, np.float32))
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver = tf.train.Saver(max_to_keep=1)
        state = tf.train.get_checkpoint_state(str(ckpt))
        saver.set_last_checkpoints_with_time([(p, 0.0) for p in state.all_model_checkpoint_paths])
        with pytest.warns(UserWarning, match=r"Not deleting old checkpoint .*victim/weights: it is outside"):
            saver.save(sess, str(ckpt / "model.ckpt"), global_step=1)
        saver.save(sess, str(ckpt / "model.ckpt"), global_step=2)  # inside: deleted as max_to_keep says
    assert (victim / "weights.safetensors").read_bytes() == b"precious"
    assert (victim / "weights.meta").read_bytes() == b"precious too"
    assert sorted(p.name for p in ckpt.iterdir()) == ["checkpoint", "model.ckpt-2.meta", "model.ckpt-2.safetensors"]


def _save(directory: Path, **values: np.ndarray) -> str:
    graph, _ = _model(**values)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return tf.train.Saver().save(sess, str(directory / "model.ckpt"), global_step=1)


def test_huge_junk_tail_is_data_loss_without_reading_it(tmp_path):
    prefix = _save(tmp_path, w=np.arange(10, dtype=np.float32))
    path = checkpoint_io.data_path(prefix)
    with open(path, "r+b") as f:  # 8 GiB of zeros, sparse: nothing is written to disk
        f.truncate(os.path.getsize(path) + (8 << 30))
    script = textwrap.dedent(f"""
        import resource, time
        import numpy as np
        import gpugraph as tf
        graph = tf.Graph()
        with graph.as_default():
            w = tf.Variable(np.zeros(10, np.float32), name="w")
            saver = tf.train.Saver()
        with graph.as_default(), tf.Session() as sess:
            vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))  # 1 GiB more, not 8
            start = time.monotonic()
            try:
                saver.restore(sess, {prefix!r})
            except tf.errors.DataLossError as e:
                print("DataLossError", round(time.monotonic() - start, 3), e)
        """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    kind, seconds, message = proc.stdout.split(" ", 2)
    assert kind == "DataLossError" and float(seconds) < 1.0, proc.stdout
    assert f"Checkpoint {path} is corrupted: the file is " in message and "header describes" in message


def test_restore_needs_memory_for_the_largest_tensor_not_the_file(tmp_path):
    size = 1 << 20  # six float32 tensors of 4 MiB: a 24 MiB file
    values = {f"t{i}": np.full(size, i, np.float32) for i in range(6)}
    prefix = _save(tmp_path, **values)
    assert os.path.getsize(checkpoint_io.data_path(prefix)) > 24 << 20
    graph, variables = _model(**{k: np.zeros(size, np.float32) for k in values})
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver = tf.train.Saver()
        tracemalloc.start()
        try:
            saver.restore(sess, prefix)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        for name, var in variables.items():
            np.testing.assert_array_equal(sess.run(var), values[name])
    assert peak < 1.5 * (4 << 20), f"restore peaked at {peak / 2**20:.1f} MiB for 4 MiB tensors"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_follow_the_umask(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        prefix = _save(tmp_path, w=np.ones(2, np.float32))
    finally:
        os.umask(before)
    for name in ("model.ckpt-1.safetensors", "model.ckpt-1.meta", "checkpoint"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix


def test_reader_reads_each_tensor_on_demand_and_closes(tmp_path):
    prefix = _save(tmp_path, a=np.arange(6, dtype=np.int16).reshape(2, 3), b=np.array([True, False]))
    with tf.train.load_checkpoint(prefix) as reader:
        assert reader.get_variable_to_shape_map() == {"a": [2, 3], "b": [2]}
        assert reader.get_variable_to_dtype_map() == {"a": tf.int16, "b": tf.bool}
        np.testing.assert_array_equal(reader.get_tensor("a"), np.arange(6).reshape(2, 3))
        # a newer save replacing the file does not change what an open reader gives
        _save(tmp_path, a=np.zeros((2, 3), np.int16), b=np.array([False, False]))
        np.testing.assert_array_equal(reader.get_tensor("b"), [True, False])
    with pytest.raises(tf.errors.FailedPreconditionError, match="closed"):
        reader.get_tensor("a")
    start = time.monotonic()
    assert tf.train.list_variables(prefix) == [("a", [2, 3]), ("b", [2])]
    assert time.monotonic() - start < 5


def test_monitored_session_raises_on_a_corrupted_latest_checkpoint_as_tf1(tmp_path):
    # TF1's SessionManager restores model_checkpoint_path and lets DataLossError through; no silent fallback
    _save(tmp_path, w=np.arange(4, dtype=np.float32))
    path = tmp_path / "model.ckpt-1.safetensors"
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0x10
    path.write_bytes(bytes(damaged))
    graph, _ = _model(w=np.zeros(4, np.float32))
    with graph.as_default():
        tf.train.get_or_create_global_step()
        with pytest.raises(tf.errors.DataLossError, match=f"Checkpoint {path} is corrupted"):
            tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_secs=None,
                                              save_summaries_steps=None)
    assert path.read_bytes() == bytes(damaged)
