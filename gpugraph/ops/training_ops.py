"""Optimizer update ops: each one fused kernel that writes the variable and its slots in place.

An ``Apply*`` op takes its ref inputs first (the variable, then its slots), then its scalar
hyper-parameters and the gradient, all in the order of TF1's op. Its update rule lives in
``kernels/<kernel>.cu`` (the GPU kernel) with a NumPy twin in
``gpugraph.kernels.twins``; ``OpDef.extra`` names the kernel (``"kernel"``) and the op attributes
passed after the inputs (``"kernel_attrs"``). The kernel's ``in`` parameters are the op's non-ref
inputs then those attributes, its ``inout`` parameters the ref inputs: on CuPy the step calls
``kernel(*inputs, *attrs, *refs)``, on NumPy ``twin(numpy, *refs, *inputs, *attrs)``.
No new array is made for a variable or a slot.
"""

from __future__ import annotations

from typing import Any

from gpugraph import errors
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.kernels import elementwise_kernel, host_loops
from gpugraph.kernels.twins import TWINS
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.ops.state_ops import _uninitialized
from gpugraph.ops.xp_compat import on_host

__all__: list[str] = []


_GRADIENT_NAMES = ("grad", "delta")
_INT64_INPUTS = ("global_step",)  # inputs of a fixed type (int64) rather than the variable's


def _grad_index(names: tuple[str, ...]) -> int:
    return next(i for i, n in enumerate(names) if n in _GRADIENT_NAMES)


def _make_infer(n_ref: int, kind: str, names: tuple[str, ...]) -> Any:
    g = _grad_index(names)

    def infer(*inputs: Tensor, **attrs: Any) -> Any:
        var = inputs[0]
        base = var.dtype.base_dtype
        for name, t in zip(names[1:], inputs[1:]):
            if name in _INT64_INPUTS:
                if t.dtype.base_dtype.name != "int64":
                    raise TypeError(f"Input '{name}' of '{kind}' Op has type {t.dtype.base_dtype.name} that "
                                    f"does not match expected type of int64.")
            elif t.dtype.base_dtype != base:
                raise TypeError(f"Input '{t.name}' of '{kind}' Op has type {t.dtype.base_dtype.name} that "
                                f"does not match the variable's type {base.name}")
        shape = var.shape
        for slot in inputs[1:n_ref]:
            if not shape.is_compatible_with(slot.shape):
                raise ValueError(f"var and {slot.op.name} do not have the same shape: {var.shape} {slot.shape}")
            shape = shape.merge_with(slot.shape)
        for i, scalar in enumerate(inputs[n_ref:], n_ref):
            if i != g and not scalar.shape.is_compatible_with(TensorShape([])):
                raise ValueError(f"Shape must be rank 0 but is rank {scalar.shape.ndims} for '{scalar.name}'")
        grad = inputs[g]
        if not shape.is_compatible_with(grad.shape):
            raise ValueError(f"var and grad do not have the same shape: {var.shape} {grad.shape}")
        return shape.merge_with(grad.shape), var.dtype
    return infer


def _shape_str(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _update_fn(kernel: str, xp: Any) -> Any:
    """``update(refs, inputs, attrs)``: the CUDA kernel where ``xp`` is CuPy, else the NumPy twin (on NumPy
    itself, a compiled loop for large variables: gpugraph.kernels.host_loops)."""
    if getattr(xp, "ElementwiseKernel", None) is None:
        twin = TWINS[kernel]
        if on_host(xp) and host_loops.enabled():
            return host_loops.HostUpdate(kernel, twin)
        return lambda refs, inputs, attrs: twin(xp, *refs, *inputs, *attrs)
    built: dict[Any, Any] = {}

    def run_kernel(refs: list[Any], inputs: tuple[Any, ...], attrs: tuple[Any, ...]) -> Any:
        dtype = refs[0].dtype
        fn = built.get(dtype)
        if fn is None:
            fn = built[dtype] = elementwise_kernel(kernel, (dtype,), cupy=xp)
        fn(*inputs, *attrs, *refs)  # in params, then the in-place (inout) arrays
        return refs[0]
    return run_kernel


def _bind_fused(op: Operation, ctx: Any) -> Any:
    """A step running the op's update rule on the cells of its ref inputs."""
    opdef = op.opdef
    var_ops = [op.inputs[i].op for i in range(opdef.ref_input)]
    cells = [ctx.cell(v) for v in var_ops]
    pairs = list(zip(cells, var_ops))
    update = _update_fn(opdef.extra["kernel"], ctx.backend.xp)
    attrs = tuple(op.get_attr(a) for a in opdef.extra.get("kernel_attrs", ()))
    g = _grad_index(opdef.input_names) - opdef.ref_input  # the gradient among the step's inputs
    if len(pairs) == 1:  # plain gradient descent: no slots to compare
        return _apply_one(op, pairs[0], update, attrs, g)

    def apply(*inputs: Any) -> Any:
        refs = []
        for cell, var_op in pairs:
            value = cell.value
            if value is None:
                raise _uninitialized(var_op)
            refs.append(value)
        shape = refs[0].shape
        for value, var_op in zip(refs[1:], var_ops[1:]):
            if value.shape != shape:
                raise errors.InvalidArgumentError(
                    None, op, f"var and {var_op.name} do not have the same shape{_shape_str(shape)} "
                              f"{_shape_str(value.shape)}\n\t [[node {op.name}]]")
        if inputs[g].shape != shape:
            raise errors.InvalidArgumentError(
                None, op, f"var and grad do not have the same shape{_shape_str(shape)} "
                          f"{_shape_str(inputs[g].shape)}\n\t [[node {op.name}]]")
        return update(refs, inputs, attrs)
    return apply


def _apply_one(op: Operation, pair: tuple[Any, Operation], update: Any, attrs: tuple[Any, ...], g: int) -> Any:
    """``_bind_fused``'s step for an update of the variable alone: the same checks, in the same order."""
    cell, var_op = pair

    def apply(*inputs: Any) -> Any:
        value = cell.value
        if value is None:
            raise _uninitialized(var_op)
        if inputs[g].shape != value.shape:
            raise errors.InvalidArgumentError(
                None, op, f"var and grad do not have the same shape{_shape_str(value.shape)} "
                          f"{_shape_str(inputs[g].shape)}\n\t [[node {op.name}]]")
        return update([value], inputs, attrs)
    return apply


def _apply_op(name: str, kernel: str, refs: tuple[str, ...], inputs: tuple[str, ...],
              kernel_attrs: tuple[str, ...] = ()) -> OpDef:
    return register_op(OpDef(
        name, infer=_make_infer(len(refs), name, refs + inputs), bind=_bind_fused, ref_input=len(refs),
        same_dtype=not set(inputs) & set(_INT64_INPUTS),  # else infer checks each input's dtype
        stateful=True, grad=NO_GRADIENT, input_names=refs + inputs,
        extra={"kernel": kernel, "kernel_attrs": kernel_attrs},
    ))


APPLY_GRADIENT_DESCENT = _apply_op("ApplyGradientDescent", "apply_gradient_descent", ("var",),
                                   ("alpha", "delta"))
APPLY_MOMENTUM = _apply_op("ApplyMomentum", "apply_momentum", ("var", "accum"),
                           ("lr", "grad", "momentum"), kernel_attrs=("use_nesterov",))
APPLY_ADAM = _apply_op("ApplyAdam", "apply_adam", ("var", "m", "v"),
                       ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"))
APPLY_RMS_PROP = _apply_op("ApplyRMSProp", "apply_rms_prop", ("var", "ms", "mom"),
                           ("lr", "rho", "momentum", "epsilon", "grad"))
APPLY_CENTERED_RMS_PROP = _apply_op("ApplyCenteredRMSProp", "apply_centered_rms_prop",
                                    ("var", "mg", "ms", "mom"), ("lr", "rho", "momentum", "epsilon", "grad"))
APPLY_ADAGRAD = _apply_op("ApplyAdagrad", "apply_adagrad", ("var", "accum"), ("lr", "grad"))
APPLY_ADADELTA = _apply_op("ApplyAdadelta", "apply_adadelta", ("var", "accum", "accum_update"),
                           ("lr", "rho", "epsilon", "grad"))

APPLY_FTRL = _apply_op("ApplyFtrl", "apply_ftrl", ("var", "accum", "linear"), ("grad", "lr", "l1", "l2", "lr_power"))
APPLY_FTRL_V2 = _apply_op("ApplyFtrlV2", "apply_ftrl_v2", ("var", "accum", "linear"),
                          ("grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power"))
APPLY_PROXIMAL_GRADIENT_DESCENT = _apply_op("ApplyProximalGradientDescent", "apply_proximal_gradient_descent",
                                            ("var",), ("alpha", "l1", "l2", "delta"))
APPLY_PROXIMAL_ADAGRAD = _apply_op("ApplyProximalAdagrad", "apply_proximal_adagrad", ("var", "accum"),
                                   ("lr", "l1", "l2", "grad"))
APPLY_ADAGRAD_DA = _apply_op("ApplyAdagradDA", "apply_adagrad_da",
                             ("var", "gradient_accumulator", "gradient_squared_accumulator"),
                             ("grad", "lr", "l1", "l2", "global_step"))

APPLY_OPS: tuple[OpDef, ...] = (APPLY_GRADIENT_DESCENT, APPLY_MOMENTUM, APPLY_ADAM, APPLY_RMS_PROP,
                                APPLY_CENTERED_RMS_PROP, APPLY_ADAGRAD, APPLY_ADADELTA, APPLY_FTRL, APPLY_FTRL_V2,
                                APPLY_PROXIMAL_GRADIENT_DESCENT, APPLY_PROXIMAL_ADAGRAD, APPLY_ADAGRAD_DA)


# --- builders with the signatures of TF1's gen_training_ops (use_locking: the step holds the locks of
# the variable and its slots, so concurrent runs' updates do not interleave) ---
def apply_gradient_descent(var: Any, alpha: Any, delta: Any, use_locking: bool = False,
                           name: str | None = None) -> Tensor:
    return APPLY_GRADIENT_DESCENT(var, alpha, delta, name=name or "ApplyGradientDescent", use_locking=bool(use_locking))


def apply_momentum(var: Any, accum: Any, lr: Any, grad: Any, momentum: Any, use_locking: bool = False,
                   use_nesterov: bool = False, name: str | None = None) -> Tensor:
    return APPLY_MOMENTUM(var, accum, lr, grad, momentum, name=name or "ApplyMomentum",
                          use_nesterov=bool(use_nesterov), use_locking=bool(use_locking))


def apply_adam(var: Any, m: Any, v: Any, beta1_power: Any, beta2_power: Any, lr: Any, beta1: Any, beta2: Any,
               epsilon: Any, grad: Any, use_locking: bool = False, name: str | None = None) -> Tensor:
    return APPLY_ADAM(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                      name=name or "ApplyAdam", use_locking=bool(use_locking))


def apply_rms_prop(var: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, grad: Any,
                   use_locking: bool = False, name: str | None = None) -> Tensor:
    return APPLY_RMS_PROP(var, ms, mom, lr, rho, momentum, epsilon, grad, name=name or "ApplyRMSProp",
                          use_locking=bool(use_locking))


def apply_centered_rms_prop(var: Any, mg: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any,
                            epsilon: Any, grad: Any, use_locking: bool = False, name: str | None = None) -> Tensor:
    return APPLY_CENTERED_RMS_PROP(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                                   name=name or "ApplyCenteredRMSProp", use_locking=bool(use_locking))


def apply_adagrad(var: Any, accum: Any, lr: Any, grad: Any, use_locking: bool = False,
                  name: str | None = None) -> Tensor:
    return APPLY_ADAGRAD(var, accum, lr, grad, name=name or "ApplyAdagrad", use_locking=bool(use_locking))


def apply_adadelta(var: Any, accum: Any, accum_update: Any, lr: Any, rho: Any, epsilon: Any, grad: Any,
                   use_locking: bool = False, name: str | None = None) -> Tensor:
    return APPLY_ADADELTA(var, accum, accum_update, lr, rho, epsilon, grad, name=name or "ApplyAdadelta",
                          use_locking=bool(use_locking))


def apply_ftrl(var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any, lr_power: Any,
               use_locking: bool = False, multiply_linear_by_lr: bool = False, name: str | None = None) -> Tensor:
    if multiply_linear_by_lr:
        raise NotImplementedError("ApplyFtrl with multiply_linear_by_lr=True is not supported")
    return APPLY_FTRL(var, accum, linear, grad, lr, l1, l2, lr_power, name=name or "ApplyFtrl",
                      use_locking=bool(use_locking))


def apply_ftrl_v2(var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any, l2_shrinkage: Any,
                  lr_power: Any, use_locking: bool = False, multiply_linear_by_lr: bool = False,
                  name: str | None = None) -> Tensor:
    if multiply_linear_by_lr:
        raise NotImplementedError("ApplyFtrlV2 with multiply_linear_by_lr=True is not supported")
    return APPLY_FTRL_V2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power, name=name or "ApplyFtrlV2",
                         use_locking=bool(use_locking))


def apply_proximal_gradient_descent(var: Any, alpha: Any, l1: Any, l2: Any, delta: Any, use_locking: bool = False,
                                    name: str | None = None) -> Tensor:
    return APPLY_PROXIMAL_GRADIENT_DESCENT(var, alpha, l1, l2, delta, name=name or "ApplyProximalGradientDescent",
                                           use_locking=bool(use_locking))


def apply_proximal_adagrad(var: Any, accum: Any, lr: Any, l1: Any, l2: Any, grad: Any, use_locking: bool = False,
                           name: str | None = None) -> Tensor:
    return APPLY_PROXIMAL_ADAGRAD(var, accum, lr, l1, l2, grad, name=name or "ApplyProximalAdagrad",
                                  use_locking=bool(use_locking))


def apply_adagrad_da(var: Any, gradient_accumulator: Any, gradient_squared_accumulator: Any, grad: Any, lr: Any,
                     l1: Any, l2: Any, global_step: Any, use_locking: bool = False, name: str | None = None) -> Tensor:
    return APPLY_ADAGRAD_DA(var, gradient_accumulator, gradient_squared_accumulator, grad, lr, l1, l2, global_step,
                            name=name or "ApplyAdagradDA", use_locking=bool(use_locking))
