"""tf.metrics: streaming (value, update_op) metrics on local variables."""

from __future__ import annotations

__all__: list[str] = []
