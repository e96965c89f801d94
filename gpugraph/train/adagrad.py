"""Adagrad (Duchi et al.): accum += g^2; var -= lr * g / sqrt(accum)."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_adagrad
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class AdagradOptimizer(Optimizer):
    """One slot, ``"accumulator"`` (``<var>/Adagrad``), starting at ``initial_accumulator_value``."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1, use_locking: bool = False,
                 name: str = "Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._learning_rate_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accumulator", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                       name="learning_rate")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        acc = self.get_slot(var, "accumulator")
        return apply_adagrad(var, acc, cast(self._learning_rate_tensor, var.dtype.base_dtype), grad,
                             use_locking=self._use_locking)
