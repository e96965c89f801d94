"""Several updates of one rule in one compiled host call: bit for bit the NumPy twins run one variable after
another, and nothing written for arguments the call does not take."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

from gpugraph.compiler.fused_step import COMPILE_AFTER
from gpugraph.kernels import load
from gpugraph.kernels.host_multi import HostMultiUpdate
from gpugraph.kernels.twins import TWINS
from test_host_update_loops import DTYPES, KERNELS, _assert_same_bits, _case

SHAPES = [(7,), (300,), (64, 130)]  # a bias, a small and a large variable


@pytest.fixture(scope="module", autouse=True)
def kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GPUGRAPH_KERNEL_CACHE", str(tmp_path_factory.mktemp("multi-update")))
        yield


def _group(kernel: str, dtype: str, variant: int) -> tuple[list[list[Any]], list[Any], list[Any], tuple, int]:
    """Per variable (refs, its gradient), the shared inputs (one variable's, its gradient left out), the
    attributes and the gradient's position among the inputs."""
    cases = [_case(kernel, dtype, shape, variant, seed=k) for k, shape in enumerate(SHAPES)]
    names = [p.name for p in load(kernel).inputs]
    g = next(k for k, n in enumerate(names) if n in ("grad", "delta"))
    refs = [list(c[0]) for c in cases]
    grads = [c[1][g] for c in cases]
    shared = [x for k, x in enumerate(cases[0][1]) if k != g]
    return refs, grads, shared, cases[0][2], g


def _updater(kernel: str, dtype: str, n_inputs: int, g: int) -> HostMultiUpdate:
    return HostMultiUpdate(kernel, n_inputs, g, dtype)


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", KERNELS)
def test_one_call_equals_the_twins_one_variable_after_another(kernel: str, dtype: str, variant: int) -> None:
    refs, grads, shared, attrs, g = _group(kernel, dtype, variant)
    want = [[r.copy() for r in rs] for rs in refs]
    update = _updater(kernel, dtype, len(shared) + 1, g)
    results = []
    for _ in range(COMPILE_AFTER + 1):
        done = update(shared, grads, refs, attrs)
        results.append(done)
        if not done:  # before the loop is built: the caller runs the updates one by one
            for rs, grad in zip(refs, grads):
                inputs = shared[:g] + [grad] + shared[g:]
                TWINS[kernel](np, *rs, *inputs, *attrs)
        for rs, grad in zip(want, grads):
            inputs = shared[:g] + [grad] + shared[g:]
            TWINS[kernel](np, *rs, *inputs, *attrs)
    assert results == [False] * (COMPILE_AFTER - 1) + [True, True]
    names = [p.name for p in load(kernel).inouts]
    for got, expected in zip(refs, want):
        _assert_same_bits(got, expected, names)


def _built_adam(dtype: str = "float32") -> tuple[HostMultiUpdate, list[list[Any]], list[Any], list[Any], tuple]:
    refs, grads, shared, attrs, g = _group("apply_adam", dtype, 0)
    update = _updater("apply_adam", dtype, len(shared) + 1, g)
    for _ in range(COMPILE_AFTER - 1):
        assert update(shared, grads, refs, attrs) is False
    return update, refs, grads, shared, attrs


def _unchanged(update: HostMultiUpdate, refs: list[list[Any]], grads: list[Any], shared: list[Any],
               attrs: tuple) -> bool:
    before = [[r.copy() for r in rs] for rs in refs]
    done = update(shared, grads, refs, attrs)
    return not done and all(np.array_equal(a, b, equal_nan=True) for rs, bs in zip(refs, before)
                            for a, b in zip(rs, bs))


def test_a_gradient_that_is_its_own_variables_slot_is_left_to_the_updates_one_by_one() -> None:
    update, refs, grads, shared, attrs = _built_adam()
    grads[1] = refs[1][1]  # the second variable's m: the loop would read it where it writes it
    assert _unchanged(update, refs, grads, shared, attrs)


@pytest.mark.parametrize("change", ["dtype", "shape", "strided", "hyper"])
def test_arguments_the_loop_does_not_take_write_nothing(change: str) -> None:
    update, refs, grads, shared, attrs = _built_adam()
    if change == "dtype":
        grads[2] = grads[2].astype(np.float64)
    elif change == "shape":
        grads[0] = np.concatenate([grads[0], grads[0]])
    elif change == "strided":
        refs[1][0] = np.repeat(refs[1][0], 2)[::2]
    else:
        shared[0] = np.float64(shared[0])  # a hyper-parameter in another dtype than the variable's
    assert _unchanged(update, refs, grads, shared, attrs)
    _, refs, grads, shared, attrs = _built_adam()  # the same call with arguments it takes runs
    assert update(shared, grads, refs, attrs) is True


def test_variables_given_new_buffers_are_updated_there() -> None:
    """The call keeps the variables' addresses between steps; a variable restored into a new array (a
    checkpoint, an assign of another shape's value) is written there, its old buffer left alone."""
    update, refs, grads, shared, attrs = _built_adam()
    assert update(shared, grads, refs, attrs) is True
    kept = refs[1]
    old = [r.copy() for r in kept]
    refs[1] = [r * 0.5 for r in kept]  # new buffers, other values
    expected = [r.copy() for r in refs[1]]
    assert update(shared, grads, refs, attrs) is True
    assert all(np.array_equal(a, b) for a, b in zip(kept, old)), "the old buffers were written"
    g = [p.name for p in load("apply_adam").inputs].index("grad")
    TWINS["apply_adam"](np, *expected, *shared[:g], grads[1], *shared[g:], *attrs)
    _assert_same_bits(refs[1], expected, [p.name for p in load("apply_adam").inouts])
