"""tf.app.flags / tf.flags: DEFINE_* and FLAGS."""

from __future__ import annotations
