"""Array backends: one object per device kind. NumPy always exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Backend:
    """What the plan compiler needs of a device kind: its array module and host transfers."""

    name: str
    xp: Any

    def to_device(self, array: np.ndarray) -> Any:
        return self.xp.asarray(array)

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        """NumPy work is synchronous; a CUDA backend waits on its stream here."""


NUMPY = Backend("numpy", np)


def default_backend() -> Backend:
    return NUMPY
