"""Damaged checkpoints: every truncation and hundreds of flipped bytes and bits either restore the exact
values or raise NotFoundError / InvalidArgumentError / DataLossError naming the file, never anything else."""

from __future__ import annotations

import json
import os
import pickle
import random

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.train import checkpoint_io

BAD = (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.DataLossError)
VALUES = {
    "w": np.array([[1.5, -2.25], [3.0, 0.125]], np.float32),
    "b": np.array([7, -9], np.int64),
    "on": np.array([True, False]),
    "s": np.float64(0.1),
}


@pytest.fixture(scope="module")
def model():
    graph = tf.Graph()
    with graph.as_default():
        variables = {k: tf.Variable(v, name=k) for k, v in VALUES.items()}
        saver = tf.train.Saver()
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
    yield graph, variables, saver, sess
    sess.close()


@pytest.fixture(scope="module")
def good(model, tmp_path_factory):
    _, _, saver, sess = model
    prefix = saver.save(sess, str(tmp_path_factory.mktemp("ckpt") / "m"), write_meta_graph=False)
    with open(checkpoint_io.data_path(prefix), "rb") as f:
        return prefix, f.read()


def _try_restore(model, prefix: str, data: bytes) -> str:
    """Restore from ``data``; 'ok' if every variable then holds exactly VALUES, the error class if not."""
    _, variables, saver, sess = model
    with open(checkpoint_io.data_path(prefix), "wb") as f:
        f.write(data)
    for var in variables.values():
        sess.cell(var.op).value = None  # a failed restore must leave them untouched: uninitialized
    try:
        saver.restore(sess, prefix)
    except BAD as e:
        assert checkpoint_io.data_path(prefix) in str(e), str(e)
        assert all(sess.cell(v.op).value is None for v in variables.values()), "partial restore"
        return type(e).__name__
    for name, var in variables.items():
        got, want = np.asarray(sess.run(var)), np.asarray(VALUES[name])
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(), name
    return "ok"


def _header_end(data: bytes) -> int:
    return 8 + int.from_bytes(data[:8], "little")


def test_intact_file_restores(model, good):
    prefix, data = good
    assert _try_restore(model, prefix, data) == "ok"


def test_every_truncation_is_data_loss(model, good):
    prefix, data = good
    outcomes = {_try_restore(model, prefix, data[:n]) for n in range(len(data))}
    assert outcomes == {"DataLossError"}


def test_flipped_bytes_and_bits(model, good):
    prefix, data = good
    rng = random.Random(7)
    header_end = _header_end(data)
    results: dict[str, int] = {}
    for i in range(600):
        pos = rng.randrange(len(data))
        damaged = bytearray(data)
        if i % 2:
            damaged[pos] ^= 1 << rng.randrange(8)
        else:
            damaged[pos] = rng.choice([b for b in range(256) if b != data[pos]])
        outcome = _try_restore(model, prefix, bytes(damaged))
        if outcome == "ok":
            # only the JSON header's padding may change without changing a value
            assert 8 <= pos < header_end and chr(data[pos]).isspace(), (pos, data[pos], damaged[pos])
        results[outcome] = results.get(outcome, 0) + 1
    assert results.get("DataLossError", 0) > 500, results


def test_every_byte_of_the_tensor_data_is_covered(model, good):
    prefix, data = good
    for pos in range(_header_end(data), len(data)):
        damaged = bytearray(data)
        damaged[pos] ^= 0x80
        assert _try_restore(model, prefix, bytes(damaged)) == "DataLossError", pos


def _write(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None) -> None:
    from safetensors.numpy import save

    with open(checkpoint_io.data_path(path), "wb") as f:
        f.write(save(tensors, metadata=metadata))


def test_foreign_or_tampered_files(model, good, tmp_path):
    prefix, data = good
    p = str(tmp_path / "x")
    # a plain safetensors file (no checksums) is refused, not trusted
    _write(p, dict(VALUES, s=np.array(VALUES["s"])), None)
    with pytest.raises(tf.errors.DataLossError, match="not a gpugraph checkpoint"):
        model[2].restore(model[3], p)
    # a tensor whose checksum entry is missing
    header = json.loads(data[8:_header_end(data)])
    meta = dict(header["__metadata__"])
    meta.pop("sha256/b")
    _write(p, {k: np.asarray(v) for k, v in VALUES.items()}, meta)
    with pytest.raises(tf.errors.DataLossError, match="'b'|\\['b'\\]"):
        model[2].restore(model[3], p)
    # checksums swapped between two tensors
    meta = dict(header["__metadata__"])
    meta["sha256/w"], meta["sha256/b"] = meta["sha256/b"], meta["sha256/w"]
    _write(p, {k: np.asarray(v) for k, v in VALUES.items()}, meta)
    with pytest.raises(tf.errors.DataLossError, match="checksum mismatch"):
        model[2].restore(model[3], p)
    # unknown format version
    meta = dict(header["__metadata__"], version="99")
    _write(p, {k: np.asarray(v) for k, v in VALUES.items()}, meta)
    with pytest.raises(tf.errors.DataLossError, match="version"):
        model[2].restore(model[3], p)


def test_pickle_payload_is_never_run(model, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    p = str(tmp_path / "evil")
    for blob in (pickle.dumps(Payload()), b"", b"\x00" * 8, b"\xff" * 64):
        with open(checkpoint_io.data_path(p), "wb") as f:
            f.write(blob)
        with pytest.raises(tf.errors.DataLossError, match="evil.safetensors"):
            model[2].restore(model[3], p)
        with pytest.raises(tf.errors.DataLossError):
            tf.train.list_variables(p)
    assert not marker.exists()


def test_missing_file_and_unreadable_path(model, tmp_path):
    p = str(tmp_path / "gone")
    with pytest.raises(tf.errors.NotFoundError, match="gone"):
        model[2].restore(model[3], p)
    os.mkdir(checkpoint_io.data_path(p))  # a directory where the file should be
    with pytest.raises(BAD, match="gone"):
        model[2].restore(model[3], p)
