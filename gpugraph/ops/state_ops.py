"""Variable state ops: the variable itself, assignments (in place), initialization checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["assign", "assign_add", "assign_sub", "is_variable_initialized"]


def _uninitialized(op: Operation) -> errors.FailedPreconditionError:
    return errors.FailedPreconditionError(
        None, op, f"Attempting to use uninitialized value {op.name}\n\t [[{{{{node {op.name}}}}}]]")


def _bind_variable(op: Operation, ctx: Any) -> Any:
    cell = ctx.cell(op)

    def read() -> Any:
        value = cell.value
        if value is None:
            raise _uninitialized(op)
        return value
    return read


VARIABLE = register_op(OpDef(
    "VariableV2",
    infer=lambda *, shape, dtype: (shape, dtype.base_dtype._as_ref),
    bind=_bind_variable, stateful=True, grad=NO_GRADIENT, role="variable",
))


def _assign_infer(ref: Tensor, value: Tensor, *, validate_shape: bool = True, op_kind: str = "",
                  use_locking: bool = False) -> Any:
    if value.dtype.base_dtype != ref.dtype.base_dtype:
        raise TypeError(f"Input 'value' of '{op_kind or 'Assign'}' Op has type {value.dtype.base_dtype.name} "
                        f"that does not match type {ref.dtype.base_dtype.name} of argument 'ref'.")
    if validate_shape and not ref.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes must be equal rank, but are {ref.shape.ndims} and {value.shape.ndims}"
                         if ref.shape.ndims != value.shape.ndims else
                         f"Dimension mismatch: shapes {ref.shape} and {value.shape} are not compatible")
    shape = ref.shape.merge_with(value.shape) if validate_shape else value.shape
    return shape, ref.dtype.base_dtype._as_ref


def _bind_assign(op: Operation, ctx: Any) -> Any:
    var_op = op.inputs[0].op
    cell = ctx.cell(var_op)
    xp = ctx.backend.xp
    validate = op.get_attr("validate_shape")
    static = var_op.get_attr("shape")
    np_dtype = op.inputs[0].dtype.base_dtype.np_dtype

    def assign(value: Any) -> Any:
        current = cell.value
        if current is not None and current.shape == value.shape:
            xp.copyto(current, value)  # in place: readers of the buffer stay valid, no allocation
            return current
        if validate and not static.is_compatible_with(value.shape):
            raise errors.InvalidArgumentError(
                None, op, f"Assign requires shapes of both tensors to match. lhs shape= {_dims(static)} "
                          f"rhs shape= {_dims(TensorShape(value.shape))}\n\t [[node {op.name} (variable "
                          f"'{var_op.name}')]]")
        cell.value = xp.array(value, dtype=np_dtype, copy=True)
        return cell.value
    return assign


def _dims(shape: TensorShape) -> str:
    dims = shape.as_tuple()
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def _bind_update(ufunc: str) -> Any:
    def bind(op: Operation, ctx: Any) -> Any:
        var_op = op.inputs[0].op
        cell = ctx.cell(var_op)
        fn = getattr(ctx.backend.xp, ufunc)

        def update(value: Any) -> Any:
            current = cell.value
            if current is None:
                raise _uninitialized(var_op)
            fn(current, value, out=current)
            return current
        return update
    return bind


ASSIGN = register_op(OpDef(
    "Assign", infer=_assign_infer, bind=_bind_assign, ref_input=True, stateful=True, grad=NO_GRADIENT,
    role="initializer",
    input_names=("ref", "value"),
))
ASSIGN_ADD = register_op(OpDef(
    "AssignAdd", infer=lambda r, v, **attrs: _assign_infer(r, v, op_kind="AssignAdd", **attrs),
    bind=_bind_update("add"), ref_input=True, stateful=True, grad=NO_GRADIENT, input_names=("ref", "value"),
))
ASSIGN_SUB = register_op(OpDef(
    "AssignSub", infer=lambda r, v, **attrs: _assign_infer(r, v, op_kind="AssignSub", **attrs),
    bind=_bind_update("subtract"), ref_input=True, stateful=True, grad=NO_GRADIENT, input_names=("ref", "value"),
))


def _bind_is_initialized(op: Operation, ctx: Any) -> Any:
    cell = ctx.cell(op.inputs[0].op)
    return lambda: np.bool_(cell.value is not None)


IS_VARIABLE_INITIALIZED = register_op(OpDef(
    "IsVariableInitialized", infer=lambda ref: ((), dtypes.bool_), bind=_bind_is_initialized,
    ref_input=True, stateful=True, grad=NO_GRADIENT, input_names=("ref",), gpu=False,
))


def _bind_report(op: Operation, ctx: Any) -> Any:
    cells = [ctx.cell(v) for v in op.get_attr("var_ops")]

    def report() -> Any:
        return np.array([c.name.encode() for c in cells if c.value is None], dtype=object)
    return report


REPORT_UNINITIALIZED = register_op(OpDef(
    "ReportUninitializedVariables", infer=lambda *, var_ops: ((None,), dtypes.string),
    bind=_bind_report, stateful=True, grad=NO_GRADIENT, gpu=False,
))


def _bind_initialized_value(op: Operation, ctx: Any) -> Any:
    cell = ctx.cell(op.inputs[0].op)
    return lambda initial: initial if cell.value is None else cell.value


def _initialized_value_infer(ref: Tensor, initial: Tensor) -> Any:
    if initial.dtype.base_dtype != ref.dtype.base_dtype:
        raise TypeError(f"initial value has type {initial.dtype.base_dtype.name}, the variable "
                        f"{ref.dtype.base_dtype.name}")
    return ref.shape, ref.dtype.base_dtype


# TF1 builds cond(is_variable_initialized(v), v, v.initial_value); one op does the same here.
INITIALIZED_VALUE = register_op(OpDef(
    "InitializedValue", infer=_initialized_value_infer, bind=_bind_initialized_value, ref_input=True,
    stateful=True, grad=NO_GRADIENT, input_names=("ref", "initial_value"),
))


def _ref_of(ref: Any) -> Tensor:
    if hasattr(ref, "_ref"):
        return ref._ref()
    if isinstance(ref, Tensor) and ref.dtype.is_ref:
        return ref
    raise TypeError(f"'ref' must be a Variable (or its ref tensor), got {ref!r}")


def assign(ref: Any, value: Any, validate_shape: Any = None, use_locking: Any = None,
           name: str | None = None) -> Tensor:
    """``ref = value`` in place; as TF1's op, it locks the variable unless ``use_locking=False``."""
    return ASSIGN(_ref_of(ref), value, name=name or "Assign",
                  validate_shape=True if validate_shape is None else bool(validate_shape),
                  use_locking=True if use_locking is None else bool(use_locking))


def assign_add(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    """``ref += value`` in place; ``use_locking=True`` makes concurrent runs' updates exact."""
    return ASSIGN_ADD(_ref_of(ref), value, name=name or "AssignAdd", use_locking=bool(use_locking))


def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    """``ref -= value`` in place; ``use_locking=True`` makes concurrent runs' updates exact."""
    return ASSIGN_SUB(_ref_of(ref), value, name=name or "AssignSub", use_locking=bool(use_locking))


def is_variable_initialized(variable: Any) -> Tensor:
    return IS_VARIABLE_INITIALIZED(_ref_of(variable), name="IsVariableInitialized")


def initialized_value(ref: Any, initial_value: Tensor, name: str = "initialized_value") -> Tensor:
    """The variable's value once it is initialized, its initial value before."""
    return INITIALIZED_VALUE(_ref_of(ref), initial_value, name=name)


def report_uninitialized(var_ops: list[Operation], name: str) -> Tensor:
    return REPORT_UNINITIALIZED(name=name, var_ops=tuple(var_ops))
