"""TF1 initializers built on other ops: orthogonal and uniform unit scaling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.init_ops import Initializer, _dtype
from gpugraph.ops import random_ops

__all__ = ["Orthogonal", "UniformUnitScaling", "orthogonal_initializer", "uniform_unit_scaling_initializer"]


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR of a normal draw, reshaped to ``shape`` and times ``gain``."""

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: Any = dtypes.float32):
        self.gain, self.seed, self.dtype = gain, seed, dtypes.as_dtype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from gpugraph.ops.array_ops import reshape, transpose
        from gpugraph.ops.decomp_ops import qr
        from gpugraph.ops.reduction_ops import reduce_sum
        from gpugraph.ops.unary_ops import sign

        dt = _dtype(dtype, self.dtype)
        if not dt.is_floating:
            raise ValueError(f"Expected floating point type, got {dt}.")
        dims = [int(d) for d in shape]
        if len(dims) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = math.prod(dims[:-1]), dims[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = random_ops.random_normal(flat, dtype=dt, seed=self.seed)
        q, r = qr(a, full_matrices=False)
        diag = reduce_sum(r * np.eye(flat[1], dtype=dt.np_dtype), axis=0)
        q = q * sign(diag)  # makes the draw uniform over orthogonal matrices
        if rows < cols:
            q = transpose(q)
        return self.gain * reshape(q, dims)


class UniformUnitScaling(Initializer):
    """Uniform in [-sqrt(3 / fan_in) * factor, ...], fan_in the product of all but the last dim (TF1)."""

    def __init__(self, factor: float = 1.0, seed: int | None = None, dtype: Any = dtypes.float32):
        self.factor, self.seed, self.dtype = factor, seed, dtypes.as_dtype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        dims = [int(d) for d in shape]
        input_size = float(math.prod(dims[:-1])) if dims else 1.0
        limit = math.sqrt(3 / max(input_size, 1.0)) * self.factor
        return random_ops.random_uniform(dims, -limit, limit, _dtype(dtype, self.dtype), seed=self.seed)


orthogonal_initializer = Orthogonal
uniform_unit_scaling_initializer = UniformUnitScaling
