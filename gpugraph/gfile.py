"""tf.gfile and tf.io.gfile on local files, with TF's error classes and messages.

Only local paths (and ``file://`` URLs) are supported: a path with another scheme (``gs://``,
``hdfs://``, ``s3://``) raises UnimplementedError naming it.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from typing import Any, Iterator, NamedTuple

from gpugraph import errors
from gpugraph._gfile_file import GFile, as_local, os_error

__all__ = [
    "GFile", "FastGFile", "Open", "Exists", "MakeDirs", "MkDir", "DeleteRecursively", "Remove", "Glob",
    "IsDirectory", "ListDirectory", "Copy", "Rename", "Stat", "Walk", "FileStatistics",
    "exists", "makedirs", "mkdir", "rmtree", "remove", "glob", "isdir", "listdir", "copy", "rename", "stat",
    "walk", "join", "get_registered_schemes",
]

FastGFile = GFile
Open = GFile


class FileStatistics(NamedTuple):
    length: int
    mtime_nsec: int
    is_directory: bool


def Exists(filename: Any) -> bool:  # noqa: N802 - TF's names
    return os.path.exists(as_local(filename))


def IsDirectory(dirname: Any) -> bool:  # noqa: N802
    return os.path.isdir(as_local(dirname))


def MakeDirs(dirname: Any) -> None:  # noqa: N802
    """Creates ``dirname`` and its missing parents; an existing directory is fine."""
    path = as_local(dirname)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise os_error(path, e) from None


def MkDir(dirname: Any) -> None:  # noqa: N802
    """Creates ``dirname``, whose parent must exist; an existing directory is fine (as TF 2 does)."""
    path = as_local(dirname)
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise errors.AlreadyExistsError(None, None, f"{path}; File exists") from None
    except OSError as e:
        raise os_error(path, e) from None


def Remove(filename: Any) -> None:  # noqa: N802
    path = as_local(filename)
    if os.path.isdir(path):
        raise errors.FailedPreconditionError(None, None, f"{path}; Is a directory")
    try:
        os.remove(path)
    except OSError as e:
        raise os_error(path, e) from None


def DeleteRecursively(dirname: Any) -> None:  # noqa: N802
    """Deletes a directory tree (or a single file)."""
    path = as_local(dirname)
    if not os.path.lexists(path):
        raise errors.NotFoundError(None, None, f"{path} not found")
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except OSError as e:
        raise os_error(path, e) from None


def ListDirectory(dirname: Any) -> list[str]:  # noqa: N802
    """The entries of ``dirname`` (names only, without '.' and '..')."""
    path = as_local(dirname)
    if not os.path.isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {path}")
    try:
        return os.listdir(path)
    except OSError as e:
        raise os_error(path, e) from None


def Glob(filename: Any) -> list[str]:  # noqa: N802
    """Paths matching the pattern (or any pattern of a list)."""
    patterns = [filename] if isinstance(filename, (str, bytes, os.PathLike)) else list(filename)
    out: list[str] = []
    for pattern in patterns:
        out.extend(_glob.glob(as_local(pattern)))
    return out


def Copy(oldpath: Any, newpath: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = as_local(oldpath), as_local(newpath)
    if not overwrite and os.path.exists(dst):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    if os.path.isdir(src):
        raise errors.FailedPreconditionError(None, None, f"{src}; Is a directory")
    try:
        shutil.copyfile(src, dst)
    except OSError as e:
        raise os_error(src if not os.path.exists(src) else dst, e) from None


def Rename(oldname: Any, newname: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = as_local(oldname), as_local(newname)
    if not overwrite and os.path.exists(dst):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    try:
        os.replace(src, dst)
    except OSError as e:
        raise os_error(src if not os.path.lexists(src) else dst, e) from None


def Stat(filename: Any) -> FileStatistics:  # noqa: N802
    path = as_local(filename)
    try:
        st = os.stat(path)
    except OSError as e:
        raise os_error(path, e) from None
    is_dir = os.path.isdir(path)
    return FileStatistics(length=0 if is_dir else st.st_size, mtime_nsec=st.st_mtime_ns, is_directory=is_dir)


def Walk(top: Any, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    """(dirname, subdirectories, files) for ``top`` and each directory below it; nothing if it is missing.

    ``in_order=False`` yields the subdirectories before their parent.
    """
    top = as_local(top)
    try:
        entries = os.listdir(top)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as e:
        raise os_error(top, e) from None
    subdirs = sorted(e for e in entries if os.path.isdir(os.path.join(top, e)))
    files = sorted(e for e in entries if e not in subdirs)
    here = (top, subdirs, files)
    if in_order:
        yield here
    for sub in subdirs:
        yield from Walk(os.path.join(top, sub), in_order)
    if not in_order:
        yield here


def join(path: Any, *paths: Any) -> str:
    return os.path.join(as_local(path) if "://" not in str(path) else str(path), *[str(p) for p in paths])


def get_registered_schemes() -> list[str]:
    return ["", "file"]


# tf.io.gfile's names
exists = Exists
isdir = IsDirectory
makedirs = MakeDirs
mkdir = MkDir
remove = Remove
rmtree = DeleteRecursively
listdir = ListDirectory
glob = Glob
copy = Copy
rename = Rename
stat = Stat
walk = Walk
