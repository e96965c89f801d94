"""Adagrad dual averaging (Duchi et al. 2011), for sparse linear models."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.ops import array_ops, math_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.training_ops import apply_adagrad_da
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class AdagradDAOptimizer(Optimizer):
    """Slots ``"gradient_accumulator"`` (``<var>/AdagradDA``, zeros) and ``"gradient_squared_accumulator"``
    (``<var>/AdagradDA_1``). ``global_step`` (an int64 tensor) is required: the update uses step + 1."""

    def __init__(self, learning_rate: Any, global_step: Any, initial_gradient_squared_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "AdagradDA"):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError(f"initial_gradient_squared_accumulator_value must be positive: "
                             f"{initial_gradient_squared_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_gradient_squared_accumulator_value = initial_gradient_squared_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._global_step = global_step
        self._learning_rate_tensor: Tensor | None = None
        self._global_step_on_worker: Tensor | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            self._get_or_make_slot_with_initializer(v, init_ops.zeros_initializer(), v.get_shape(), dtype,
                                                    "gradient_accumulator", self._name)
            init = init_ops.constant_initializer(self._initial_gradient_squared_accumulator_value, dtype=dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "gradient_squared_accumulator",
                                                    self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                       name="learning_rate")
        with get_default_graph().colocate_with(self._learning_rate_tensor):
            self._global_step_on_worker = array_ops.identity(self._global_step) + 1

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        dtype = var.dtype.base_dtype
        global_step = array_ops.identity(self._global_step_on_worker)
        return apply_adagrad_da(var, self.get_slot(var, "gradient_accumulator"),
                                self.get_slot(var, "gradient_squared_accumulator"), grad,
                                math_ops.cast(self._learning_rate_tensor, dtype),
                                math_ops.cast(self._l1_regularization_strength, dtype),
                                math_ops.cast(self._l2_regularization_strength, dtype), global_step,
                                use_locking=self._use_locking)
