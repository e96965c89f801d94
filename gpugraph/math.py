"""``tf.math``: TF1's math functions under their tf.math names (the same objects as the top-level ones)."""

from __future__ import annotations

from gpugraph.ops.math_ops import (  # noqa: F401
    abs, add, add_n, ceil, cast, divide, equal, exp, floor, floordiv, floormod, greater, greater_equal, less,
    less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod, multiply,
    negative, not_equal, pow, realdiv, reciprocal, round, rsqrt, sign, sqrt, square, squared_difference, subtract,
    truediv,
)
from gpugraph.ops.unary_ops import cos, sin  # noqa: F401
from gpugraph.ops.nn_ops import log_softmax, sigmoid, softmax, softplus, tanh  # noqa: F401
from gpugraph.ops.index_ops import argmax, argmin  # noqa: F401
from gpugraph.ops.metric_ops import div_no_nan as divide_no_nan  # noqa: F401
from gpugraph.ops.reduction_ops import reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum  # noqa: F401
from gpugraph.ops.reduction_extra_ops import (  # noqa: F401
    count_nonzero, cumprod, cumsum, reduce_all, reduce_any, reduce_euclidean_norm, reduce_logsumexp, reduce_std,
    reduce_variance,
)
from gpugraph.ops.math_extra_ops import (  # noqa: F401
    acos, acosh, asin, asinh, atan, atan2, atanh, cosh, digamma, erf, erfc, expm1, is_finite, is_inf, is_nan,
    is_non_decreasing, is_strictly_increasing, lgamma, log_sigmoid, multiply_no_nan, polygamma, polyval,
    reciprocal_no_nan, rint, scalar_mul, sinh, softsign, tan, xdivy, xlogy, zero_fraction,
)
from gpugraph.ops.sort_ops import bincount, confusion_matrix, invert_permutation  # noqa: F401
from gpugraph.ops.segment_ops import (  # noqa: F401
    segment_max, segment_mean, segment_min, segment_prod, segment_sum, unsorted_segment_max, unsorted_segment_mean,
    unsorted_segment_min, unsorted_segment_prod, unsorted_segment_sqrt_n, unsorted_segment_sum,
)

from gpugraph.nn import in_top_k, l2_normalize, top_k  # noqa: F401
