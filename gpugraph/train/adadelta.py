"""Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_adadelta
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class AdadeltaOptimizer(Optimizer):
    """accum = rho * accum + (1 - rho) * g^2;
    update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * g; var -= lr * update;
    accum_update = rho * accum_update + (1 - rho) * update^2.

    Slots ``"accum"`` and ``"accum_update"`` (``<var>/Adadelta``, ``<var>/Adadelta_1``), zero at start.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adadelta"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon
        self._lr_t: Tensor | None = None
        self._rho_t: Tensor | None = None
        self._epsilon_t: Tensor | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self) -> None:
        self._lr_t = convert_to_tensor(self._call_if_callable(self._lr), name="lr")
        self._rho_t = convert_to_tensor(self._call_if_callable(self._rho), name="rho")
        self._epsilon_t = convert_to_tensor(self._call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        accum = self.get_slot(var, "accum")
        accum_update = self.get_slot(var, "accum_update")
        dtype = var.dtype.base_dtype
        return apply_adadelta(var, accum, accum_update, cast(self._lr_t, dtype), cast(self._rho_t, dtype),
                              cast(self._epsilon_t, dtype), grad, use_locking=self._use_locking)
