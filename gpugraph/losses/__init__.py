"""tf.losses: TF1 loss functions with weights and reductions, and the loss collections."""

from __future__ import annotations

__all__: list[str] = []
