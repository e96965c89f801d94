"""tf.losses: TF1 loss functions with weights and reductions, and the loss collections."""

from __future__ import annotations

from gpugraph.losses.losses_impl import *  # noqa: F401,F403
from gpugraph.losses.losses_impl import __all__ as _impl_all
from gpugraph.losses.util import *  # noqa: F401,F403
from gpugraph.losses.util import __all__ as _util_all

__all__: list[str] = _impl_all + _util_all
