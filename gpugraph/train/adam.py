"""Adam (Kingma & Ba), in TF1's "epsilon hat" form, with the beta powers as optimizer variables."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.control_flow_ops import group
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_adam
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class AdamOptimizer(Optimizer):
    """Per step t: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g^2; var -= lr_t * m / (sqrt(v) + epsilon).

    Slots ``"m"`` and ``"v"`` (variables ``<var>/Adam`` and ``<var>/Adam_1``); the non-slot variables
    ``beta1_power`` and ``beta2_power`` hold beta^t and are multiplied by beta after the updates.
    """

    def __init__(self, learning_rate: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._lr_t: Tensor | None = None
        self._beta1_t: Tensor | None = None
        self._beta2_t: Tensor | None = None
        self._epsilon_t: Tensor | None = None

    def _get_beta_accumulators(self) -> tuple[Variable, Variable]:
        graph = get_default_graph()
        b1 = self._get_non_slot_variable("beta1_power", graph=graph)
        b2 = self._get_non_slot_variable("beta2_power", graph=graph)
        assert b1 is not None and b2 is not None
        return b1, b2

    def _create_slots(self, var_list: list[Variable]) -> None:
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(initial_value=self._beta1, name="beta1_power", colocate_with=first_var)
        self._create_non_slot_variable(initial_value=self._beta2, name="beta2_power", colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self) -> None:
        self._lr_t = convert_to_tensor(self._call_if_callable(self._lr), name="learning_rate")
        self._beta1_t = convert_to_tensor(self._call_if_callable(self._beta1), name="beta1")
        self._beta2_t = convert_to_tensor(self._call_if_callable(self._beta2), name="beta2")
        self._epsilon_t = convert_to_tensor(self._call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        m = self.get_slot(var, "m")
        v = self.get_slot(var, "v")
        beta1_power, beta2_power = self._get_beta_accumulators()
        dtype = var.dtype.base_dtype
        return apply_adam(var, m, v, cast(beta1_power, dtype), cast(beta2_power, dtype), cast(self._lr_t, dtype),
                          cast(self._beta1_t, dtype), cast(self._beta2_t, dtype), cast(self._epsilon_t, dtype),
                          grad, use_locking=self._use_locking).op

    def _finish(self, update_ops: list[Any], name_scope: str) -> Operation:
        graph = get_default_graph()
        with graph.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            with graph.colocate_with(beta1_power):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t, use_locking=self._use_locking)
                update_beta2 = beta2_power.assign(beta2_power * self._beta2_t, use_locking=self._use_locking)
        return group(*update_ops + [update_beta1, update_beta2], name=name_scope)
