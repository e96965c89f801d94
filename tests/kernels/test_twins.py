"""The NumPy twins of the update kernels against the float64 textbook formulas, and their in-place contract."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gpugraph.kernels import twins

SHAPE = (4, 3)


def _arrays(lo: float, hi: float) -> Any:
    return hnp.arrays(np.float64, SHAPE, elements=st.floats(lo, hi, allow_nan=False, width=64))


def _unit(lo: float = 0.05, hi: float = 0.95) -> Any:
    return st.floats(lo, hi)


# Textbook forms, written as in the papers / TF docs rather than as the kernels compute them.
def _gd(var, lr, g):
    return {"var": var - lr * g}


def _momentum(var, accum, lr, g, mu, nesterov):
    accum = mu * accum + g
    step = lr * (g + mu * accum) if nesterov else lr * accum
    return {"var": var - step, "accum": accum}


def _adam(var, m, v, b1p, b2p, lr, b1, b2, eps, g):
    lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return {"var": var - lr_t * m / (np.sqrt(v) + eps), "m": m, "v": v}


def _rmsprop(var, ms, mom, lr, rho, mu, eps, g):
    ms = rho * ms + (1 - rho) * g ** 2
    mom = mu * mom + lr * g / np.sqrt(ms + eps)
    return {"var": var - mom, "ms": ms, "mom": mom}


def _centered(var, mg, ms, mom, lr, rho, mu, eps, g):
    ms = rho * ms + (1 - rho) * g ** 2
    mg = rho * mg + (1 - rho) * g
    mom = mu * mom + lr * g / np.sqrt(ms - mg ** 2 + eps)
    return {"var": var - mom, "mg": mg, "ms": ms, "mom": mom}


def _adagrad(var, accum, lr, g):
    accum = accum + g ** 2
    return {"var": var - lr * g / np.sqrt(accum), "accum": accum}


def _adadelta(var, accum, accum_update, lr, rho, eps, g):
    accum = rho * accum + (1 - rho) * g ** 2
    update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * g
    accum_update = rho * accum_update + (1 - rho) * update ** 2
    return {"var": var - lr * update, "accum": accum, "accum_update": accum_update}


def _ftrl(var, accum, linear, g, lr, l1, l2, lr_power, shrinkage=0.0):
    new_accum = accum + g ** 2
    linear = linear + g + 2 * shrinkage * var - (new_accum ** -lr_power - accum ** -lr_power) / lr * var
    quadratic = new_accum ** -lr_power / lr + 2 * l2
    var = np.where(np.abs(linear) > l1, (l1 * np.sign(linear) - linear) / quadratic, 0.0)
    return {"var": var, "accum": new_accum, "linear": linear}


def _ftrl_v2(var, accum, linear, g, lr, l1, l2, shrinkage, lr_power):
    return _ftrl(var, accum, linear, g, lr, l1, l2, lr_power, shrinkage)


def _soft_threshold(x, threshold):
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def _proximal_gd(var, lr, l1, l2, g):
    return {"var": _soft_threshold(var - lr * g, lr * l1) / (1 + lr * l2)}


def _proximal_adagrad(var, accum, lr, l1, l2, g):
    accum = accum + g ** 2
    rate = lr / np.sqrt(accum)
    return {"var": _soft_threshold(var - rate * g, rate * l1) / (1 + rate * l2), "accum": accum}


def _adagrad_da(var, g_acc, gg_acc, g, lr, l1, l2, step):
    g_acc = g_acc + g
    gg_acc = gg_acc + g ** 2
    var = -lr * _soft_threshold(g_acc, step * l1) / (step * l2 * lr + np.sqrt(gg_acc))
    return {"var": var, "gradient_accumulator": g_acc, "gradient_squared_accumulator": gg_acc}


def _check(twin: Callable[..., Any], textbook: Callable[..., Any], refs: dict[str, np.ndarray],
           args: list[Any]) -> None:
    """The twin updates ``refs`` in place (same objects) to the textbook values."""
    expected = textbook(*[a.copy() for a in refs.values()], *args)
    before = {k: id(a) for k, a in refs.items()}
    scalars = [np.asarray(a) if isinstance(a, float) else a for a in args]
    out = twin(np, *refs.values(), *scalars)
    assert out is refs["var"]
    assert {k: id(a) for k, a in refs.items()} == before
    for key, want in expected.items():
        np.testing.assert_allclose(refs[key], want, rtol=1e-12, atol=1e-14, err_msg=key)


FAST = settings(max_examples=40, deadline=None)


@FAST
@given(_arrays(-5, 5), _unit(1e-3, 1.0), _arrays(-5, 5))
def test_gradient_descent(var, lr, g):
    _check(twins.apply_gradient_descent, _gd, {"var": var}, [lr, g])


@FAST
@given(_arrays(-5, 5), _arrays(-5, 5), _unit(1e-3, 1.0), _arrays(-5, 5), _unit(0.0, 0.99), st.booleans())
def test_momentum(var, accum, lr, g, mu, nesterov):
    _check(twins.apply_momentum, _momentum, {"var": var, "accum": accum}, [lr, g, mu, nesterov])


@FAST
@given(_arrays(-5, 5), _arrays(-2, 2), _arrays(0, 4), st.integers(1, 50), _unit(1e-4, 0.1), _unit(0.5, 0.99),
       _unit(0.9, 0.9999), _unit(1e-8, 1e-3), _arrays(-5, 5))
def test_adam(var, m, v, t, lr, b1, b2, eps, g):
    _check(twins.apply_adam, _adam, {"var": var, "m": m, "v": v}, [b1 ** t, b2 ** t, lr, b1, b2, eps, g])


@FAST
@given(_arrays(-5, 5), _arrays(0.01, 4), _arrays(-1, 1), _unit(1e-4, 0.1), _unit(0.5, 0.99), _unit(0.0, 0.9),
       _unit(1e-10, 1e-3), _arrays(-5, 5))
def test_rms_prop(var, ms, mom, lr, rho, mu, eps, g):
    _check(twins.apply_rms_prop, _rmsprop, {"var": var, "ms": ms, "mom": mom}, [lr, rho, mu, eps, g])


@FAST
@given(_arrays(-5, 5), _arrays(-0.5, 0.5), _arrays(-1, 1), _unit(1e-4, 0.1), _unit(0.5, 0.99),
       _unit(0.0, 0.9), _unit(1e-6, 1e-3), _arrays(-5, 5))
def test_centered_rms_prop(var, mg, mom, lr, rho, mu, eps, g):
    ms = mg ** 2 + 1.0  # a mean square is at least the squared mean
    _check(twins.apply_centered_rms_prop, _centered, {"var": var, "mg": mg, "ms": ms, "mom": mom},
           [lr, rho, mu, eps, g])


@FAST
@given(_arrays(-5, 5), _arrays(0.01, 4), _unit(1e-3, 1.0), _arrays(-5, 5))
def test_adagrad(var, accum, lr, g):
    _check(twins.apply_adagrad, _adagrad, {"var": var, "accum": accum}, [lr, g])


@FAST
@given(_arrays(-5, 5), _arrays(0, 4), _arrays(0, 4), _unit(1e-3, 1.0), _unit(0.5, 0.99), _unit(1e-8, 1e-3),
       _arrays(-5, 5))
def test_adadelta(var, accum, accum_update, lr, rho, eps, g):
    _check(twins.apply_adadelta, _adadelta, {"var": var, "accum": accum, "accum_update": accum_update},
           [lr, rho, eps, g])


@FAST
@given(_arrays(-5, 5), _arrays(0.01, 4), _arrays(-5, 5), _arrays(-5, 5), _unit(1e-3, 1.0), _unit(0.0, 0.5),
       _unit(0.0, 0.5), st.sampled_from([-0.5, -0.7, 0.0, -1.0]))
def test_ftrl(var, accum, linear, g, lr, l1, l2, lr_power):
    _check(twins.apply_ftrl, _ftrl, {"var": var, "accum": accum, "linear": linear}, [g, lr, l1, l2, lr_power])


@FAST
@given(_arrays(-5, 5), _arrays(0.01, 4), _arrays(-5, 5), _arrays(-5, 5), _unit(1e-3, 1.0), _unit(0.0, 0.5),
       _unit(0.0, 0.5), _unit(0.0, 0.5), st.sampled_from([-0.5, -0.3]))
def test_ftrl_v2(var, accum, linear, g, lr, l1, l2, shrinkage, lr_power):
    _check(twins.apply_ftrl_v2, _ftrl_v2, {"var": var, "accum": accum, "linear": linear},
           [g, lr, l1, l2, shrinkage, lr_power])


@FAST
@given(_arrays(-5, 5), _unit(1e-3, 1.0), _unit(0.0, 2.0), _unit(0.0, 1.0), _arrays(-5, 5))
def test_proximal_gradient_descent(var, lr, l1, l2, g):
    _check(twins.apply_proximal_gradient_descent, _proximal_gd, {"var": var}, [lr, l1, l2, g])


@FAST
@given(_arrays(-5, 5), _arrays(0.01, 4), _unit(1e-3, 1.0), _unit(0.0, 2.0), _unit(0.0, 1.0), _arrays(-5, 5))
def test_proximal_adagrad(var, accum, lr, l1, l2, g):
    _check(twins.apply_proximal_adagrad, _proximal_adagrad, {"var": var, "accum": accum}, [lr, l1, l2, g])


@FAST
@given(_arrays(-5, 5), _arrays(-5, 5), _arrays(0.01, 4), _arrays(-5, 5), _unit(1e-3, 1.0), _unit(0.0, 0.5),
       _unit(0.0, 0.5), st.integers(1, 1000))
def test_adagrad_da(var, g_acc, gg_acc, g, lr, l1, l2, step):
    _check(twins.apply_adagrad_da, _adagrad_da,
           {"var": var, "gradient_accumulator": g_acc, "gradient_squared_accumulator": gg_acc},
           [g, lr, l1, l2, np.int64(step)])


# --- dtype and shape contract: float32 stays float32, 0-d variables work ---
CALLS = {
    "apply_gradient_descent": (1, [0.1, "g"]),
    "apply_momentum": (2, [0.1, "g", 0.9, True]),
    "apply_adam": (3, [0.9, 0.999, 0.1, 0.9, 0.999, 1e-8, "g"]),
    "apply_rms_prop": (3, [0.1, 0.9, 0.5, 1e-10, "g"]),
    "apply_centered_rms_prop": (4, [0.1, 0.9, 0.5, 1e-10, "g"]),
    "apply_adagrad": (2, [0.1, "g"]),
    "apply_adadelta": (3, [1.0, 0.95, 1e-8, "g"]),
    "apply_ftrl": (3, ["g", 0.1, 0.01, 0.02, -0.5]),
    "apply_ftrl_v2": (3, ["g", 0.1, 0.01, 0.02, 0.03, -0.6]),
    "apply_proximal_gradient_descent": (1, [0.1, 0.01, 0.02, "g"]),
    "apply_proximal_adagrad": (2, [0.1, 0.01, 0.02, "g"]),
    "apply_adagrad_da": (3, ["g", 0.1, 0.01, 0.02, "step"]),
}


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_float32_in_place_for_every_shape(name: str, shape: tuple[int, ...]) -> None:
    n_refs, args = CALLS[name]
    rng = np.random.default_rng(1)
    refs = [rng.uniform(0.5, 1.5, shape).astype(np.float32) for _ in range(n_refs)]
    if name == "apply_centered_rms_prop":
        refs[1] *= np.float32(0.1)  # mg: keep the mean square above the squared mean
    grad = rng.standard_normal(shape).astype(np.float32)
    values = [grad if a == "g" else np.asarray(7, np.int64) if a == "step" else a if isinstance(a, bool)
              else np.asarray(a, np.float32) for a in args]
    f64 = twins.TWINS[name](np, *[r.astype(np.float64) for r in refs],
                            *[v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
                              for v in values])
    ids = [id(r) for r in refs]
    out = twins.TWINS[name](np, *refs, *values)
    assert out is refs[0] and [id(r) for r in refs] == ids
    assert all(r.dtype == np.float32 and r.shape == shape for r in refs)
    np.testing.assert_allclose(out, f64, rtol=1e-5)
