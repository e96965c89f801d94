"""The global step: one int64 variable in the GLOBAL_STEP collection, as TF1's training_util."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor


def get_global_step(graph: Graph | None = None) -> Any:
    """The global step variable (or ``global_step:0`` tensor); None when there is none."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        return None  # TF1 logs "Multiple tensors in global_step collection." and gives up
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    assert_global_step(step)
    return step


def assert_global_step(global_step_tensor: Any) -> None:
    if not (isinstance(global_step_tensor, Tensor) or hasattr(global_step_tensor, "_ref")):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: {global_step_tensor}.")
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: {global_step_tensor.dtype}")
    if global_step_tensor.get_shape().ndims != 0:
        raise TypeError(f"Existing \"global_step\" is not scalar: {global_step_tensor.get_shape()}")


def create_global_step(graph: Graph | None = None) -> Any:
    """Create ``global_step`` (int64, zero, not trainable); ValueError if one exists."""
    from gpugraph import init_ops
    from gpugraph.variable_scope import get_variable

    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None):
        return get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
                            initializer=init_ops.zeros_initializer(), trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph: Graph | None = None) -> Any:
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The current value of the global step in ``sess``, as a Python int."""
    return int(sess.run(global_step_tensor))
