"""On a CUDA device: fused kernels writing over dying inputs train as the plan without them does, bit for
bit, eager and replayed as CUDA graphs (the CuPy stand-in's version: test_gpu_in_place.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_gpu_in_place import train

from gpugraph.compiler import codegen
from gpugraph.compiler.memory_plan import ENV_IN_PLACE

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("style", ["layers", "matmul"])
def test_training_in_place_on_the_device_equals_training_apart(monkeypatch, style):
    given = []
    real = codegen.owned

    def spy(s, j):
        out = real(s, j)
        if out is not None:
            given.append(j)
        return out
    monkeypatch.setattr(codegen, "owned", spy)
    monkeypatch.setenv(ENV_IN_PLACE, "0")
    losses_apart, weights_apart, _ = train(5, graphs=False, style=style)
    assert not given
    monkeypatch.setenv(ENV_IN_PLACE, "1")
    for graphs in (False, True):
        losses, weights, _ = train(5, graphs=graphs, style=style)
        np.testing.assert_array_equal(losses, losses_apart)
        for w, v in zip(weights, weights_apart):
            np.testing.assert_array_equal(w, v)
    assert given  # the eager run wrote over device buffers
