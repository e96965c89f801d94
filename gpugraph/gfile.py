"""tf.gfile and tf.io.gfile on local files."""

from __future__ import annotations
