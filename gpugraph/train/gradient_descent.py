"""Plain gradient descent: var -= learning_rate * grad, in place."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import APPLY_GRADIENT_DESCENT
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor: Tensor | None = None

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._learning_rate, name="learning_rate")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        assert self._learning_rate_tensor is not None
        lr = cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return APPLY_GRADIENT_DESCENT(var, lr, grad, name="ApplyGradientDescent").op
