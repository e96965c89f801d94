"""NumPy twins of the .cu kernels: the same arithmetic, operation by operation, written in place.

A twin takes ``xp`` (numpy or cupy), then the kernel's ``inout`` arrays (the variable and its
slots, updated with ``out=``), then its ``in`` values (scalars as 0-d arrays, the gradient last,
then attributes such as ``use_nesterov``), as the op's inputs are ordered. It returns the variable.
Each line follows the body of the .cu file of the same name, so float32 rounding matches the GPU
kernel built without FMA contraction (see ``gpugraph.kernels.KERNEL_OPTIONS``).
Only scratch arrays are allocated; variables and slots keep their buffers.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["TWINS", "apply_adadelta", "apply_adagrad", "apply_adam", "apply_centered_rms_prop",
           "apply_gradient_descent", "apply_momentum", "apply_rms_prop", "apply_ftrl", "apply_ftrl_v2",
           "apply_proximal_gradient_descent", "apply_proximal_adagrad", "apply_adagrad_da"]


def apply_gradient_descent(xp: Any, var: Any, alpha: Any, delta: Any) -> Any:
    xp.subtract(var, xp.multiply(delta, alpha), out=var)  # delta, alpha and var share a dtype
    return var


def apply_momentum(xp: Any, var: Any, accum: Any, lr: Any, grad: Any, momentum: Any,
                   use_nesterov: bool) -> Any:
    xp.multiply(accum, momentum, out=accum)
    xp.add(accum, grad, out=accum)
    if use_nesterov:
        step = xp.multiply(grad, lr, out=xp.empty_like(var))
        t = xp.multiply(accum, momentum, out=xp.empty_like(var))
        xp.multiply(t, lr, out=t)
        xp.add(step, t, out=step)
    else:
        step = xp.multiply(accum, lr, out=xp.empty_like(var))
    xp.subtract(var, step, out=var)
    return var


def apply_adam(xp: Any, var: Any, m: Any, v: Any, beta1_power: Any, beta2_power: Any, lr: Any, beta1: Any,
               beta2: Any, epsilon: Any, grad: Any) -> Any:
    one = var.dtype.type(1)
    alpha = lr * xp.sqrt(one - beta2_power) / (one - beta1_power)
    t = xp.subtract(grad, m, out=xp.empty_like(var))
    xp.multiply(t, one - beta1, out=t)
    xp.add(m, t, out=m)
    xp.multiply(grad, grad, out=t)
    xp.subtract(t, v, out=t)
    xp.multiply(t, one - beta2, out=t)
    xp.add(v, t, out=v)
    denom = xp.sqrt(v, out=xp.empty_like(var))
    xp.add(denom, epsilon, out=denom)
    xp.multiply(m, alpha, out=t)
    xp.divide(t, denom, out=t)
    xp.subtract(var, t, out=var)
    return var


def apply_rms_prop(xp: Any, var: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any,
                   grad: Any) -> Any:
    one = var.dtype.type(1)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.subtract(t, ms, out=t)
    xp.multiply(t, one - rho, out=t)
    xp.add(ms, t, out=ms)
    _momentum_step(xp, var, mom, lr, momentum, grad, xp.add(ms, epsilon, out=xp.empty_like(var)), t)
    return var


def apply_centered_rms_prop(xp: Any, var: Any, mg: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any,
                            epsilon: Any, grad: Any) -> Any:
    one = var.dtype.type(1)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.subtract(t, ms, out=t)
    xp.multiply(t, one - rho, out=t)
    xp.add(ms, t, out=ms)
    xp.subtract(grad, mg, out=t)
    xp.multiply(t, one - rho, out=t)
    xp.add(mg, t, out=mg)
    denom = xp.multiply(mg, mg, out=xp.empty_like(var))
    xp.subtract(ms, denom, out=denom)
    xp.add(denom, epsilon, out=denom)
    _momentum_step(xp, var, mom, lr, momentum, grad, denom, t)
    return var


def _momentum_step(xp: Any, var: Any, mom: Any, lr: Any, momentum: Any, grad: Any, denom: Any,
                   scratch: Any) -> None:
    """mom = mom * momentum + (grad * lr) / sqrt(denom); var -= mom (``denom`` is overwritten)."""
    xp.sqrt(denom, out=denom)
    xp.multiply(grad, lr, out=scratch)
    xp.divide(scratch, denom, out=scratch)
    xp.multiply(mom, momentum, out=mom)
    xp.add(mom, scratch, out=mom)
    xp.subtract(var, mom, out=var)


def apply_adagrad(xp: Any, var: Any, accum: Any, lr: Any, grad: Any) -> Any:
    one = var.dtype.type(1)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.add(accum, t, out=accum)
    inv = xp.sqrt(accum, out=xp.empty_like(var))
    xp.divide(one, inv, out=inv)
    xp.multiply(grad, lr, out=t)
    xp.multiply(t, inv, out=t)
    xp.subtract(var, t, out=var)
    return var


def apply_adadelta(xp: Any, var: Any, accum: Any, accum_update: Any, lr: Any, rho: Any, epsilon: Any,
                   grad: Any) -> Any:
    one = var.dtype.type(1)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.multiply(t, one - rho, out=t)
    xp.multiply(accum, rho, out=accum)
    xp.add(accum, t, out=accum)
    update = xp.add(accum_update, epsilon, out=xp.empty_like(var))
    xp.sqrt(update, out=update)
    inv = xp.add(accum, epsilon, out=xp.empty_like(var))
    xp.sqrt(inv, out=inv)
    xp.divide(one, inv, out=inv)
    xp.multiply(update, inv, out=update)
    xp.multiply(update, grad, out=update)
    xp.multiply(update, lr, out=t)
    xp.subtract(var, t, out=var)
    xp.multiply(update, update, out=t)
    xp.multiply(t, one - rho, out=t)
    xp.multiply(accum_update, rho, out=accum_update)
    xp.add(accum_update, t, out=accum_update)
    return var


def _sign(xp: Any, x: Any) -> Any:
    return xp.sign(x, out=xp.empty_like(x))


def _ftrl(xp: Any, var: Any, accum: Any, linear: Any, grad: Any, linear_grad: Any, lr: Any, l1: Any, l2: Any,
          lr_power: Any) -> Any:
    """The FTRL step shared by ApplyFtrl and ApplyFtrlV2; ``linear_grad`` enters the linear term."""
    two = var.dtype.type(2)
    root = lr_power == -0.5  # TF1 takes square roots then, a power otherwise
    new_accum = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.add(accum, new_accum, out=new_accum)
    new_pow = xp.where(root, xp.sqrt(new_accum), xp.power(new_accum, -lr_power))
    old_pow = xp.where(root, xp.sqrt(accum), xp.power(accum, -lr_power))
    t = xp.subtract(new_pow, old_pow, out=xp.empty_like(var))
    xp.divide(t, lr, out=t)
    xp.multiply(t, var, out=t)
    xp.subtract(linear_grad, t, out=t)
    xp.add(linear, t, out=linear)
    quadratic = xp.divide(new_pow, lr, out=xp.empty_like(var))
    xp.add(quadratic, two * l2, out=quadratic)
    xp.multiply(_sign(xp, linear), l1, out=t)
    xp.subtract(t, linear, out=t)
    xp.divide(t, quadratic, out=t)
    xp.copyto(var, xp.where(xp.abs(linear) > l1, t, var.dtype.type(0)))
    xp.copyto(accum, new_accum)
    return var


def apply_ftrl(xp: Any, var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any,
               lr_power: Any) -> Any:
    return _ftrl(xp, var, accum, linear, grad, grad, lr, l1, l2, lr_power)


def apply_ftrl_v2(xp: Any, var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any,
                  l2_shrinkage: Any, lr_power: Any) -> Any:
    shrunk_grad = xp.multiply(var, var.dtype.type(2) * l2_shrinkage, out=xp.empty_like(var))
    xp.add(grad, shrunk_grad, out=shrunk_grad)
    return _ftrl(xp, var, accum, linear, grad, shrunk_grad, lr, l1, l2, lr_power)


def _shrink(xp: Any, var: Any, prox: Any, threshold: Any, l1: Any, denom: Any) -> None:
    """var = (l1 > 0 ? sign(prox) * max(|prox| - threshold, 0) : prox) / denom (``threshold`` is overwritten)."""
    xp.subtract(xp.abs(prox), threshold, out=threshold)
    xp.maximum(threshold, var.dtype.type(0), out=threshold)
    xp.multiply(_sign(xp, prox), threshold, out=threshold)
    xp.divide(xp.where(l1 > 0, threshold, prox), denom, out=var)


def apply_proximal_gradient_descent(xp: Any, var: Any, alpha: Any, l1: Any, l2: Any, delta: Any) -> Any:
    one = var.dtype.type(1)
    prox = xp.multiply(delta, alpha, out=xp.empty_like(var))
    xp.subtract(var, prox, out=prox)
    threshold = xp.full_like(var, alpha * l1)
    _shrink(xp, var, prox, threshold, l1, one + alpha * l2)
    return var


def apply_proximal_adagrad(xp: Any, var: Any, accum: Any, lr: Any, l1: Any, l2: Any, grad: Any) -> Any:
    one = var.dtype.type(1)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.add(accum, t, out=accum)
    rate = xp.sqrt(accum, out=xp.empty_like(var))
    xp.divide(one, rate, out=rate)
    xp.multiply(rate, lr, out=rate)
    prox = xp.multiply(grad, rate, out=t)
    xp.subtract(var, prox, out=prox)
    threshold = xp.multiply(rate, l1, out=xp.empty_like(var))
    denom = xp.multiply(rate, l2, out=rate)
    xp.add(denom, one, out=denom)
    _shrink(xp, var, prox, threshold, l1, denom)
    return var


def apply_adagrad_da(xp: Any, var: Any, gradient_accumulator: Any, gradient_squared_accumulator: Any, grad: Any,
                     lr: Any, l1: Any, l2: Any, global_step: Any) -> Any:
    g, gg = gradient_accumulator, gradient_squared_accumulator
    step = xp.asarray(global_step).astype(var.dtype)
    xp.add(g, grad, out=g)
    t = xp.multiply(grad, grad, out=xp.empty_like(var))
    xp.add(gg, t, out=gg)
    threshold = xp.full_like(var, step * l1)
    xp.subtract(xp.abs(g), threshold, out=threshold)
    xp.maximum(threshold, var.dtype.type(0), out=threshold)
    xp.multiply(_sign(xp, g), threshold, out=threshold)
    shrunk = xp.where(l1 > 0, threshold, g)
    denom = xp.sqrt(gg, out=t)
    xp.add(step * l2 * lr, denom, out=denom)
    xp.multiply(-lr, shrunk, out=threshold)
    xp.divide(threshold, denom, out=var)
    return var


TWINS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (apply_gradient_descent, apply_momentum, apply_adam, apply_rms_prop,
                            apply_centered_rms_prop, apply_adagrad, apply_adadelta, apply_ftrl, apply_ftrl_v2,
                            apply_proximal_gradient_descent, apply_proximal_adagrad, apply_adagrad_da)
}
