"""tf.metrics: streaming (value, update_op) metrics on local variables."""

from __future__ import annotations

from gpugraph.metrics.confusion_metrics import *  # noqa: F401,F403
from gpugraph.metrics.confusion_metrics import __all__ as _confusion_all
from gpugraph.metrics.extra_metrics import *  # noqa: F401,F403
from gpugraph.metrics.extra_metrics import __all__ as _extra_all
from gpugraph.metrics.mean_metrics import *  # noqa: F401,F403
from gpugraph.metrics.mean_metrics import __all__ as _mean_all
from gpugraph.metrics.threshold_count_metrics import *  # noqa: F401,F403
from gpugraph.metrics.threshold_count_metrics import __all__ as _threshold_count_all
from gpugraph.metrics.threshold_metrics import *  # noqa: F401,F403
from gpugraph.metrics.threshold_metrics import __all__ as _threshold_all
from gpugraph.metrics.topk_metrics import *  # noqa: F401,F403
from gpugraph.metrics.topk_metrics import __all__ as _topk_all

__all__: list[str] = _confusion_all + _extra_all + _mean_all + _threshold_count_all + _threshold_all + _topk_all
