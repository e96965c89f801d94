"""tf.debugging (and TF1's top-level tf.assert_*): checks decided when the graph is built where the values
are known, else an Assert op to put in ``tf.control_dependencies``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.debug_ops import Assert

__all__ = ["Assert", "assert_equal", "assert_none_equal", "assert_less", "assert_less_equal", "assert_greater",
           "assert_greater_equal", "assert_positive", "assert_negative", "assert_non_negative", "assert_non_positive",
           "assert_near", "assert_rank", "assert_rank_at_least", "assert_rank_in", "assert_type", "assert_integer",
           "assert_scalar", "assert_proper_iterable", "assert_same_float_dtype", "is_numeric_tensor"]


def _prefix(message: str | None) -> str:
    return f"{message}.  " if message else ""


def _tensor(value: Any, name: str, dtype: Any = None) -> Tensor:
    from gpugraph.ops.constant_ops import convert_to_tensor

    return convert_to_tensor(value, dtype=dtype, name=name)


def _static(t: Any) -> Any:
    from gpugraph.ops.shape_fns import constant_value

    return constant_value(t) if isinstance(t, Tensor) else None


def _raise_static(data: list[Any]) -> None:
    text = []
    for d in data:
        value = _static(d) if isinstance(d, Tensor) else None
        text.append(str(value) if value is not None else str(d))
    raise errors.InvalidArgumentError(None, None, "\n".join(text))


def _all(t: Tensor) -> Tensor:
    from gpugraph.ops.reduction_extra_ops import reduce_all

    return reduce_all(t)


def _binary(sym: str, opname: str, test: Callable[..., Tensor], static: Callable[..., Any]) -> Callable[..., Any]:
    def check(x: Any, y: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
              name: str | None = None) -> Operation:
        from gpugraph import name_scope

        with name_scope(name, opname, [x, y]):
            x = _tensor(x, "x")
            y = _tensor(y, "y", dtype=x.dtype.base_dtype if not isinstance(y, Tensor) else None)
            if data is None:
                data = [f"Condition x {sym} y did not hold element-wise:", f"x ({x.name}) = ", x,
                        f"y ({y.name}) = ", y]
            if message is not None:
                data = [message] + list(data)
            condition = _all(test(x, y))
            xs, ys = _static(x), _static(y)
            if xs is not None and ys is not None and not np.all(static(xs, ys)):
                _raise_static(list(data))
            return Assert(condition, data, summarize=summarize)
    check.__name__ = check.__qualname__ = opname
    check.__doc__ = f"Assert that ``x {sym} y`` holds element-wise."
    return check


def _math() -> Any:
    from gpugraph.ops import math_ops

    return math_ops


assert_equal = _binary("==", "assert_equal", lambda x, y: _math().equal(x, y), np.equal)
assert_none_equal = _binary("!=", "assert_none_equal", lambda x, y: _math().not_equal(x, y), np.not_equal)
assert_less = _binary("<", "assert_less", lambda x, y: _math().less(x, y), np.less)
assert_less_equal = _binary("<=", "assert_less_equal", lambda x, y: _math().less_equal(x, y), np.less_equal)
assert_greater = _binary(">", "assert_greater", lambda x, y: _math().greater(x, y), np.greater)
assert_greater_equal = _binary(">=", "assert_greater_equal", lambda x, y: _math().greater_equal(x, y),
                               np.greater_equal)


def _unary(opname: str, sym: str, zero_first: bool, binary: Callable[..., Operation]) -> Callable[..., Any]:
    def check(x: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
              name: str | None = None) -> Operation:
        from gpugraph import name_scope

        message = _prefix(message)
        with name_scope(name, opname, [x]):
            x = _tensor(x, "x")
            if data is None:
                data = [message, f"Condition x {sym} 0 did not hold element-wise:", f"x ({x.name}) = ", x]
            zero = _tensor(0, "Const", dtype=x.dtype.base_dtype)
            return binary(zero, x, data=data, summarize=summarize) if zero_first else \
                binary(x, zero, data=data, summarize=summarize)
    check.__name__ = check.__qualname__ = opname
    check.__doc__ = f"Assert that ``x {sym} 0`` holds element-wise."
    return check


assert_positive = _unary("assert_positive", ">", True, assert_less)
assert_negative = _unary("assert_negative", "<", False, assert_less)
assert_non_negative = _unary("assert_non_negative", ">=", True, assert_less_equal)
assert_non_positive = _unary("assert_non_positive", "<=", False, assert_less_equal)


def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, data: Any = None, summarize: int | None = None,
                message: str | None = None, name: str | None = None) -> Operation:
    """Assert ``|x - y| <= atol + rtol * |y|`` element-wise (tolerances default to 10 * eps of the dtype)."""
    from gpugraph import name_scope
    from gpugraph.ops.unary_ops import abs as abs_

    message = _prefix(message)
    with name_scope(name, "assert_near", [x, y, rtol, atol]):
        x = _tensor(x, "x")
        y = _tensor(y, "y", dtype=x.dtype.base_dtype)
        eps = np.finfo(x.dtype.base_dtype.np_dtype).eps
        rtol = _tensor(10 * eps if rtol is None else rtol, "rtol", dtype=x.dtype.base_dtype)
        atol = _tensor(10 * eps if atol is None else atol, "atol", dtype=x.dtype.base_dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        tol = atol + rtol * abs_(y)
        return Assert(_all(_math().less(abs_(x - y), tol)), data, summarize=summarize)


def _rank_check(opname: str, what: str, ok: Callable[[int, Any], bool], dynamic: Callable[..., Tensor]
                ) -> Callable[..., Any]:
    def check(x: Any, rank: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
              name: str | None = None) -> Operation:
        from gpugraph import name_scope
        from gpugraph.ops.array_ops import rank as rank_op, shape
        from gpugraph.ops.control_flow_ops import no_op

        with name_scope(name, opname, [x, rank]):
            x = _tensor(x, "x")
            ranks = tuple(rank) if opname == "assert_rank_in" else None
            given = [_tensor(r, "rank") for r in ranks] if ranks is not None else _tensor(rank, "rank")
            prefix = _prefix(message)
            if data is None:
                data = [prefix, f"Tensor {x.name} must have rank {what}".rstrip(), *(given if ranks else [given]),
                        "Received shape: ", shape(x)]
            static = [_static(g) for g in given] if ranks else _static(given)
            known = static is not None and (not ranks or all(s is not None for s in static))
            if known and x.shape.ndims is not None:
                want = tuple(int(s) for s in static) if ranks else int(static)
                if not ok(x.shape.ndims, want):
                    shown = want if ranks else want
                    raise ValueError(f"{prefix}Tensor {x.name} must have rank {what + ' ' if what else ''}{shown}.  "
                                     f"Received rank {x.shape.ndims}, shape {x.shape}")
                return no_op(name="static_checks_determined_all_ok")
            return Assert(dynamic(rank_op(x), given), data, summarize=summarize)
    check.__name__ = check.__qualname__ = opname
    return check


def _rank_in(actual: Tensor, given: list[Tensor]) -> Tensor:
    m = _math()
    out = m.equal(actual, given[0])
    for g in given[1:]:
        out = m.logical_or(out, m.equal(actual, g))
    return out


assert_rank = _rank_check("assert_rank", "", lambda r, want: r == want, lambda a, g: _math().equal(a, g))
assert_rank_at_least = _rank_check("assert_rank_at_least", "at least", lambda r, want: r >= want,
                                   lambda a, g: _math().greater_equal(a, g))
_assert_rank_in = _rank_check("assert_rank_in", "in", lambda r, want: r in want, _rank_in)


def assert_rank_in(x: Any, ranks: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                   name: str | None = None) -> Operation:
    """Assert the rank of ``x`` is one of ``ranks``."""
    return _assert_rank_in(x, ranks, data=data, summarize=summarize, message=message, name=name)


def assert_type(tensor: Any, tf_type: Any, message: str | None = None, name: str | None = None) -> Operation:
    """TypeError unless ``tensor``'s dtype is ``tf_type`` (a static check)."""
    from gpugraph import name_scope
    from gpugraph.ops.control_flow_ops import no_op

    with name_scope(name, "assert_type", [tensor]):
        tensor = _tensor(tensor, "tensor")
        if tensor.dtype.base_dtype != dtypes.as_dtype(tf_type).base_dtype:
            raise TypeError(f"{_prefix(message)}{tensor.name} must be of type {dtypes.as_dtype(tf_type)!r}; "
                            f"got {tensor.dtype!r}")
        return no_op(name="statically_determined_correct_type")


def assert_integer(x: Any, message: str | None = None, name: str | None = None) -> Operation:
    """TypeError unless ``x`` has an integer dtype (a static check)."""
    from gpugraph import name_scope
    from gpugraph.ops.control_flow_ops import no_op

    with name_scope(name, "assert_integer", [x]):
        x = _tensor(x, "x")
        if not x.dtype.base_dtype.is_integer:
            raise TypeError(f'{_prefix(message)}Expected "x" to be integer type.  Found: {x.name} of dtype '
                            f"{x.dtype}")
        return no_op(name="statically_determined_was_integer")


def assert_scalar(tensor: Any, name: str | None = None, message: str | None = None) -> Tensor:
    """ValueError unless ``tensor`` is known to be a scalar; returns it."""
    from gpugraph import name_scope

    with name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = _tensor(tensor, scope)
        if tensor.shape.ndims != 0:
            raise ValueError(f"{_prefix(message)}Expected scalar shape for {tensor.name}, saw shape: {tensor.shape}.")
        return tensor


def assert_proper_iterable(values: Any) -> None:
    """TypeError for a Tensor, ndarray or string (iterables by accident), or a non-iterable."""
    if isinstance(values, (Tensor, np.ndarray, bytes, str)):
        raise TypeError(f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}')
    if not hasattr(values, "__iter__"):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def assert_same_float_dtype(tensors: Any = None, dtype: Any = None) -> dtypes.DType:
    """The one float dtype of ``tensors`` (and ``dtype``); ValueError if they differ or are not float."""
    expected = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
    first: str | None = None
    for item in tensors or []:
        if item is None:
            continue
        item_type = item.dtype.base_dtype
        if expected is None:
            expected, first = item_type, getattr(item, "name", str(item))
        elif item_type != expected:
            name = getattr(item, "name", str(item))
            raise ValueError(f"{name}, type={item_type!r}, must be of the same type ({expected!r})"
                             f"{f' as {first}' if first else ''}.")
    if expected is None:
        return dtypes.float32
    if not expected.is_floating:
        raise ValueError(f"Expected floating point type, got {expected!r}.")
    return expected


def is_numeric_tensor(tensor: Any) -> bool:
    return isinstance(tensor, Tensor) and tensor.dtype.base_dtype.is_numeric
