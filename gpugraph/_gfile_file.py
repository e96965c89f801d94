"""GFile: TF's file object on local files (opened on first use), and the OSError -> tf.errors mapping."""

from __future__ import annotations

import os
import re
from typing import Any, Iterator

from gpugraph import errors

__all__ = ["GFile", "as_local", "os_error"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_MODES = {"r": "rb", "w": "wb", "a": "ab", "r+": "r+b", "w+": "w+b", "a+": "a+b"}


def as_local(path: Any) -> str:
    """A local path from a str, bytes or PathLike; ``file://`` is stripped, other schemes are refused."""
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    path = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(path, str):
        raise TypeError(f"Expected a path (str, bytes or os.PathLike), got {type(path).__name__}")
    found = _SCHEME.match(path)
    if found:
        if found.group(1) == "file":
            return path[len("file://"):]
        raise errors.UnimplementedError(
            None, None, f"File system scheme '{found.group(1)}' not implemented (file: '{path}'): "
            "gpugraph's gfile reads and writes local files only")
    return path


def os_error(path: str, e: OSError) -> errors.OpError:
    """TF's error class and message for an OSError on ``path``."""
    reason = e.strerror or str(e)
    message = f"{path}; {reason}"
    if isinstance(e, FileNotFoundError):
        return errors.NotFoundError(None, None, message)
    if isinstance(e, FileExistsError):
        return errors.AlreadyExistsError(None, None, message)
    if isinstance(e, PermissionError):
        return errors.PermissionDeniedError(None, None, message)
    if isinstance(e, (IsADirectoryError, NotADirectoryError)):
        return errors.FailedPreconditionError(None, None, message)
    return errors.UnknownError(None, None, message)


class GFile:
    """``tf.gfile.GFile(name, mode='r')``: str in text modes, bytes in binary ones.

    As in TF, the file is opened at the first read or write, so a missing file raises NotFoundError
    there; ``write`` takes str or bytes in any mode; positions count bytes.
    """

    def __init__(self, name: Any, mode: str = "r"):
        self.__name = as_local(name)
        base = mode.replace("b", "")
        if base not in _MODES:
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self.__mode = mode
        self.__os_mode = _MODES[base]
        self.__binary = "b" in mode
        self.__readable = base in ("r", "r+", "w+", "a+")
        self.__writable = base != "r"
        self.__file: Any = None

    @property
    def name(self) -> str:
        return self.__name

    @property
    def mode(self) -> str:
        return self.__mode

    def _open(self) -> Any:
        if self.__file is None:
            if os.path.isdir(self.__name):
                raise errors.FailedPreconditionError(None, None, f"{self.__name}; Is a directory")
            try:
                self.__file = open(self.__name, self.__os_mode)  # noqa: SIM115 - closed by close()
            except OSError as e:
                raise os_error(self.__name, e) from None
        return self.__file

    def _reader(self) -> Any:
        if not self.__readable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        return self._open()

    def _writer(self) -> Any:
        if not self.__writable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
        return self._open()

    def _out(self, data: bytes) -> Any:
        return data if self.__binary else data.decode("utf-8")

    # --- reading ---
    def read(self, n: int = -1) -> Any:
        """``n`` bytes (all when n < 0), as str or bytes by the mode."""
        return self._out(self._reader().read(-1 if n is None else n))

    def readline(self) -> Any:
        return self._out(self._reader().readline())

    def readlines(self) -> list[Any]:
        return [self._out(line) for line in self._reader().readlines()]

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    # --- writing ---
    def write(self, file_content: Any) -> None:
        data = file_content.encode("utf-8") if isinstance(file_content, str) else bytes(file_content)
        self._writer().write(data)

    def flush(self) -> None:
        if self.__file is not None and self.__writable:
            self.__file.flush()

    # --- position and size ---
    def size(self) -> int:
        self.flush()
        try:
            return os.stat(self.__name).st_size
        except OSError as e:
            raise os_error(self.__name, e) from None

    def tell(self) -> int:
        return self._open().tell()

    def seek(self, offset: int | None = None, whence: int = 0, position: int | None = None) -> None:
        """Moves to ``offset`` (``position`` is TF's older name for it), relative to ``whence``."""
        if offset is None:
            offset = position if position is not None else 0
        self._open().seek(offset, whence)

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        if self.__file is not None:
            self.__file.close()
            self.__file = None

    def __enter__(self) -> GFile:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
