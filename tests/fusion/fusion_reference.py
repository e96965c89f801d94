"""Independent NumPy references of the fusible ops, inputs with the awkward values, and the comparisons.

Each reference is the NumPy semantics a fused kernel must have, written here from NumPy's ufuncs, not
taken from the ops' lowerings.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

SELU_SCALE = 1.0507009873554804934193349852946  # TF's constants (tf.nn.selu)
SELU_ALPHA = 1.6732632423543772848170429916717


def _t(x: np.ndarray, v: float) -> Any:
    return x.dtype.type(v)


REFERENCE: dict[str, Callable[..., np.ndarray]] = {
    "Add": lambda x, y: x + y,
    "BiasAdd": lambda x, b, *, data_format: x + b[None, :],  # channels last: b runs along the last axis
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "RealDiv": lambda x, y: x / y,
    "DivNoNan": lambda x, y: np.where(y == 0, _t(x, 0), x / np.where(y == 0, _t(y, 1), y)),
    "Maximum": np.maximum,
    "Minimum": np.minimum,
    "Pow": np.power,
    "SquaredDifference": lambda x, y: (x - y) * (x - y),
    "Atan2": np.arctan2,
    "FloorDiv": np.floor_divide,
    "FloorMod": np.mod,
    "Neg": np.negative,
    "Square": lambda x: x * x,
    "Abs": np.abs,
    "Sign": np.sign,
    "Reciprocal": lambda x: _t(x, 1) / x,
    "Sqrt": np.sqrt,
    "Rsqrt": lambda x: _t(x, 1) / np.sqrt(x),
    "Exp": np.exp,
    "Expm1": np.expm1,
    "Log": np.log,
    "Log1p": np.log1p,
    "Sin": np.sin,
    "Cos": np.cos,
    "Tan": np.tan,
    "Atan": np.arctan,
    "Sinh": np.sinh,
    "Cosh": np.cosh,
    "Floor": np.floor,
    "Ceil": np.ceil,
    "Rint": np.rint,
    "Round": np.round,  # half to even
    "Identity": lambda x: x.copy(),
    "StopGradient": lambda x: x.copy(),
    "Relu": lambda x: np.maximum(x, _t(x, 0)),
    "Relu6": lambda x: np.minimum(np.maximum(x, _t(x, 0)), _t(x, 6)),
    "ReluGrad": lambda dy, y: dy * (y > 0).astype(dy.dtype),  # TF1's kernel: gradients * (features > 0)
    "Elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "Selu": lambda x: np.where(x > 0, x * _t(x, SELU_SCALE), np.expm1(x) * _t(x, SELU_SCALE * SELU_ALPHA)),
    "Softplus": lambda x: np.logaddexp(x, _t(x, 0)),
    "Softsign": lambda x: x / (_t(x, 1) + np.abs(x)),
    "Sigmoid": lambda x: _t(x, 1) / (_t(x, 1) + np.exp(-x)),
    "Tanh": np.tanh,
    "LeakyRelu": lambda x, *, alpha: np.where(x > 0, x, x * _t(x, alpha)),
    "Less": np.less,
    "LessEqual": np.less_equal,
    "Greater": np.greater,
    "GreaterEqual": np.greater_equal,
    "Equal": np.equal,
    "NotEqual": np.not_equal,
    "LogicalAnd": np.logical_and,
    "LogicalOr": np.logical_or,
    "LogicalNot": np.logical_not,
    "IsNan": np.isnan,
    "IsInf": np.isinf,
    "IsFinite": np.isfinite,
    "Select": np.where,
    "Cast": lambda x, *, DstT: x.astype(DstT),  # x86-64: NaN and out-of-range floats -> the int's minimum
    "ZerosLike": lambda x: np.zeros_like(x),
    "OnesLike": lambda x: np.ones_like(x),
}

# results computed by library math functions (CUDA's libdevice, glibc, NumPy's SIMD loops): close, not exact
TRANSCENDENTAL = {"Pow", "Atan2", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh",
                  "Elu", "Selu", "Softplus", "Sigmoid", "Tanh"}
ULPS = 4  # of the result's dtype, for TRANSCENDENTAL ops on one op; chains of them get more


def reference(op_type: str, *xs: np.ndarray, **attrs: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(REFERENCE[op_type](*xs, **attrs))


def special_values(dtype: str) -> np.ndarray:
    """The values where C and NumPy part ways, plus ordinary ones."""
    if dtype in ("float32", "float64"):
        info = np.finfo(dtype)
        vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.5, 6.0, 7.25, -0.1,
                1e30, -1e30, 3e9, -3e9, 1e19, -9.3e18, float(info.tiny), float(info.max), 88.5, -100.0]
        return np.array(vals, dtype)
    if dtype in ("int32", "int64"):
        info = np.iinfo(dtype)
        return np.array([0, 1, -1, 2, -2, 3, -3, 6, 7, -7, 100, -100, info.min, info.max, info.min + 1], dtype)
    return np.array([True, False])


def same_values(got: np.ndarray, want: np.ndarray, ulps: int = 0) -> str | None:
    """None when ``got`` equals ``want``: same dtype and shape, NaN where NaN, the sign of zero kept, and
    floats within ``ulps`` units in the last place; else a message naming the first difference."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return f"{got.dtype}{got.shape} != {want.dtype}{want.shape}"
    if want.dtype.kind != "f":
        bad = got != want
    else:
        nan_g, nan_w = np.isnan(got), np.isnan(want)
        with np.errstate(all="ignore"):
            close = (got == want) & (np.signbit(got) == np.signbit(want))
            if ulps:
                finite = np.isfinite(got) & np.isfinite(want)
                spacing = np.spacing(np.maximum(np.abs(want), np.finfo(want.dtype).tiny).astype(want.dtype))
                close |= finite & (np.abs(got.astype(np.float64) - want) <= ulps * spacing.astype(np.float64))
        bad = (nan_g != nan_w) | (~nan_w & ~close)
    if not bad.any():
        return None
    k = np.argwhere(bad)[0]
    return f"{int(bad.sum())} of {bad.size} differ; first at {tuple(k)}: got {got[tuple(k)]!r}, want {want[tuple(k)]!r}"
