"""DistributedOptimizer and the initial-variable broadcast (broadcast_global_variables and its hook)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation
from gpugraph.horovod import basics
from gpugraph.horovod.collectives import Adasum, Average, broadcast, grouped_allreduce
from gpugraph.horovod.compression import Compression
from gpugraph.train.optimizer import Optimizer
from gpugraph.train.session_run_hook import SessionRunHook

__all__ = ["DistributedOptimizer", "broadcast_variables", "broadcast_global_variables",
           "BroadcastGlobalVariablesHook"]


class _DistributedOptimizer(Optimizer):
    """Wraps an optimizer: its gradients are averaged (or summed) over the ranks before they are applied."""

    def __init__(self, optimizer: Optimizer, name: str | None, use_locking: bool, device_dense: str,
                 device_sparse: str, compression: Any, sparse_as_dense: bool, op: int):
        if name is None:
            name = f"Distributed{type(optimizer).__name__}"
        super().__init__(name=name, use_locking=use_locking)
        self._optimizer = optimizer
        self._device_dense = device_dense
        self._device_sparse = device_sparse
        self._compression = compression
        self._sparse_as_dense = sparse_as_dense  # gradients are dense tensors here already
        self._op = op

    def _allreduce_grads(self, grads: list[Any]) -> list[Any]:
        if basics.size() == 1:  # Horovod skips the collective for one rank (its tf.cond on size > 1)
            return list(grads)
        present = [i for i, g in enumerate(grads) if g is not None]
        if not present:
            return list(grads)
        with get_default_graph().name_scope(self._name + "_Allreduce"):
            reduced = grouped_allreduce([grads[i] for i in present], device_dense=self._device_dense,
                                        device_sparse=self._device_sparse, compression=self._compression,
                                        op=self._op)
        out = list(grads)
        for i, g in zip(present, reduced):
            out[i] = g
        return out

    def compute_gradients(self, *args: Any, **kwargs: Any) -> list[tuple[Any, Any]]:
        """The wrapped optimizer's gradients, allreduced over the ranks (fused into buckets)."""
        pairs = self._optimizer.compute_gradients(*args, **kwargs)
        grads = self._allreduce_grads([g for g, _ in pairs])
        return list(zip(grads, [v for _, v in pairs]))

    def apply_gradients(self, *args: Any, **kwargs: Any) -> Operation:
        """The wrapped optimizer's apply_gradients."""
        return self._optimizer.apply_gradients(*args, **kwargs)

    def get_slot(self, *args: Any, **kwargs: Any) -> Any:
        return self._optimizer.get_slot(*args, **kwargs)

    def get_slot_names(self, *args: Any, **kwargs: Any) -> list[str]:
        return self._optimizer.get_slot_names(*args, **kwargs)

    def variables(self, *args: Any, **kwargs: Any) -> list[Any]:
        return self._optimizer.variables(*args, **kwargs)


def DistributedOptimizer(optimizer: Optimizer, name: str | None = None, use_locking: bool = False,  # noqa: N802
                         device_dense: str = "", device_sparse: str = "", compression: Any = Compression.none,
                         sparse_as_dense: bool = False, backward_passes_per_step: int = 1,
                         op: int = Average) -> Optimizer:
    """An optimizer that averages (``op``) the gradients of ``optimizer`` over the ranks before applying them."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Provided optimizer doesn't inherit from either legacy TensorFlow or Keras optimizer: "
                         f"{optimizer}")
    if op == Adasum:
        raise NotImplementedError("gpugraph.horovod does not implement the Adasum reduction; use Average or Sum")
    if backward_passes_per_step > 1:
        raise ValueError("backward_passes_per_step>1 is not supported yet with op != Adasum")
    return _DistributedOptimizer(optimizer, name, use_locking, device_dense, device_sparse, compression,
                                 sparse_as_dense, op)


def broadcast_variables(variables: list[Any], root_rank: int) -> Operation:
    """One op that assigns rank ``root_rank``'s value of each variable to it on every rank."""
    from gpugraph.ops.control_flow_ops import group

    return group(*[var.assign(broadcast(var, root_rank)) for var in variables])


def broadcast_global_variables(root_rank: int) -> Operation:
    """broadcast_variables over every global variable of the default graph."""
    from gpugraph.variables import global_variables

    return broadcast_variables(global_variables(), root_rank)


class BroadcastGlobalVariablesHook(SessionRunHook):
    """Broadcasts every global variable from ``root_rank`` once the session is created (and initialized or
    restored), so all ranks start from the same weights."""

    def __init__(self, root_rank: int, device: str = ""):
        super().__init__()
        self.root_rank = root_rank
        self.bcast_op: Operation | None = None
        self.device = device

    def begin(self) -> None:
        graph = get_default_graph()
        if self.bcast_op is None or self.bcast_op.graph is not graph:
            with graph.device(self.device or None):
                self.bcast_op = broadcast_global_variables(self.root_rank)

    def after_create_session(self, session: Any, coord: Any) -> None:
        session.run(self.bcast_op)
