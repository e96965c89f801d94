"""Checkpoint tensor files: safetensors data with a SHA-256 per tensor, written crash-safe.

A checkpoint ``<prefix>`` is the file ``<prefix>.safetensors``. Its header metadata holds, for every
tensor, ``"sha256/<name>"``: the digest of the tensor's name, dtype, shape and bytes. Reading checks
the safetensors structure (the library does), then every digest, so a truncated or altered file
raises ``DataLossError`` instead of giving wrong values. No pickle: loading runs no code.

Files are written to a temporary file in the same directory, fsynced, renamed into place, and the
directory is fsynced: a reader sees the old file or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from typing import Any

import numpy as np

from gpugraph import errors

DATA_SUFFIX = ".safetensors"
FORMAT = "gpugraph-checkpoint"
FORMAT_VERSION = "1"
_DIGEST_PREFIX = "sha256/"
_TMP_SUFFIX = ".gpugraph-tmp"
# ".<target basename>.<pid>.<random>.gpugraph-tmp", as made by atomic_write
_TMP_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+" + re.escape(_TMP_SUFFIX) + "$")


class CheckpointNotFoundError(errors.NotFoundError, ValueError):
    """No checkpoint at the given path. A ValueError too: TF1's Saver.restore raises ValueError here."""


def data_path(prefix: str) -> str:
    """The data file of checkpoint ``prefix`` (a path already naming the data file is kept)."""
    return prefix if prefix.endswith(DATA_SUFFIX) else prefix + DATA_SUFFIX


def prefix_of(path: str) -> str:
    return path[: -len(DATA_SUFFIX)] if path.endswith(DATA_SUFFIX) else path


def exists(prefix: str) -> bool:
    return os.path.isfile(data_path(prefix))


# --- crash-safe writes ---
def fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (not possible on every platform)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old or the new file."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}.", suffix=_TMP_SUFFIX,
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def clean_temp_files(directory: str) -> list[str]:
    """Remove what interrupted writes left in ``directory``; a live process's files are kept."""
    removed = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        m = _TMP_NAME.match(name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid != os.getpid() and _alive(pid):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


# --- tensor files ---
def _digest(name: str, array: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(f"{name}\0{array.dtype.str}\0{list(array.shape)}\0".encode())
    h.update(memoryview(np.asarray(array, order="C").reshape(-1)).cast("B"))
    return h.hexdigest()


def serialize(tensors: dict[str, np.ndarray]) -> bytes:
    """The bytes of a checkpoint data file holding ``tensors``."""
    from safetensors.numpy import save

    arrays: dict[str, np.ndarray] = {}
    metadata = {"format": FORMAT, "version": FORMAT_VERSION}
    for name, value in tensors.items():
        arr = np.asarray(value, order="C")
        if arr.dtype.kind not in "biuf":
            raise errors.InvalidArgumentError(
                None, None, f"Cannot save tensor '{name}' of dtype {arr.dtype} in a checkpoint")
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        arrays[name] = arr
        metadata[_DIGEST_PREFIX + name] = _digest(name, arr)
    return save(arrays, metadata=metadata)


def write(prefix: str, tensors: dict[str, np.ndarray]) -> str:
    """Write checkpoint ``prefix`` crash-safe; returns the data file's path."""
    path = data_path(prefix)
    atomic_write(path, serialize(tensors))
    return path


class CheckpointReader:
    """A checkpoint's tensors, read whole and verified (``tf.train.load_checkpoint``)."""

    def __init__(self, prefix: str):
        self._path = data_path(prefix)
        try:
            with open(self._path, "rb") as f:
                buf = f.read()
        except FileNotFoundError:
            raise CheckpointNotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files "
                            f"for {prefix} (no file {self._path})") from None
        except OSError as e:
            raise errors.NotFoundError(None, None, f"Cannot read checkpoint {self._path}: {e}") from None
        self._tensors = _parse(buf, self._path)

    @property
    def path(self) -> str:
        return self._path

    def has_tensor(self, name: str) -> bool:
        return name in self._tensors

    def get_tensor(self, name: str) -> np.ndarray:
        arr = self._tensors.get(name)
        if arr is None:
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint {self._path}")
        return arr.copy()

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {k: list(v.shape) for k, v in self._tensors.items()}

    def get_variable_to_dtype_map(self) -> dict[str, Any]:
        from gpugraph.framework import dtypes

        return {k: dtypes.as_dtype(v.dtype) for k, v in self._tensors.items()}

    def debug_string(self) -> bytes:
        lines = [f"{k} ({v.dtype.name}) {list(v.shape)}" for k, v in sorted(self._tensors.items())]
        return ("\n".join(lines) + "\n").encode()


def _parse(buf: bytes, path: str) -> dict[str, np.ndarray]:
    """Decode and verify a data file; any inconsistency is a DataLossError naming the file."""
    from safetensors.numpy import load

    def loss(what: str) -> errors.DataLossError:
        return errors.DataLossError(None, None, f"Checkpoint {path} is corrupted: {what}")

    try:
        tensors = load(buf)  # the library validates the header, offsets and sizes
        n = int.from_bytes(buf[:8], "little")
        metadata = json.loads(buf[8:8 + n]).get("__metadata__") or {}
    except Exception as e:  # whatever the bytes were, they are not a checkpoint
        raise loss(f"{type(e).__name__}: {e}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise loss("not a gpugraph checkpoint (format field missing or wrong)")
    if metadata.get("version") != FORMAT_VERSION:
        raise loss(f"unknown checkpoint version {metadata.get('version')!r}")
    digests = {k[len(_DIGEST_PREFIX):]: v for k, v in metadata.items() if k.startswith(_DIGEST_PREFIX)}
    if set(digests) != set(tensors):
        missing = sorted(set(tensors) ^ set(digests))
        raise loss(f"tensors and checksums do not match for {missing}")
    for name, arr in tensors.items():
        if _digest(name, arr) != digests[name]:
            raise loss(f"checksum mismatch for tensor '{name}'")
    return tensors
