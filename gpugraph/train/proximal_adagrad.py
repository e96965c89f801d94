"""Proximal Adagrad (Duchi et al. 2011; forward-backward splitting) with L1/L2."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.training_ops import apply_proximal_adagrad
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class ProximalAdagradOptimizer(Optimizer):
    """One slot, ``"accumulator"`` (``<var>/ProximalAdagrad``). As in TF1 the hyper-parameters are not
    cast: they must have the variable's dtype."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._tensors: tuple[Tensor, Tensor, Tensor] | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accumulator", self._name)

    def _prepare(self) -> None:
        self._tensors = (
            convert_to_tensor(self._call_if_callable(self._learning_rate), name="learning_rate"),
            convert_to_tensor(self._l1_regularization_strength, name="l1_regularization_strength"),
            convert_to_tensor(self._l2_regularization_strength, name="l2_regularization_strength"),
        )

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        assert self._tensors is not None
        lr, l1, l2 = self._tensors
        acc = self.get_slot(var, "accumulator")
        return apply_proximal_adagrad(var, acc, lr, l1, l2, grad, use_locking=self._use_locking)
