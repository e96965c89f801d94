"""Optimizer base: compute_gradients, apply_gradients, minimize and slot variables, as in TF1."""

from __future__ import annotations

from typing import Any

from gpugraph import init_ops
from gpugraph.autodiff import gradients
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import array_ops, state_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.control_flow_ops import group
from gpugraph.variable_scope import get_variable, variable_scope
from gpugraph.variables import Variable, trainable_variables

GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2


def _var_key(var: Variable) -> tuple[Graph, str]:
    return var.op.graph, var.op.name


def _check_dtype(t: Any) -> None:
    if not t.dtype.base_dtype.is_floating:
        raise ValueError(f"Invalid type {t.dtype.base_dtype.name} for {t.name}, expected a floating point type.")


def _create_slot(primary: Variable, initializer: Any, shape: Any, dtype: dtypes.DType, name: str) -> Variable:
    """TF1's slot_creator: the variable ``<primary>/<name>`` (made unique as a variable scope: a second
    optimizer's slot is ``<primary>/<name>_1``), not trainable, on the primary's device, created
    outside any control dependencies."""
    graph = primary.graph
    validate = shape is not None and shape.is_fully_defined()
    with graph.as_default(), graph.control_dependencies(None), \
            variable_scope(None, default_name=f"{primary.op.name}/{name}"), \
            graph.colocate_with(primary):
        if not validate:  # shape known only at run time: the initializer's value at the primary's shape
            value = initializer((), dtype=dtype)
            initializer = array_ops.ones_like(primary.initialized_value(), dtype=dtype) * value
            return get_variable("", initializer=initializer, trainable=False,
                                               validate_shape=False)
        return get_variable("", shape=shape, dtype=dtype, initializer=initializer,
                                           trainable=False)


class Optimizer:
    """Subclasses implement ``_apply_dense(grad, var)``; they may override ``_create_slots``,
    ``_prepare`` and ``_finish``."""

    GATE_NONE, GATE_OP, GATE_GRAPH = GATE_NONE, GATE_OP, GATE_GRAPH

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict[tuple[Graph, str], Variable]] = {}
        self._non_slot_dict: dict[tuple[str, Graph], Variable] = {}

    def get_name(self) -> str:
        return self._name

    def compute_gradients(self, loss: Any, var_list: Any = None, gate_gradients: int = GATE_OP,
                          aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list[tuple[Tensor | None, Variable]]:
        """``[(gradient or None, variable), ...]`` for each trainable variable (or those in ``var_list``)."""
        if gate_gradients not in (GATE_NONE, GATE_OP, GATE_GRAPH):
            raise ValueError(f"gate_gradients must be one of: Optimizer.GATE_NONE, Optimizer.GATE_OP, "
                             f"Optimizer.GATE_GRAPH.  Not {gate_gradients}")
        loss = loss if isinstance(loss, Tensor) else convert_to_tensor(loss)  # an outer loss stays uncaptured
        _check_dtype(loss)
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"Argument is not a tf.Variable: {v!r}")
        grads = gradients(loss, var_list, grad_ys=grad_loss)
        pairs = list(zip(grads, var_list))
        for g, v in pairs:
            if g is not None:
                _check_dtype(v)
        return pairs

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None, name: str | None = None) -> Operation:
        """One update op per (gradient, variable); then ``global_step`` += 1 once they all ran."""
        pairs: list[tuple[Tensor | None, Variable]] = []
        for g, v in tuple(grads_and_vars):
            if g is not None:
                try:
                    g = convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError(f"Gradient must be convertible to a Tensor or None: {g}") from None
            pairs.append((g, v))
        if not pairs:
            raise ValueError("No variables provided.")
        var_list = [v for g, v in pairs if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v in pairs]}.")
        graph = get_default_graph()
        with graph.control_dependencies(None):  # TF1's init_scope: slots never wait on other ops
            self._create_slots(var_list)
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            updates = []
            for g, v in pairs:
                if g is None:
                    continue
                # update ops live on the variable's device, as TF1 colocates them
                with graph.name_scope("update_" + v.op.name), graph.colocate_with(v):
                    updates.append(self._apply_dense(g, v))
            if global_step is None:
                train_op = self._finish(updates, scope)
            else:
                with graph.control_dependencies([self._finish(updates, "update")]), \
                        graph.colocate_with(global_step):
                    train_op = state_ops.assign_add(global_step, 1, name=scope).op
        train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if train_op not in train_ops:
            train_ops.append(train_op)
        return train_op

    def minimize(self, loss: Any, global_step: Any = None, var_list: Any = None, gate_gradients: int = GATE_OP,
                 aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                 name: str | None = None, grad_loss: Any = None) -> Operation:
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients, aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if all(g is None for g, _ in grads_and_vars):
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    # --- slots: per-variable state, made once per (optimizer, variable) ---
    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def variables(self) -> list[Variable]:
        """The slots and non-slot variables of this optimizer in the current graph, by name."""
        graph = get_default_graph()
        found = [v for v in self._non_slot_dict.values() if v.graph is graph]
        found += [v for named in self._slots.values() for v in named.values() if v.graph is graph]
        return sorted(found, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict[tuple[Graph, str], Variable]:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot_with_initializer(self, var: Variable, initializer: Any, shape: Any, dtype: Any,
                                           slot_name: str, op_name: str) -> Variable:
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            named[key] = _create_slot(var, initializer, shape, dtypes.as_dtype(dtype).base_dtype, op_name)
        return named[key]

    def _zeros_slot(self, var: Variable, slot_name: str, op_name: str) -> Variable:
        return self._get_or_make_slot_with_initializer(var, init_ops.zeros_initializer(), var.get_shape(),
                                                       var.dtype.base_dtype, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value: Any, name: str, colocate_with: Variable) -> Variable:
        """A variable of the optimizer itself (Adam's beta powers), one per graph."""
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default(), graph.control_dependencies(None), graph.colocate_with(colocate_with):
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph: Graph | None = None) -> Variable | None:
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _non_slot_variables(self) -> list[Variable]:
        return list(self._non_slot_dict.values())

    @staticmethod
    def _call_if_callable(param: Any) -> Any:
        return param() if callable(param) else param

    # --- hooks ---
    def _create_slots(self, var_list: list[Variable]) -> None:
        """Make the slots the update rule needs (once: later calls find them)."""

    def _prepare(self) -> None:
        """Convert hyper-parameters to tensors, once per apply_gradients."""

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define an update rule")

    def _finish(self, update_ops: list[Any], name_scope: str) -> Operation:
        return group(*update_ops, name=name_scope)
