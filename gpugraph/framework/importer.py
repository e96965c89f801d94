"""``tf.import_graph_def``: the nodes of a GraphDef (written by gpugraph or by TensorFlow) as ops of a graph."""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Sequence

import numpy as np

from gpugraph.framework import graph_def as gd
from gpugraph.framework.graph import Graph, get_default_graph
from gpugraph.framework.op_forms import ALIASES, IMPORT_FORMS, TF_DEFAULTS
from gpugraph.framework.tensor import Operation, Tensor

__all__ = ["import_graph_def"]


def import_graph_def(graph_def: Any, input_map: dict[str, Any] | None = None,
                     return_elements: Sequence[str] | None = None, name: str | None = None,
                     op_dict: Any = None, producer_op_list: Any = None) -> list[Any] | None:
    """Import ``graph_def``'s nodes into the default graph under the scope ``name`` ("import" by default).

    ``input_map`` replaces tensors of the GraphDef ("name:0" or "name") with tensors of the graph;
    ``return_elements`` names the ops ("name") and tensors ("name:0") to return, in order.
    """
    if not isinstance(graph_def, gd.GraphDef):
        raise TypeError("Argument `graph_def` must be a GraphDef proto.")
    graph = get_default_graph()
    input_map = _canonical_input_map(input_map, graph)
    if isinstance(return_elements, str):
        return_elements = [return_elements]
    nodes = {node.name: node for node in graph_def.node}
    _check_requests(nodes, input_map, return_elements)
    with graph.name_scope("import" if name is None else name) as scope:
        builder = _Builder(graph, nodes, scope, input_map)
        with graph.control_dependencies(None), graph.name_scope(None):
            for node in _topological(graph_def.node, nodes):
                if not (gd.FOLDED in node.attr and node.attr[gd.FOLDED].b):
                    builder.op(node.name)
    if return_elements is None:
        return None
    out = []
    for element in return_elements:
        if ":" in element:
            op_name, _, index = element.rpartition(":")
            out.append(builder.op(op_name).outputs[int(index)])
        else:
            out.append(builder.op(element.lstrip("^")))
    return out


def _canonical_input_map(input_map: dict[str, Any] | None, graph: Graph) -> dict[str, Tensor]:
    out: dict[str, Tensor] = {}
    for key, value in (input_map or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"input_map must have string keys, got {key!r}.")
        from gpugraph.ops.constant_ops import convert_to_tensor

        tensor = value if isinstance(value, Tensor) else convert_to_tensor(value)
        if tensor.graph is not graph:
            raise ValueError(f"node '{tensor.op.name}' in input_map does not exist in graph "
                             f"(input_map entry: {key}->{tensor.name})")
        out[key if ":" in key or key.startswith("^") else f"{key}:0"] = tensor
    return out


def _check_requests(nodes: dict[str, Any], input_map: dict[str, Tensor], return_elements: Any) -> None:
    missing = [key for key in input_map if key.lstrip("^").rpartition(":")[0 if ":" in key else 2] not in nodes]
    if missing:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(missing)}]")
    for element in return_elements or ():
        if ":" in element:
            op_name, _, index = element.rpartition(":")
            if op_name not in nodes:
                raise ValueError(f"Requested return tensor '{element}' not found in graph def")
            if not index.isdigit():
                raise ValueError(f"Requested return tensor '{element}' is not a valid tensor name")
        elif element.lstrip("^") not in nodes:
            raise ValueError(f"Requested return node '{element}' not found in graph def")


def _topological(order: Sequence[Any], nodes: dict[str, Any]) -> list[Any]:
    """Producers before consumers, keeping the file's order otherwise; a cycle is refused."""
    done: set[str] = set()
    out: list[Any] = []
    for start in order:
        stack: list[tuple[Any, bool]] = [(start, False)]
        visiting: set[str] = set()
        while stack:
            node, expanded = stack.pop()
            if node.name in done:
                continue
            if expanded:
                visiting.discard(node.name)
                done.add(node.name)
                out.append(node)
                continue
            if node.name in visiting:
                raise ValueError(f"GraphDef has a cycle through node '{node.name}'; gpugraph imports no "
                                 f"TF1 while-loop (Enter/NextIteration) graphs.")
            visiting.add(node.name)
            stack.append((node, True))
            for ref in reversed(node.input):
                producer = nodes.get(_op_name(ref))
                if producer is None:
                    raise ValueError(f"Node '{node.name}': input '{ref}' is not in the graph_def.")
                if producer.name not in done:
                    stack.append((producer, False))
    return out


def _op_name(ref: str) -> str:
    ref = ref.lstrip("^")
    head, sep, tail = ref.rpartition(":")
    return head if sep and tail.isdigit() else ref


def _tensor_key(ref: str) -> str:
    """'x' -> 'x:0'; 'x:1' stays."""
    op_name = _op_name(ref)
    return ref if op_name != ref else f"{ref}:0"


class _Builder:
    """Makes each node's op on first demand (folded Consts only when some input needs them as tensors)."""

    def __init__(self, graph: Graph, nodes: dict[str, Any], scope: str, input_map: dict[str, Tensor]):
        self.graph, self.nodes, self.scope, self.input_map = graph, nodes, scope, input_map
        self.built: dict[str, Operation] = {}

    def op(self, name: str) -> Operation:
        op = self.built.get(name)
        if op is None:
            op = self._build(self.nodes[name])
            self.built[name] = op
        return op

    def tensor(self, ref: str) -> Tensor:
        key = _tensor_key(ref)
        if key in self.input_map:
            return self.input_map[key]
        op_name, _, index_text = key.rpartition(":")
        index = int(index_text)
        op = self.op(op_name)
        if index >= len(op.outputs):
            raise ValueError(f"Invalid input '{ref}': node '{op_name}' has {len(op.outputs)} output(s)")
        return op.outputs[index]

    def constant(self, ref: str) -> np.ndarray | None:
        """The value of input ``ref`` when its producer is a Const (and not replaced by input_map)."""
        op_name = _op_name(ref)
        node = self.nodes.get(op_name)
        if f"{op_name}:0" in self.input_map or node is None or node.op != "Const":
            return None
        return gd.ndarray_of(node.attr["value"].tensor)

    def _check_mapped(self, node: Any, index: int, ref: str, tensor: Tensor) -> None:
        """A tensor from input_map must have the type of the one it replaces (which is imported too, as TF does)."""
        op_name = _op_name(ref)
        original = self.op(op_name).outputs[int(ref.rpartition(":")[2]) if op_name != ref else 0]
        if tensor is not original and tensor.dtype.base_dtype != original.dtype.base_dtype:
            raise ValueError(f"Input {index} of node {self.scope}{node.name} was passed {tensor.dtype.base_dtype.name} "
                             f"from {tensor.name} incompatible with expected {original.dtype.base_dtype.name}.")

    def _build(self, node: Any) -> Operation:
        from gpugraph.ops.registry import REGISTRY, run_infer

        if gd.UNWRITTEN in node.attr:
            lost = ", ".join(s.decode() for s in node.attr[gd.UNWRITTEN].list.s)
            raise ValueError(f"Node '{node.name}' ({node.op}) cannot be imported: its attrs {lost} were not "
                             f"written to the GraphDef.")
        data = [ref for ref in node.input if not ref.startswith("^")]
        view = _NodeView(node, data, self)
        op_type = ALIASES.get(node.op, node.op)
        form = IMPORT_FORMS.get(op_type)
        if form is not None:
            new_type, used, attrs = form(view)
            op_type = new_type or op_type
        else:
            used, attrs = list(range(len(data))), None
        opdef = REGISTRY.get(op_type)
        if opdef is None:
            raise ValueError(f"Node '{node.name}': Op type not registered '{node.op}' in gpugraph.")
        inputs = [view.tensor(i) for i in used]
        if attrs is None:
            attrs = _generic_attrs(opdef, view.attrs)
        if gd.GPUGRAPH_ATTRS in node.attr:
            attrs.update(gd.decode_attrs(node.attr[gd.GPUGRAPH_ATTRS], self.graph))
        name = self.scope + node.name
        control = [self.input_map[ref].op if ref in self.input_map else self.op(ref[1:])
                   for ref in node.input if ref.startswith("^")]
        _mark_scopes_used(self.graph, name)
        device = node.device
        with self.graph.device(device) if device else contextlib.nullcontext():
            try:
                specs = run_infer(opdef, inputs, attrs, name)
            except (TypeError, ValueError) as e:
                raise ValueError(f"Node '{name}' ({node.op}) cannot be imported: {e}") from None
            op = self.graph.create_op(opdef, inputs, attrs, specs, name=name)
        for c in control:
            op._add_control_input(c)
        return op


class _NodeView:
    """What an import form reads of a node: its attrs (with TF's defaults), input names and constant values."""

    def __init__(self, node: Any, data: list[str], builder: _Builder):
        self.name = node.name
        self.num_inputs = len(data)
        self._node, self._data, self._builder = node, data, builder
        self.attrs = dict(TF_DEFAULTS.get(ALIASES.get(node.op, node.op), {}))
        self.attrs.update({k: gd.from_attr_value(v) for k, v in node.attr.items() if not k.startswith("_")})

    def input_name(self, index: int) -> str:
        return self._data[index]

    def tensor(self, index: int) -> Tensor:
        """Input ``index`` as a tensor (made now: folded Consts only when an op takes them)."""
        ref = self._data[index]
        tensor = self._builder.tensor(ref)
        if _tensor_key(ref) in self._builder.input_map:
            self._builder._check_mapped(self._node, index, ref, tensor)
        return tensor

    def constant(self, index: int) -> np.ndarray | None:
        if index < 0 or index >= self.num_inputs:
            raise ValueError(f"Node '{self.name}' has {self.num_inputs} inputs, not {index + 1}")
        value = self._builder.constant(self._data[index])
        if value is not None:
            return value
        from gpugraph.ops.shape_fns import constant_value

        known = constant_value(self.tensor(index))  # e.g. an input_map tensor fixed at build time
        return None if known is None else np.asarray(known)


def _generic_attrs(opdef: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    """TF's attrs the op's shape function takes: type attrs and TF-only options dropped."""
    candidates = {k: v for k, v in attrs.items() if k not in gd.TYPE_ATTRS}
    params = inspect.signature(opdef.infer).parameters.values()
    var = [p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    if var:
        return {} if var[0] == "_" else candidates
    names = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return {k: v for k, v in candidates.items() if k in names}


def _mark_scopes_used(graph: Graph, name: str) -> None:
    """A later ``name_scope('a')`` after importing 'a/b' becomes 'a_1', as after building it."""
    parts = name.split("/")
    for i in range(1, len(parts)):
        scope = "/".join(parts[:i])
        if graph.unique_name(scope, mark_as_used=False) == scope:
            graph.unique_name(scope)
