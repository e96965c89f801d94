"""Optimizer base: compute_gradients, apply_gradients and minimize, as in TF1."""

from __future__ import annotations

from typing import Any

from gpugraph.autodiff import gradients
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import state_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.control_flow_ops import group
from gpugraph.variables import Variable, trainable_variables

GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2


class Optimizer:
    """Subclasses implement ``_apply_dense(grad, var)`` (and may override ``_prepare``)."""

    GATE_NONE, GATE_OP, GATE_GRAPH = GATE_NONE, GATE_OP, GATE_GRAPH

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name

    def get_name(self) -> str:
        return self._name

    def compute_gradients(self, loss: Any, var_list: Any = None, gate_gradients: int = GATE_OP,
                          aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list[tuple[Tensor | None, Variable]]:
        """``[(gradient or None, variable), ...]`` for each trainable variable."""
        loss = convert_to_tensor(loss)
        if not loss.dtype.base_dtype.is_floating:
            raise ValueError(f"Invalid type {loss.dtype.name} for {loss.name}, expected a floating point type.")
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"Argument is not a tf.Variable: {v!r}")
        grads = gradients(loss, var_list, grad_ys=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None, name: str | None = None) -> Operation:
        """One update op per (gradient, variable); then ``global_step`` += 1 if given."""
        pairs = [(g, v) for g, v in grads_and_vars]
        if not pairs:
            raise ValueError("No variables provided.")
        with_grad = [(g, v) for g, v in pairs if g is not None]
        if not with_grad:
            raise ValueError(f"No gradients provided for any variable: {[v.name for _, v in pairs]}.")
        graph = get_default_graph()
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            updates = []
            for g, v in with_grad:
                # update ops live on the variable's device, as TF1 colocates them
                with graph.name_scope("update_" + v.op.name), graph.colocate_with(v):
                    updates.append(self._apply_dense(convert_to_tensor(g), v))
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
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        if all(g is None for g, _ in grads_and_vars):
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[v.name for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    # --- slots (optimizers with per-variable state override these) ---
    def get_slot_names(self) -> list[str]:
        return []

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        return None

    def variables(self) -> list[Variable]:
        return []

    # --- hooks ---
    def _prepare(self) -> None:
        """Convert hyper-parameters to tensors, once per apply_gradients."""

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        raise TypeError(f"{type(self).__name__} does not define an update rule")

    def _finish(self, update_ops: list[Any], name_scope: str) -> Operation:
        return group(*update_ops, name=name_scope)
