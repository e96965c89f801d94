"""tf.io: gfile."""

from __future__ import annotations

from gpugraph import gfile

__all__ = ["gfile"]
