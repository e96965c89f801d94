"""Plain gradient descent: var -= learning_rate * grad, in place."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_gradient_descent
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor: Tensor | None = None

    def _prepare(self) -> None:
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = convert_to_tensor(lr, name="learning_rate")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        assert self._learning_rate_tensor is not None
        lr = cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return apply_gradient_descent(var, lr, grad, use_locking=self._use_locking).op
