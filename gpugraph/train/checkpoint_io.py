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
import errno
import hashlib
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
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


def _create_temp(directory: str, target: str) -> tuple[int, str]:
    """A new file beside ``target``, created with mode 0666 so the umask decides its permissions, as for
    any file a program creates (mkstemp would force 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{target}.{os.getpid()}.{secrets.token_hex(6)}{_TMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "No usable temporary file name found", directory)


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old or the new file."""
    directory = os.path.dirname(path) or "."
    fd, tmp = _create_temp(directory, os.path.basename(path))
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


# --- reading: the header first, then one tensor at a time ---
# safetensors dtype codes of the dtypes a checkpoint may hold (serialize allows kinds b, i, u, f)
_DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2", "U32": "<u4",
           "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}
_MAX_HEADER = 100_000_000  # the safetensors library's own limit


@dataclass(frozen=True)
class _Entry:
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int  # offset of the tensor's bytes in the file
    size: int


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate keys in the header")
    return out


def _read_exactly(fd: int, size: int, offset: int, what: str, loss: Any) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise loss(f"{what}: the file ends early")
    return data


def _read_header(fd: int, path: str) -> tuple[dict[str, _Entry], dict[str, str]]:
    """Validate the header against the file's size before any tensor is read; DataLossError if it lies."""
    def loss(what: str) -> errors.DataLossError:
        return errors.DataLossError(None, None, f"Checkpoint {path} is corrupted: {what}")

    file_size = os.fstat(fd).st_size
    if file_size < 8:
        raise loss(f"the file is {file_size} bytes, too short for a header")
    n = int.from_bytes(_read_exactly(fd, 8, 0, "header length", loss), "little")
    if n > min(file_size - 8, _MAX_HEADER):
        raise loss(f"the header claims {n} bytes but the file is {file_size} bytes")
    try:
        header = json.loads(_read_exactly(fd, n, 8, "header", loss).decode("utf-8"), object_pairs_hook=_no_duplicates)
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise ValueError("the header's metadata is not a string map")
        entries = {name: _entry(spec, 8 + n) for name, spec in header.items()}
    except (UnicodeDecodeError, ValueError, TypeError, KeyError) as e:
        raise loss(f"bad header: {e}") from None
    end = 8 + n  # tensors must tile the rest of the file exactly, in order, as safetensors requires
    for name, entry in sorted(entries.items(), key=lambda kv: (kv[1].begin, kv[1].size)):
        if entry.begin != end:
            raise loss(f"tensor '{name}' starts at byte {entry.begin}, expected {end}")
        end += entry.size
    if end != file_size:
        raise loss(f"the file is {file_size} bytes but its header describes {end}")
    return entries, metadata


def _entry(spec: Any, data_start: int) -> _Entry:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"bad tensor entry {spec!r}"[:200])
    dtype = np.dtype(_DTYPES[spec["dtype"]])
    shape, offsets = spec["shape"], spec["data_offsets"]
    ints = (lambda xs: isinstance(xs, list) and all(type(x) is int and x >= 0 for x in xs))  # noqa: E731
    if not ints(shape) or not ints(offsets) or len(offsets) != 2 or offsets[0] > offsets[1]:
        raise ValueError(f"bad shape or offsets {shape!r} {offsets!r}")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if offsets[1] - offsets[0] != size:
        raise ValueError(f"offsets {offsets} do not hold a {spec['dtype']} tensor of shape {shape}")
    return _Entry(dtype, tuple(shape), data_start + offsets[0], size)


class CheckpointReader:
    """A checkpoint's tensors (``tf.train.load_checkpoint``), all verified on opening, read one at a time:
    reading needs memory for the largest tensor, not the file."""

    def __init__(self, prefix: str):
        self._path = data_path(prefix)
        self._fd = -1
        try:
            self._fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            if not stat.S_ISREG(os.fstat(self._fd).st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file")
        except FileNotFoundError:
            raise CheckpointNotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files "
                            f"for {prefix} (no file {self._path})") from None
        except OSError as e:
            self.close()
            raise errors.NotFoundError(None, None, f"Cannot read checkpoint {self._path}: {e}") from None
        try:
            self._entries = self._verify()
        except BaseException:
            self.close()
            raise

    def _verify(self) -> dict[str, _Entry]:
        def loss(what: str) -> errors.DataLossError:
            return errors.DataLossError(None, None, f"Checkpoint {self._path} is corrupted: {what}")

        entries, metadata = _read_header(self._fd, self._path)
        if metadata.get("format") != FORMAT:
            raise loss("not a gpugraph checkpoint (format field missing or wrong)")
        if metadata.get("version") != FORMAT_VERSION:
            raise loss(f"unknown checkpoint version {metadata.get('version')!r}")
        digests = {k[len(_DIGEST_PREFIX):]: v for k, v in metadata.items() if k.startswith(_DIGEST_PREFIX)}
        if set(digests) != set(entries):
            raise loss(f"tensors and checksums do not match for {sorted(set(entries) ^ set(digests))}")
        for name in entries:
            if _digest(name, self._read(name, entries[name])) != digests[name]:
                raise loss(f"checksum mismatch for tensor '{name}'")
        return entries

    def _read(self, name: str, entry: _Entry) -> np.ndarray:
        out = np.empty(entry.shape, entry.dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        done = 0
        while done < entry.size:
            got = os.preadv(self._fd, [view[done:]], entry.begin + done)
            if got <= 0:
                raise errors.DataLossError(None, None, f"Checkpoint {self._path} is corrupted: tensor '{name}': "
                                                       f"the file ends early")
            done += got
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> CheckpointReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    @property
    def path(self) -> str:
        return self._path

    def has_tensor(self, name: str) -> bool:
        return name in self._entries

    def get_tensor(self, name: str) -> np.ndarray:
        """A new array read from the file (the file stays open, so a later save cannot change it)."""
        entry = self._entries.get(name)
        if entry is None:
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint {self._path}")
        if self._fd < 0:
            raise errors.FailedPreconditionError(None, None, f"Checkpoint reader for {self._path} is closed")
        return self._read(name, entry)

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {k: list(v.shape) for k, v in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict[str, Any]:
        from gpugraph.framework import dtypes

        return {k: dtypes.as_dtype(v.dtype.newbyteorder("=")) for k, v in self._entries.items()}

    def debug_string(self) -> bytes:
        lines = [f"{k} ({v.dtype.name}) {list(v.shape)}" for k, v in sorted(self._entries.items())]
        return ("\n".join(lines) + "\n").encode()
