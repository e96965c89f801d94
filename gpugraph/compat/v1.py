"""``tf.compat.v1.X is tf.X`` for every public name."""

import gpugraph as _gg


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_gg, name)
    except AttributeError:
        raise AttributeError(f"module 'gpugraph.compat.v1' has no attribute '{name}'") from None


def __dir__() -> list:
    return [n for n in dir(_gg) if not n.startswith("_")]
