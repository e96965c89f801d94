"""The function graphs of control-flow ops (cond branches, loop conds and bodies, their gradients) in a meta graph.

A Function attribute is stored as a reference into the meta graph's ``function_library``: the index of
its FuncGraph and the names of the Function's inputs and outputs. Several Functions may share one graph
(a branch and its gradient are built in the same FuncGraph), so each graph is stored once, with all its
ops; nested graphs (a loop inside a branch) are entries of their own whose ``outer`` is the enclosing one.
An op input from an enclosing graph (a variable updated in place inside a body) names that graph.
"""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework.func_graph import FuncGraph, Function
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor

NodeExporter = Callable[[Operation, Callable[[str], str], Callable[[Tensor], Any], "FunctionExporter"], dict]
NodeImporter = Callable[[dict, Graph, str, Callable[[Any], Tensor], "FunctionImporter"], Operation]


class FunctionExporter:
    """Collects the FuncGraphs reachable from the exported ops; outer graphs get lower indices."""

    def __init__(self, top: Graph, rename: Callable[[str], str], export_node: NodeExporter):
        self.top = top
        self.rename = rename
        self.export_node = export_node
        self.index: dict[FuncGraph, int] = {}
        self.library: list[dict[str, Any]] = []

    def function(self, fn: Function) -> dict[str, Any]:
        key = self.graph_key(fn.graph)
        return {"function": {"graph": key, "inputs": [t.name for t in fn.inputs],
                             "outputs": [t.name for t in fn.outputs]}}

    def graph_key(self, graph: FuncGraph) -> int:
        if graph in self.index:
            return self.index[graph]
        outer = graph.outer_graph
        outer_key = self.graph_key(outer) if isinstance(outer, FuncGraph) else None
        key = len(self.library)
        self.index[graph] = key
        entry: dict[str, Any] = {"name": graph.name, "outer": outer_key, "scope": graph._scope}
        self.library.append(entry)
        entry["nodes"] = [self.export_node(op, _same_name, self.input_ref(graph), self)
                          for op in graph.get_operations()]
        entry["inputs"] = [t.name for t in graph.inputs]
        entry["outputs"] = [t.name for t in graph.outputs]
        entry["captures"] = [[self.outer_name(outer, t), ph.name] for t, ph in graph.captures.items()
                             if t.graph is outer]
        return key

    def outer_name(self, graph: Graph, tensor: Tensor) -> str:
        return self.rename(tensor.name) if graph is self.top else tensor.name

    def input_ref(self, graph: FuncGraph) -> Callable[[Tensor], Any]:
        def ref(t: Tensor) -> Any:
            if t.graph is graph:
                return t.name
            owner = self.index.get(t.graph) if isinstance(t.graph, FuncGraph) else None
            if owner is None and t.graph is not self.top:
                raise ValueError(f"input {t.name} of a function graph is in no enclosing graph")
            return {"graph": owner, "tensor": self.outer_name(t.graph, t)}
        return ref


def _same_name(name: str) -> str:
    return name


class FunctionImporter:
    """Rebuilds the library's FuncGraphs on demand: a graph is made (empty) before its inner graphs,
    and filled before the op whose attribute names it."""

    def __init__(self, library: Any, top: Graph, prefix: str, import_node: NodeImporter):
        if not isinstance(library, list):
            raise ValueError("function_library must be a list")
        self.library = library
        self.top = top
        self.prefix = prefix
        self.import_node = import_node
        self.shells: dict[int, FuncGraph] = {}
        self.filled: set[int] = set()

    def entry(self, key: Any) -> dict[str, Any]:
        if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < len(self.library):
            raise ValueError(f"unknown function graph {key!r}")
        return self.library[key]

    def graph_of(self, key: Any) -> Graph:
        return self.top if key is None else self.shell(key)

    def shell(self, key: int) -> FuncGraph:
        if key not in self.shells:
            entry = self.entry(key)
            outer = entry["outer"]
            if outer is not None and (not isinstance(outer, int) or outer >= key):
                raise ValueError(f"function graph {key} has a bad outer graph {outer!r}")
            scope = entry["scope"]
            self.shells[key] = FuncGraph(str(entry["name"]), self.graph_of(outer),
                                         self.prefix + scope if scope else scope)
        return self.shells[key]

    def tensor(self, graph: Graph, name: str) -> Tensor:
        return graph.get_tensor_by_name(self.prefix + name if graph is self.top else name)

    def function(self, body: dict[str, Any]) -> Function:
        key = body["graph"]
        graph = self.fill(key)
        return Function(graph, tuple(graph.get_tensor_by_name(n) for n in body["inputs"]),
                        tuple(graph.get_tensor_by_name(n) for n in body["outputs"]))

    def fill(self, key: int) -> FuncGraph:
        graph = self.shell(key)
        if key in self.filled:
            return graph
        self.filled.add(key)  # before the nodes: a graph naming itself fails on a missing tensor, not a loop
        entry = self.entry(key)

        def resolve(ref: Any) -> Tensor:
            if isinstance(ref, str):
                return graph.get_tensor_by_name(ref)
            owner = self.graph_of(ref["graph"])
            if owner is not self.top and not (isinstance(owner, FuncGraph) and graph.is_enclosed_by(owner)):
                raise ValueError(f"input {ref['tensor']} is not in a graph enclosing '{graph.name}'")
            if owner is graph:
                raise ValueError(f"input {ref['tensor']} names its own graph as an outer one")
            return self.tensor(owner, ref["tensor"])

        built = [self.import_node(node, graph, "", resolve, self) for node in entry["nodes"]]
        for node, op in zip(entry["nodes"], built):
            for name in node.get("control_inputs", []):
                op._add_control_input(graph.get_operation_by_name(name))
        graph.inputs = [graph.get_tensor_by_name(n) for n in entry["inputs"]]
        graph.outputs = [graph.get_tensor_by_name(n) for n in entry["outputs"]]
        return graph

    def finish(self) -> None:
        """Captures last: they name tensors of outer graphs, built after the graphs they enclose."""
        for key, graph in list(self.shells.items()):
            if key not in self.filled:
                self.fill(key)
            for outer_name, ph_name in self.entry(key)["captures"]:
                graph.captures[self.tensor(graph.outer_graph, outer_name)] = graph.get_tensor_by_name(ph_name)
