"""Momentum (optionally Nesterov): accum = momentum * accum + grad; var -= lr * accum."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_momentum
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class MomentumOptimizer(Optimizer):
    """One slot per variable, ``"momentum"`` (the variable ``<var>/Momentum``), zero at start."""

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False, name: str = "Momentum",
                 use_nesterov: bool = False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov
        self._learning_rate_tensor: Tensor | None = None
        self._momentum_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                       name="learning_rate")
        self._momentum_tensor = convert_to_tensor(self._call_if_callable(self._momentum), name="momentum")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        mom = self.get_slot(var, "momentum")
        dtype = var.dtype.base_dtype
        return apply_momentum(var, mom, cast(self._learning_rate_tensor, dtype), grad,
                              cast(self._momentum_tensor, dtype), use_locking=self._use_locking,
                              use_nesterov=self._use_nesterov).op
