"""FTRL-Proximal (McMahan et al., 2013), with TF1's online L2, shrinkage L2 and beta."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework.tensor import Tensor
from gpugraph.ops import math_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.training_ops import apply_ftrl, apply_ftrl_v2
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class FtrlOptimizer(Optimizer):
    """Slots ``"accum"`` (``<var>/Ftrl``, starting at ``initial_accumulator_value``) and ``"linear"``
    (``<var>/Ftrl_1``, zeros); ``ApplyFtrlV2`` when ``l2_shrinkage_regularization_strength`` > 0."""

    def __init__(self, learning_rate: Any, learning_rate_power: float = -0.5, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "Ftrl", accum_name: str | None = None,
                 linear_name: str | None = None, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float | None = None):
        super().__init__(use_locking, name)
        checks = (("initial_accumulator_value", initial_accumulator_value, 0.0, "positive or zero"),
                  ("learning_rate_power", -learning_rate_power, 0.0, "negative or zero"),
                  ("l1_regularization_strength", l1_regularization_strength, 0.0, "positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength, 0.0, "positive or zero"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 0.0,
                   "positive or zero"))
        for label, value, low, wanted in checks:
            if value < low:
                shown = -value if label == "learning_rate_power" else value
                raise ValueError(f"{label} {shown:f} needs to be {wanted}")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name
        self._tensors: dict[str, Tensor] = {}

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accum",
                                                    self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self) -> None:
        lr = self._call_if_callable(self._learning_rate)
        self._tensors = {
            "lr": convert_to_tensor(lr, name="learning_rate"),
            "l1": convert_to_tensor(self._l1_regularization_strength, name="l1_regularization_strength"),
            # TF1 folds beta into the online L2: l2 + beta / (2 * lr)
            "l2": convert_to_tensor(self._l2_regularization_strength + self._beta
                                    / (2.0 * math_ops.maximum(lr, 1e-36)),
                                    name="adjusted_l2_regularization_strength"),
            "l2_shrinkage": convert_to_tensor(self._l2_shrinkage_regularization_strength,
                                              name="l2_shrinkage_regularization_strength"),
            "lr_power": convert_to_tensor(self._learning_rate_power, name="learning_rate_power"),
        }

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        accum = self.get_slot(var, "accum")
        linear = self.get_slot(var, "linear")
        dtype = var.dtype.base_dtype
        t = {k: math_ops.cast(v, dtype) for k, v in self._tensors.items()}
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return apply_ftrl(var, accum, linear, grad, t["lr"], t["l1"], t["l2"], t["lr_power"],
                              use_locking=self._use_locking)
        return apply_ftrl_v2(var, accum, linear, grad, t["lr"], t["l1"], t["l2"], t["l2_shrinkage"], t["lr_power"],
                             use_locking=self._use_locking)
