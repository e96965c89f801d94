"""Fed values: converted to the placeholder's dtype and checked against its shape before a run."""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.constant_ops import to_numpy


def checked_feed(spec: Any, value: Any) -> Any:
    """Convert one fed value to the tensor's dtype and check its shape; errors name the tensor."""
    kind = type(value)
    if kind is np.ndarray and value.dtype == spec.np_dtype and value.dtype.kind != "O":
        arr = value
    elif (kind is float or kind is np.float64 or kind is np.float32) and spec.np_dtype.kind == "f":
        arr = spec.np_dtype.type(value)  # the per-sample loop's scalars: a NumPy scalar, its arithmetic is cheap
    else:
        if isinstance(value, (Tensor, Operation)):
            raise TypeError(f"The value of a feed cannot be a tf.Tensor object ('{spec.tensor.name}' was fed "
                            f"{value}). Acceptable feed values include Python scalars, strings, lists, "
                            f"numpy ndarrays.")
        arr = to_numpy(value, spec.tensor.dtype, f"Feed for Tensor '{spec.tensor.name}'")
    dims = spec.dims
    if dims is not None:
        shape = arr.shape
        if len(shape) != len(dims):
            _bad_shape(spec, shape)
        for d, s in zip(dims, shape):  # a plain loop: a generator costs more than the check for a short shape
            if d is not None and d != s:
                _bad_shape(spec, shape)
    return arr


def _bad_shape(spec: Any, shape: tuple[int, ...]) -> NoReturn:
    raise ValueError(f"Cannot feed value of shape {shape} for Tensor '{spec.tensor.name}', "
                     f"which has shape '{spec.tensor.shape}'")
