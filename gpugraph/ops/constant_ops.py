"""Const and Placeholder ops, and the conversion of Python/NumPy values into graph tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import _tracing
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["constant", "placeholder", "placeholder_with_default", "convert_to_tensor"]


def _const_infer(*, value: np.ndarray, dtype: dtypes.DType) -> tuple[TensorShape, dtypes.DType]:
    return TensorShape(value.shape), dtype


CONST = register_op(OpDef(
    "Const",
    infer=_const_infer,
    impl=lambda xp, *, value, dtype: xp.asarray(value),
    grad=NO_GRADIENT,
    sample=lambda rng: [([], {"value": rng.standard_normal((2, 3)).astype(np.float32),
                              "dtype": dtypes.float32})],
))


def _placeholder_infer(*, dtype: dtypes.DType, shape: TensorShape) -> tuple[TensorShape, dtypes.DType]:
    return shape, dtype


def _unfed_placeholder(op: Operation, ctx: Any) -> Any:
    raise AssertionError("placeholders are fed by the plan, never executed")  # the plan checks feeds


PLACEHOLDER = register_op(OpDef(
    "Placeholder", infer=_placeholder_infer, bind=_unfed_placeholder, stateful=True, grad=NO_GRADIENT, role="feed",
))

def _default_shape(default: Tensor, shape: TensorShape) -> TensorShape:
    if not shape.is_compatible_with(default.shape):
        raise ValueError(f"The default value of shape {default.shape} is not compatible with shape {shape}")
    return shape


PLACEHOLDER_WITH_DEFAULT = register_op(OpDef(
    "PlaceholderWithDefault",
    infer=lambda x, *, shape: (_default_shape(x, shape), x.dtype.base_dtype),
    impl=lambda xp, x, *, shape: x,
    grad=lambda op, dy: [dy],
    aliases=True,
    input_names=("input",),
    sample=lambda rng: [([rng.standard_normal((2, 3))], {"shape": TensorShape((2, 3))}),
                        ([rng.standard_normal((2, 3))], {"shape": TensorShape((None, 3))})],
))


def infer_dtype(value: Any) -> dtypes.DType:
    """TF1's default dtypes: Python floats -> float32, ints -> int32 (int64 if too big)."""
    if isinstance(value, (str, bytes)) or _is_text_array(value):
        return dtypes.string
    if isinstance(value, (np.ndarray, np.generic)):
        return dtypes.as_dtype(value.dtype)
    try:
        arr = np.asarray(value)
    except ValueError:
        raise ValueError(f"Argument must be a dense tensor: {_short(value)} - got shape irregular nested "
                         "lists; every row must have the same length.") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"Failed to convert object of type {type(value)} to Tensor. "
                        f"Contents: {value!r}. Consider casting elements to a supported type.")
    if arr.dtype.kind == "b":
        return dtypes.bool_
    if arr.dtype.kind in "iu":
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            return dtypes.int64
        return dtypes.int32
    if arr.dtype.kind == "f":
        return dtypes.float32
    raise TypeError(f"Failed to convert object of type {type(value)} to Tensor: unsupported dtype {arr.dtype}.")


def _is_text_array(value: Any) -> bool:
    """NumPy text arrays, and lists whose every leaf is str/bytes (mixed lists stay refused, as in TF1)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU":
            return True
        return value.dtype == object and value.size > 0 and all(isinstance(v, (str, bytes)) for v in value.flat)
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, (str, bytes)) or _is_text_array(v) for v in value)
    return False


def to_strings(value: Any, what: str) -> np.ndarray:
    """A string tensor's value: an object array of bytes (str is encoded as UTF-8), as TF1 holds them."""
    try:
        arr = np.array(value, dtype=object)
    except ValueError as e:
        raise ValueError(f"{what}: cannot convert {type(value).__name__} to an array: {e}") from None
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(arr.reshape(-1)):
        if isinstance(v, str):
            v = v.encode("utf-8")
        if not isinstance(v, bytes):
            raise TypeError(f"{what}: expected string, got {_short(v)} of type '{type(v).__name__}' instead.")
        flat[i] = bytes(v)
    return out


def to_numpy(value: Any, dtype: dtypes.DType, what: str) -> np.ndarray:
    """Convert ``value`` to ``dtype`` exactly as TF1 accepts it: no silent float->int truncation."""
    if dtype.base_dtype == dtypes.string:
        return to_strings(value, what)
    try:
        src = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what}: cannot convert {type(value).__name__} to an array: {e}") from None
    if src.dtype == object or src.dtype.kind in "USV":
        raise TypeError(f"{what}: expected {dtype.name}, got {value!r} of type "
                        f"'{type(value).__name__}' instead.")
    target = dtype.base_dtype.np_dtype
    if src.dtype.kind == "f" and target.kind in "iub":
        if not np.all(np.isfinite(src)) or not np.all(src == np.round(src)):
            raise TypeError(f"{what}: expected {dtype.name}, got {_short(value)} of type "
                            f"'{type(value).__name__}' instead.")
    if src.dtype.kind in "iu" and target.kind in "iu" and src.size:
        info = np.iinfo(target)
        if src.max() > info.max or src.min() < info.min:
            raise ValueError(f"{what}: value {_short(value)} is out of range for dtype {dtype.name}.")
    if src.dtype.kind == "b" and target.kind != "b" or target.kind == "b" and src.dtype.kind != "b":
        raise TypeError(f"{what}: expected {dtype.name}, got {_short(value)} of type "
                        f"'{type(value).__name__}' instead.")
    return src.astype(target, copy=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> Tensor:
    """A tensor holding ``value`` (scalar, nested list or NumPy array)."""
    dt = dtypes.as_dtype(dtype).base_dtype if dtype is not None else infer_dtype(value)
    arr = to_numpy(value, dt, f"tf.constant '{name}'")
    if shape is not None:
        target = tuple(TensorShape(shape).as_list())
        if arr.shape != target:
            if verify_shape:
                raise TypeError(f"Expected Tensor's shape: {target}, got {arr.shape}.")
            needed = int(np.prod(target))
            if arr.size > needed:
                raise ValueError(f"Too many elements provided. Needed at most {needed}, but received {arr.size}")
            # TF1 fills the rest of the shape with the last value given (zeros when none is)
            flat = arr.reshape(-1)
            fill = flat[-1] if flat.size else np.zeros((), arr.dtype)
            arr = np.concatenate([flat, np.full(needed - flat.size, fill, dtype=arr.dtype)]).reshape(target)
    arr = np.array(arr, copy=True)  # the graph owns its constants
    arr.setflags(write=False)
    return CONST(name=name, value=arr, dtype=dt)


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A value fed at run time; ``shape=None`` accepts any shape."""
    return PLACEHOLDER(name=name or "Placeholder", dtype=dtypes.as_dtype(dtype).base_dtype,
                       shape=TensorShape(shape))


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:
    return PLACEHOLDER_WITH_DEFAULT(input, name=name or "PlaceholderWithDefault", shape=TensorShape(shape))


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None,
                      preferred_dtype: Any = None, dtype_hint: Any = None) -> Tensor:
    """Tensors pass through (dtype-checked), Variables give their value, the rest become constants."""
    want = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
    preferred_dtype = preferred_dtype if preferred_dtype is not None else dtype_hint
    if hasattr(value, "_as_tensor"):
        value = value._as_tensor()
    if isinstance(value, Tensor):
        if want is not None and value.dtype.base_dtype != want:
            raise ValueError(f"Tensor conversion requested dtype {want.name} for Tensor with dtype "
                             f"{value.dtype.base_dtype.name}: {value}")
        if _tracing[0]:  # a tensor of an enclosing graph, used inside a control-flow function
            from gpugraph.framework.func_graph import maybe_capture

            return maybe_capture(value)
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={want}, "
                        f"name={name}).")
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        from gpugraph.ops.array_ops import stack

        # TF1 converts the plain values in the list with the dtype of the tensors in it
        element_dtype = want if want is not None else _first_tensor_dtype(value)
        return stack([convert_to_tensor(v, dtype=element_dtype) for v in value], name=name or "packed")
    if want is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=want, name=name or "Const")


def _contains_tensor(value: Any) -> bool:
    for v in value:
        if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
            return True
        if isinstance(v, (list, tuple)) and _contains_tensor(v):
            return True
    return False


def _first_tensor_dtype(value: Any) -> dtypes.DType | None:
    for v in value:
        if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
            return v.dtype.base_dtype
        if isinstance(v, (list, tuple)):
            found = _first_tensor_dtype(v)
            if found is not None:
                return found
    return None
