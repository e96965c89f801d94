"""RMSProp (Hinton), optionally centred and with momentum, as TF1's RMSPropOptimizer."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast
from gpugraph.ops.training_ops import apply_centered_rms_prop, apply_rms_prop
from gpugraph.train.optimizer import Optimizer
from gpugraph.variables import Variable


class RMSPropOptimizer(Optimizer):
    """ms = decay * ms + (1 - decay) * g^2; mom = momentum * mom + lr * g / sqrt(ms + epsilon); var -= mom.

    Centred: also mg = decay * mg + (1 - decay) * g, and the denominator is sqrt(ms - mg^2 + epsilon).
    Slots: ``"rms"`` (starts at ONE, as TF1), ``"mg"`` when centred, ``"momentum"``; their variables
    are ``<var>/RMSProp``, ``<var>/RMSProp_1``... in that order.
    """

    def __init__(self, learning_rate: Any, decay: Any = 0.9, momentum: Any = 0.0, epsilon: Any = 1e-10,
                 use_locking: bool = False, centered: bool = False, name: str = "RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered
        self._learning_rate_tensor: Tensor | None = None
        self._decay_tensor: Tensor | None = None
        self._momentum_tensor: Tensor | None = None
        self._epsilon_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Variable]) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            self._get_or_make_slot_with_initializer(v, init_ops.ones_initializer(dtype=dtype), v.get_shape(),
                                                    dtype, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                       name="learning_rate")
        self._decay_tensor = convert_to_tensor(self._call_if_callable(self._decay), name="decay")
        self._momentum_tensor = convert_to_tensor(self._call_if_callable(self._momentum), name="momentum")
        self._epsilon_tensor = convert_to_tensor(self._call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        dtype = var.dtype.base_dtype
        hyper = (cast(self._learning_rate_tensor, dtype), cast(self._decay_tensor, dtype),
                 cast(self._momentum_tensor, dtype), cast(self._epsilon_tensor, dtype))
        if self._centered:
            mg = self.get_slot(var, "mg")
            return apply_centered_rms_prop(var, mg, rms, mom, *hyper, grad, use_locking=self._use_locking).op
        return apply_rms_prop(var, rms, mom, *hyper, grad, use_locking=self._use_locking).op
