"""tf.nn: regularize."""

from __future__ import annotations

__all__: list[str] = []
