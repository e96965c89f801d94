"""tf.py_func / tf.numpy_function / tf.py_function: Python functions as host ops on NumPy values."""

from __future__ import annotations

import itertools
import traceback
from typing import Any, Callable

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["py_func", "numpy_function", "py_function"]

# The process's functions by token, as TF's FuncRegistry: the graph holds only the token string.
_FUNCS: dict[str, Callable[..., Any]] = {}
_TOKENS = itertools.count()

# Python exceptions raised by the function -> the error class TF reports them as.
_ERROR_CLASSES: tuple[tuple[type[BaseException], type[errors.OpError]], ...] = (
    (TypeError, errors.InvalidArgumentError), (ValueError, errors.InvalidArgumentError),
    (StopIteration, errors.OutOfRangeError), (MemoryError, errors.ResourceExhaustedError),
    (NotImplementedError, errors.UnimplementedError), (IndexError, errors.OutOfRangeError),
)


class EagerValue(np.ndarray):
    """A NumPy array with ``.numpy()``, standing in for the eager tensors tf.py_function passes."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self)


def _infer(*inputs: Tensor, token: str, Tout: tuple[dtypes.DType, ...], eager: bool) -> Any:  # noqa: N803
    return [(TensorShape(None), t) for t in Tout]


def _bind(op: Operation, ctx: Any) -> Any:
    token, tout, eager = op.get_attr("token"), op.get_attr("Tout"), op.get_attr("eager")

    def step(*arrays: Any) -> Any:
        func = _FUNCS.get(token)
        if func is None:
            raise errors.InvalidArgumentError(None, op, f"Could not find callback with key={token} in the registry."
                                                        f"\n\t [[{{{{node {op.name}}}}}]]")
        args = [np.asarray(a).view(EagerValue) if eager else np.asarray(a) for a in arrays]
        try:
            result = func(*args)
        except Exception as e:  # reported as TF does: the Python error and its traceback, as an OpError
            cls = next((c for base, c in _ERROR_CLASSES if isinstance(e, base)), errors.UnknownError)
            raise cls(None, op, f"{type(e).__name__}: {e}\n{traceback.format_exc()}\n\t [[{{{{node {op.name}}}}}]]"
                      ) from e
        return _outputs(op, token, tout, result)
    return step


def _outputs(op: Operation, token: str, tout: tuple[dtypes.DType, ...], result: Any) -> Any:
    values = list(result) if isinstance(result, (list, tuple)) else [] if result is None and not tout else [result]
    if len(values) != len(tout):
        raise errors.InvalidArgumentError(None, op, f"{token} returns {len(values)} values, but expects to see "
                                                    f"{len(tout)} values.\n\t [[{{{{node {op.name}}}}}]]")
    out = []
    for i, (value, want) in enumerate(zip(values, tout)):
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            value = value.numpy()
        array = np.asarray(value)
        if want == dtypes.string:
            array = array.astype(object)
        elif array.dtype != want.np_dtype:
            if array.dtype.kind in "OSU" or not (np.isscalar(value) and not isinstance(value, np.generic)):
                raise errors.InvalidArgumentError(
                    None, op, f"{i}-th value returned by {token} is {_c_name(array.dtype)}, but expects "
                              f"{_c_name(want.np_dtype)}\n\t [[{{{{node {op.name}}}}}]]")
            array = array.astype(want.np_dtype)  # a Python number takes the declared dtype, as TF converts it
        out.append(array)
    if not out:
        return None
    return out[0] if len(out) == 1 else tuple(out)


def _c_name(dtype: Any) -> str:
    names = {"float64": "double", "float32": "float", "float16": "half", "bool": "bool", "object": "string"}
    return names.get(np.dtype(dtype).name, np.dtype(dtype).name)


PY_FUNC = register_op(OpDef(
    "PyFunc", infer=_infer, bind=_bind, stateful=True, grad=NO_GRADIENT, gpu=False, same_dtype=False,
    input_names=("input",),
))
EAGER_PY_FUNC = register_op(OpDef(
    "EagerPyFunc", infer=_infer, bind=_bind, stateful=True, grad=NO_GRADIENT, gpu=False, same_dtype=False,
    input_names=("input",),
))


def _build(opdef: OpDef, func: Any, inp: Any, Tout: Any, name: str | None, eager: bool) -> Any:  # noqa: N803
    from gpugraph.ops.constant_ops import convert_to_tensor

    if not callable(func):
        raise ValueError(f"Expected func to be callable, got func of type {type(func)}")
    many = isinstance(Tout, (list, tuple))
    tout = tuple(dtypes.as_dtype(t).base_dtype for t in (Tout if many else [Tout]))
    token = f"pyfunc_{next(_TOKENS)}"
    _FUNCS[token] = func
    inputs = [convert_to_tensor(x) for x in (inp or [])]
    out = opdef(*inputs, name=name, token=token, Tout=tout, eager=eager)
    if isinstance(out, Operation):
        return out
    if many:
        return list(out) if isinstance(out, (list, tuple)) else [out]
    return out


def py_func(func: Callable[..., Any], inp: Any, Tout: Any, stateful: bool = True,  # noqa: N803
            name: str | None = None) -> Any:
    """Wraps ``func`` (NumPy arrays in, NumPy arrays out) as a host op; outputs have unknown shapes."""
    return _build(PY_FUNC, func, inp, Tout, name or "PyFunc", eager=False)


def numpy_function(func: Callable[..., Any], inp: Any, Tout: Any, stateful: bool = True,  # noqa: N803
                   name: str | None = None) -> Any:
    return _build(PY_FUNC, func, inp, Tout, name or "PyFunc", eager=False)


def py_function(func: Callable[..., Any], inp: Any, Tout: Any, name: str | None = None) -> Any:  # noqa: N803
    """As py_func; ``func`` gets arrays with ``.numpy()`` (TF passes eager tensors). No gradient here."""
    return _build(EAGER_PY_FUNC, func, inp, Tout, name or "EagerPyFunc", eager=True)
