"""tf.compat.v1: the same objects as the top-level API."""

from gpugraph.compat import v1

__all__ = ["v1"]
