"""Proximal gradient descent (forward-backward splitting, Duchi et al. 2009) with L1/L2."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.training_ops import apply_proximal_gradient_descent
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class ProximalGradientDescentOptimizer(Optimizer):
    """No slots. As in TF1 the hyper-parameters are not cast: they must have the variable's dtype."""

    def __init__(self, learning_rate: Any, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, use_locking: bool = False,
                 name: str = "ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._tensors: tuple[Tensor, Tensor, Tensor] | None = None

    def _prepare(self) -> None:
        self._tensors = (
            convert_to_tensor(self._call_if_callable(self._learning_rate), name="learning_rate"),
            convert_to_tensor(self._l1_regularization_strength, name="l1_regularization_strength"),
            convert_to_tensor(self._l2_regularization_strength, name="l2_regularization_strength"),
        )

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        assert self._tensors is not None
        lr, l1, l2 = self._tensors
        return apply_proximal_gradient_descent(var, lr, l1, l2, grad, use_locking=self._use_locking).op
