"""tf.logging: TF1 logging levels and functions."""

from __future__ import annotations
