"""The rest of tf.nn against TensorFlow (tests/ops/data/nn_extra_reference.json): values, gradients, op names."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf

DATA = Path(__file__).resolve().parents[1] / "ops" / "data"
sys.path.insert(0, str(DATA))

from nn_extra_cases import CASES, make_inputs, resolve  # noqa: E402

REFERENCE = json.loads((DATA / "nn_extra_reference.json").read_text())["cases"]
# Where the graph differs from TF1's on purpose: dilations run inside the conv op (TF1 wraps it in
# SpaceToBatchND/BatchToSpaceND), swish is plain ops (TF1: a custom-gradient IdentityN), and
# compute_average_loss/zero_fraction/scale_regularization_loss skip TF's run-time asserts and cond, and
# zeros_like of a known shape is a Fill op here (a Const in TF).
OWN_NAMES = {"separable_conv2d_rate", "atrous_conv2d_same", "atrous_conv2d_valid", "atrous_conv2d_transpose_same",
             "atrous_conv2d_transpose_valid", "swish", "swish_beta", "compute_average_loss",
             "compute_average_loss_global", "zero_fraction", "scale_regularization_loss",
             "sufficient_statistics_count", "conv1d_transpose", "log_poisson_loss_full"}


def _build(name: str) -> tuple[dict[str, Any], Any]:
    case = CASES[name]
    dtype = np.float32 if case.get("float32") else np.float64
    tensors = {k: tf.constant(v.astype(dtype) if v.dtype.kind == "f" else v, name=k)
               for k, v in make_inputs(name, case).items()}
    out = resolve(tf, case["fn"])(**tensors, **case.get("kwargs", {}))
    return tensors, out[case["out"]] if "out" in case else out


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_tensorflow(name: str) -> None:
    want = REFERENCE[name]
    tensors, y = _build(name)
    tol = 1e-5 if CASES[name].get("float32") else 1e-9
    floats = {k: t for k, t in tensors.items() if t.dtype.is_floating}
    if want["g"] is None:
        np.testing.assert_allclose(run(y), np.asarray(want["output"]), rtol=tol, atol=tol)
        return
    grads = tf.gradients(y, list(floats.values()), grad_ys=tf.constant(np.asarray(want["g"], y.dtype.as_numpy_dtype)))
    fetch = [y] + [g for g in grads if g is not None]
    got = run(*fetch)
    got = got if isinstance(got, list) else [got]
    np.testing.assert_allclose(got[0], np.asarray(want["output"]), rtol=tol, atol=tol, err_msg=name)
    values = iter(got[1:])
    for arg, g in zip(floats, grads):
        expected = want["grads"][arg]
        assert (g is None) == (expected is None), f"{name}: gradient of {arg} is {g}, TF's is {expected is not None}"
        if g is not None:
            np.testing.assert_allclose(next(values), np.asarray(expected), rtol=tol, atol=tol,
                                       err_msg=f"{name}: gradient of {arg}")


@pytest.mark.parametrize("name", sorted(set(CASES) - OWN_NAMES))
def test_op_names_and_types_match_tensorflow(name: str, graph: tf.Graph) -> None:
    want = REFERENCE[name]
    before = {op.name for op in graph.get_operations()}
    _, y = _build(name)
    made = [[op.name, op.type] for op in graph.get_operations()
            if op.name not in before and op.type != "Const" and not op.name.startswith(tuple(CASES[name]["inputs"]))]
    assert y.name == want["output_name"]
    assert made == [[n, "Add" if t == "AddV2" else t] for n, t in want["ops"]]  # gpugraph's Add is TF's AddV2
