"""``tf.compat.v1.X is tf.X`` for every public name, plus TF2-migration switches that do nothing here."""

from __future__ import annotations

from typing import Any

import gpugraph as _gg


def disable_eager_execution() -> None:
    """Graph mode is the only mode: nothing to switch off."""


def disable_v2_behavior() -> None:
    """TF1 behaviour is the only behaviour: nothing to switch off."""


def executing_eagerly() -> bool:
    return False


_LOCAL = {
    "disable_eager_execution": disable_eager_execution,
    "disable_v2_behavior": disable_v2_behavior,
    "executing_eagerly": executing_eagerly,
}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_gg, name)
    except AttributeError:
        raise AttributeError(f"module 'gpugraph.compat.v1' has no attribute '{name}'") from None


def __dir__() -> list[str]:
    return sorted(set(_LOCAL) | {n for n in dir(_gg) if not n.startswith("_")})
