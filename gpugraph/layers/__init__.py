"""tf.layers: TF1 layer functions and classes with TF1 variable names."""

from __future__ import annotations

__all__: list[str] = []
