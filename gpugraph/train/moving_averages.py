"""tf.train.ExponentialMovingAverage and assign_moving_average, as TF1 builds them."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import math_ops, state_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.control_flow_ops import group
from gpugraph.variable_scope import get_variable, variable_scope
from gpugraph.variables import Variable, global_variables, moving_average_variables, trainable_variables

__all__ = ["ExponentialMovingAverage", "assign_moving_average"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _shadow_variable(primary: Any, initial: Any, name: str) -> Variable:
    """TF1's slot_creator: ``<primary>/<name>`` (made unique), non-trainable, colocated with the primary,
    created outside any control dependencies."""
    graph = primary.graph
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None), \
            variable_scope(None, default_name=f"{primary.op.name}/{name}"), graph.colocate_with(primary):
        if callable(initial):  # a zeros initializer: the primary is a tensor
            return get_variable("", shape=primary.get_shape(), dtype=primary.dtype.base_dtype,
                                initializer=initial, trainable=False)
        return get_variable("", initializer=initial, trainable=False,
                            validate_shape=initial.get_shape().is_fully_defined())


def _zero_debias(unbiased: Variable, value: Tensor, one_minus_decay: Tensor, scope: str) -> Tensor:
    """TF1's zero-debiased update: a biased average and a step count beside ``unbiased``, which gets
    biased / (1 - decay^step)."""
    graph = get_default_graph()
    with variable_scope(unbiased.op.name), graph.control_dependencies(None):
        biased = get_variable("biased", shape=unbiased.get_shape(), dtype=unbiased.dtype.base_dtype,
                              initializer=init_ops.zeros_initializer(), trainable=False)
        local_step = get_variable("local_step", shape=[], dtype=unbiased.dtype.base_dtype,
                                  initializer=init_ops.zeros_initializer(), trainable=False)
    update_biased = state_ops.assign_sub(biased, (biased - value) * one_minus_decay)
    update_local_step = state_ops.assign_add(local_step, 1)
    bias_factor = 1 - math_ops.pow(1.0 - one_minus_decay, update_local_step)
    return state_ops.assign(unbiased, update_biased / bias_factor, name=scope)


def assign_moving_average(variable: Variable, value: Any, decay: Any, zero_debias: bool = True,
                          name: str | None = None) -> Tensor:
    """variable -= (variable - value) * (1 - decay): an ``AssignSub`` named ``AssignMovingAvg``."""
    graph = get_default_graph()
    with graph.name_scope(name or "AssignMovingAvg") as scope:
        one_minus_decay = convert_to_tensor(1.0 - decay, name="decay")
        if one_minus_decay.dtype.base_dtype != variable.dtype.base_dtype:
            one_minus_decay = math_ops.cast(one_minus_decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, one_minus_decay, scope)
        return state_ops.assign_sub(variable, (variable - value) * one_minus_decay, name=scope)


class ExponentialMovingAverage:
    """Shadow copies of variables (or tensors), updated by ``apply``'s op as
    shadow -= (1 - decay) * (shadow - value); with ``num_updates`` the decay is
    min(decay, (1 + num_updates) / (10 + num_updates)). As in TF1, ``zero_debias`` applies to the
    averages of tensors only: a variable's shadow starts at the variable's value, not at zero."""

    def __init__(self, decay: Any, num_updates: Any = None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict[Any, Variable] = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list: Any = None) -> Operation:
        """Create the shadow variables (once) and return the op updating them all."""
        var_list = trainable_variables() if var_list is None else list(var_list)
        graph = get_default_graph()
        debiased: set[int] = set()
        for var in var_list:
            if var.dtype.base_dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            if isinstance(var, Variable):
                avg = _shadow_variable(var, var.initialized_value(), self._name)
                graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            else:
                avg = _shadow_variable(convert_to_tensor(var), init_ops.zeros_initializer(), self._name)
                if self._zero_debias:
                    debiased.add(id(avg))
            self._averages[var] = avg
        with graph.name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                num_updates = math_ops.cast(self._num_updates, dtypes.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[var], var, decay, id(self._averages[var]) in debiased)
                       for var in var_list]
            return group(*updates, name=scope)

    def average(self, var: Any) -> Variable | None:
        """The shadow variable of ``var``, or None when ``apply`` did not average it."""
        return self._averages.get(var)

    def average_name(self, var: Any) -> str:
        """The shadow's op name: ``<var>/<name>`` (what a Saver stores the average under)."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(f"{var.op.name}/{self._name}", mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables: Any = None) -> dict[str, Variable]:
        """The Saver ``var_list`` loading each average into its variable, other variables as themselves."""
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        averaged = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in averaged}
        averaged_names = {v.name for v in averaged}
        for v in global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
