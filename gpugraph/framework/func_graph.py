"""FuncGraph: the sub-graph of a control-flow op (a cond branch, a loop's cond or body).

Design. tf.cond and tf.while_loop are functional ops (If, While), as TF2's cond_v2/while_v2: each branch,
loop condition and body is traced into a FuncGraph, and the op holds it as a ``Function`` attribute
(the graph plus the tensors fed and fetched). Nothing of a function is a node of the outer graph.

- Capture: while a FuncGraph is the default graph, a tensor of an enclosing graph used as an op input
  is replaced by a placeholder inside (``capture``), and the control-flow op takes the outer tensor as
  an extra input (TF2's FuncGraph.capture); nested functions capture through every level.
- Lifting: variables made while tracing are created in the outermost graph (``lifted_to_outermost``),
  under the function's name scope, so they are initialized, saved and trained as any other.
- In-place updates: a ref input (Assign, scatter, an optimizer step) naming a variable of an enclosing
  graph stays that outer tensor, not a capture; its step binds the session's cell as outside.
  ``updates_variables`` tells the scheduler that the If/While holding it writes state.
- Sub-plans: binding an If/While compiles each Function into a plan of its own (same passes, on the
  op's device); running the op runs the chosen branch or iterates the body, reading only the predicate
  on the host. Gradients (If, WhileGrad) are Functions built in the same FuncGraphs.
- Meta graphs store each FuncGraph once in a ``function_library`` (gpugraph/train/function_library.py).
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any, Iterator

from gpugraph.framework import graph as graph_lib
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Tensor


class FuncGraph(Graph):
    """A graph traced from a Python function; ``inputs`` are its placeholders, ``outputs`` its results."""

    def __init__(self, name: str, outer_graph: Graph, name_scope: str = "",
                 names_in_use: dict[str, int] | None = None):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.captures: dict[Tensor, Tensor] = {}  # outer tensor -> its placeholder here
        if names_in_use is not None:
            self._names_in_use = names_in_use  # shared by the sub-graphs of one op: TF1-like unique names
        self._collections = outer_graph._collections
        self.seed = outer_graph.seed
        self._scope = name_scope

    @property
    def _state(self) -> Any:
        s = self._local
        if not hasattr(s, "name_stack"):
            s.name_stack = self._scope  # names continue the enclosing scope: "while/add"
            s.control_stack = []
            s.device_stack = []
            s.colocation_stack = []
        return s

    @property
    def outermost_graph(self) -> Graph:
        return self.outer_graph.outermost_graph

    @property
    def _variable_store(self) -> Any:
        return self.outermost_graph._variable_store

    @_variable_store.setter
    def _variable_store(self, value: Any) -> None:
        if value is not None:
            self.outermost_graph._variable_store = value

    def is_enclosed_by(self, graph: Graph) -> bool:
        g: Any = self.outer_graph
        while g is not None:
            if g is graph:
                return True
            g = getattr(g, "outer_graph", None)
        return False

    def capture(self, tensor: Tensor) -> Tensor:
        """The placeholder standing for ``tensor`` (of an enclosing graph) inside this graph."""
        if tensor.graph is self:
            return tensor
        if tensor in self.captures:
            return self.captures[tensor]
        if not self.is_enclosed_by(tensor.graph):
            raise ValueError(f"Tensor {tensor.name} must be from the same graph as the other inputs "
                             f"(it is not in a graph enclosing the function '{self.name}').")
        outer = tensor
        if tensor.graph is not self.outer_graph:
            outer = self.outer_graph.capture(tensor)  # nested functions capture through each level
        from gpugraph.ops.constant_ops import PLACEHOLDER

        with self.as_default(), self.control_dependencies(None), self.name_scope(None):
            ph = PLACEHOLDER(name="capture", dtype=tensor.dtype.base_dtype, shape=tensor.shape)
        self.captures[outer] = ph
        if outer is not tensor:
            self.captures[tensor] = ph
        return ph

    def outer_captures(self) -> list[Tensor]:
        """The captured tensors of the enclosing graph, in capture order (one per placeholder)."""
        seen: dict[Tensor, Tensor] = {}
        for outer, ph in self.captures.items():
            if outer.graph is self.outer_graph and ph not in seen:
                seen[ph] = outer
        return list(seen.values())

    def control_dependencies(self, control_inputs: Any) -> Any:
        """Outer tensors become captures (their values are ready before the op runs); outer
        operations are dropped: they cannot be ordered inside the sub-graph."""
        if control_inputs is not None:
            kept = []
            for c in control_inputs:
                el = c._as_graph_element() if hasattr(c, "_as_graph_element") else c
                graph = getattr(el, "graph", self)
                if graph is self:
                    kept.append(c)
                elif isinstance(el, Tensor) and self.is_enclosed_by(graph):
                    kept.append(self.capture(el if not el.dtype.is_ref else c._as_tensor()).op)
                elif not self.is_enclosed_by(graph):
                    kept.append(c)  # the usual error names it
            control_inputs = kept
        return super().control_dependencies(control_inputs)

    @contextlib.contextmanager
    def colocate_with(self, op: Any, ignore_existing: bool = False) -> Iterator[None]:
        """Colocation with an op of an enclosing graph (an optimizer update of an outer variable) is a
        no-op: a sub-plan runs on the device of the control-flow op holding it."""
        el = op._as_graph_element() if hasattr(op, "_as_graph_element") else op
        graph = getattr(el, "graph", self)
        if graph is not self and self.is_enclosed_by(graph):
            yield
            return
        with super().colocate_with(op, ignore_existing):
            yield

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        graph_lib._tracing[0] += 1
        try:
            with super().as_default() as g:
                yield g
        finally:
            graph_lib._tracing[0] -= 1


@dataclass(frozen=True, eq=False)
class Function:
    """A sub-graph as a control-flow op sees it: placeholders fed, tensors computed."""

    graph: FuncGraph
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]

    def __repr__(self) -> str:
        return f"Function({self.graph.name!r}, {len(self.inputs)} inputs, {len(self.outputs)} outputs)"


def updates_variables(op: Any) -> bool:
    """Whether ``op`` writes variables in place: a ref-input op, or a control-flow op whose functions
    (at any depth) hold one writing a variable of an enclosing graph. Schedules order it as a write."""
    if op.opdef.ref_input:
        return True
    functions = [v for v in op._attrs.values() if isinstance(v, Function)]
    if not functions:
        return False
    cached = _writes_cache.get(op)
    if cached is None:
        cached = _writes_cache[op] = any(_function_writes(fn) for fn in functions)
    return cached


def _function_writes(fn: Function) -> bool:
    from gpugraph.framework.traversal import needed_ops

    for inner in needed_ops(list(fn.outputs), set(fn.inputs)):
        if inner.opdef.ref_input and any(t.graph is not fn.graph for t in inner.inputs[:inner.opdef.ref_input]):
            return True
        if updates_variables(inner):
            return True
    return False


_writes_cache: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def current_function_graph() -> FuncGraph | None:
    if not graph_lib._tracing[0]:
        return None
    g = graph_lib.get_default_graph()
    return g if isinstance(g, FuncGraph) else None


def maybe_capture(tensor: Tensor) -> Tensor:
    """``tensor``, or its capture when a FuncGraph is being traced and it belongs to an outer graph."""
    g = current_function_graph()
    if g is None or tensor.graph is g:
        return tensor
    return g.capture(tensor)


@contextlib.contextmanager
def lifted_to_outermost(graph: Graph) -> Iterator[Graph]:
    """For variable creation: the outermost graph, under the function's current name scope."""
    if not isinstance(graph, FuncGraph):
        yield graph
        return
    outer = graph.outermost_graph
    scope = graph.get_name_scope()
    with outer.as_default(), outer.name_scope(scope + "/" if scope else None):
        yield outer
