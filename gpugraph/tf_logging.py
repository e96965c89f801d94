"""tf.logging: TF1 logging levels and functions on the stdlib logger named "tensorflow".

As TF does, the first use gives that logger a stderr handler formatted "LEVEL:tensorflow:message",
unless the root logger already has handlers (then records go there). The default level is WARN.
"""

from __future__ import annotations

import logging as _logging
import sys
import threading
from typing import Any

__all__ = ["DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "get_logger", "set_verbosity", "get_verbosity",
           "debug", "info", "warn", "warning", "error", "fatal", "log", "log_if", "log_every_n", "log_first_n",
           "vlog", "flush", "TaskLevelStatusMessage"]

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger: _logging.Logger | None = None
_lock = threading.Lock()
_counts: dict[tuple[str, int], int] = {}  # call site -> calls so far (log_every_n, log_first_n)


def get_logger() -> _logging.Logger:
    """The "tensorflow" logger, given TF's stderr handler on first use."""
    global _logger
    if _logger is not None:
        return _logger
    with _lock:
        if _logger is None:
            logger = _logging.getLogger("tensorflow")
            if not _logging.getLogger().handlers:
                interactive = hasattr(sys, "ps1") or bool(sys.flags.interactive)
                if interactive:
                    logger.setLevel(INFO)
                # the stream is looked up per record, so a redirected sys.stderr is honoured
                handler = _StderrHandler(sys.stdout if interactive else None)
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT, None))
                logger.addHandler(handler)
            _logger = logger
    return _logger


class _StderrHandler(_logging.StreamHandler):
    def __init__(self, stream: Any = None):
        super().__init__(stream)
        self._fixed = stream is not None

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return self.__dict__["_stream"] if self._fixed else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self.__dict__["_stream"] = value


def set_verbosity(v: int | str) -> None:
    get_logger().setLevel(v)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


# stacklevel=2: a record's file and line are the caller's, not this module's
def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, stacklevel=2, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().debug(msg, *args, stacklevel=2, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().info(msg, *args, stacklevel=2, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, stacklevel=2, **kwargs)


warn = warning


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().error(msg, *args, stacklevel=2, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at FATAL (CRITICAL); like TF's, it does not end the program."""
    get_logger().fatal(msg, *args, stacklevel=2, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, stacklevel=2, **kwargs)


def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    if condition:
        get_logger().log(level, msg, *args, stacklevel=2)


def _next_count() -> int:
    """How many times the caller's caller's line has asked before (0 the first time)."""
    frame = sys._getframe(2)
    site = (frame.f_code.co_filename, frame.f_lineno)
    with _lock:
        count = _counts.get(site, 0)
        _counts[site] = count + 1
    return count


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th... call from the same line."""
    if _next_count() % max(int(n), 1) == 0:
        get_logger().log(level, msg, *args, stacklevel=2)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs the first ``n`` calls from the same line."""
    if _next_count() < n:
        get_logger().log(level, msg, *args, stacklevel=2)


def flush() -> None:
    for handler in get_logger().handlers:
        handler.flush()


def TaskLevelStatusMessage(msg: Any) -> None:  # noqa: N802 - TF's name
    error(msg)
