"""The config every Session made without ``config=`` gets (``gpugraph run --config``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from gpugraph.config import check_session_config

logger = logging.getLogger("gpugraph")

_default_config: list[Any] = [None]
_default_config_note = threading.Event()


def set_default_config(config: Any) -> None:
    """Settings for every Session made without ``config=`` (``gpugraph run --config``); None clears."""
    _default_config[0] = check_session_config(config) if config is not None else None
    _default_config_note.clear()


def get_default_config() -> Any:
    return _default_config[0]


def with_default_config(config: Any) -> Any:
    default = _default_config[0]
    if default is None:
        return config
    if config is None:
        return default
    if not _default_config_note.is_set():
        _default_config_note.set()
        logger.info("gpugraph: a Session was given config=...; it is used instead of the default config")
    return config
