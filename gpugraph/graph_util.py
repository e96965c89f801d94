"""``tf.graph_util``: pruning and freezing GraphDefs, as TF1's graph_util does."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any, Iterable, Sequence

from gpugraph.framework import graph_def as gd
from gpugraph.framework.importer import import_graph_def

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "remove_training_nodes", "must_run_on_cpu",
           "import_graph_def"]

_VARIABLE_OPS = frozenset({"Variable", "VariableV2", "AutoReloadVariable", "VarHandleOp"})
_DT_INT32, _DT_STRING = 3, 7


def _node_name(ref: str) -> str:
    ref = ref[1:] if ref.startswith("^") else ref
    return ref.split(":")[0]


def _colocated_name(entry: bytes) -> str:
    text = entry.decode("utf-8")
    if not text.startswith("loc:@"):
        raise ValueError(f"Expected a colocation attr of the form loc:@<name>, got {text!r}")
    return text[5:]


def _summary(graph_def: Any) -> tuple[dict[str, list[str]], dict[str, Any], dict[str, int]]:
    inputs: dict[str, list[str]] = {}
    nodes: dict[str, Any] = {}
    order: dict[str, int] = {}
    for seq, node in enumerate(graph_def.node):
        name = _node_name(node.name)
        nodes[name] = node
        inputs[name] = [_node_name(ref) for ref in node.input]
        if "_class" in node.attr:  # keep what a node is colocated with
            inputs[name] += [_colocated_name(s) for s in node.attr["_class"].list.s]
        order[name] = seq
    return inputs, nodes, order


def _copy_header(source: Any, out: Any) -> None:
    """Versions, and the function library where the GraphDef class has one."""
    out.versions.CopyFrom(source.versions)
    if "library" in type(out).DESCRIPTOR.fields_by_name:
        out.library.CopyFrom(source.library)


def extract_sub_graph(graph_def: Any, dest_nodes: Iterable[str]) -> Any:
    """The nodes of ``graph_def`` that ``dest_nodes`` (node names) depend on, in their original order."""
    if not isinstance(graph_def, gd.GraphDef):
        raise TypeError(f"graph_def must be a graph_pb2.GraphDef proto, but got type {type(graph_def)}.")
    if isinstance(dest_nodes, str):
        raise TypeError(f"dest_nodes must be an iterable of strings, but got type {type(dest_nodes)}.")
    dest_nodes = list(dest_nodes)
    inputs, nodes, order = _summary(graph_def)
    for name in dest_nodes:
        assert name in nodes, f"{name} is not in graph"
    keep: set[str] = set()
    todo = deque(dest_nodes)
    while todo:
        name = todo.popleft()
        if name in keep:
            continue
        keep.add(name)
        todo.extend(inputs.get(name, ()))
    out = gd.GraphDef()
    out.node.extend(copy.deepcopy(nodes[n]) for n in sorted(keep & set(nodes), key=order.__getitem__))
    _copy_header(graph_def, out)
    return out


def convert_variables_to_constants(sess: Any, input_graph_def: Any, output_node_names: Sequence[str],
                                   variable_names_whitelist: Iterable[str] | None = None,
                                   variable_names_blacklist: Iterable[str] | None = None) -> Any:
    """``input_graph_def`` pruned to ``output_node_names``, each variable a Const of its value in ``sess``."""
    from gpugraph import tf_logging

    allowed = None if variable_names_whitelist is None else set(variable_names_whitelist)
    denied = set(variable_names_blacklist or ())
    sub = extract_sub_graph(input_graph_def, output_node_names)
    names = [n.name for n in sub.node if n.op in _VARIABLE_OPS
             and (allowed is None or n.name in allowed) and n.name not in denied]
    values = dict(zip(names, sess.run([f"{n}:0" for n in names]))) if names else {}
    out = gd.GraphDef()
    for node in sub.node:
        new = copy.deepcopy(node)
        if node.name in values:
            import numpy as np

            new = type(node)(name=node.name, op="Const")
            dtype = node.attr["dtype"].type
            new.attr["dtype"].type = dtype
            value = np.asarray(values[node.name], dtype=gd.dtype_of_enum(dtype).np_dtype)
            new.attr["value"].tensor.CopyFrom(gd.tensor_proto(value))
            if node.device:
                new.device = node.device
        out.node.append(new)
    _copy_header(sub, out)
    tf_logging.info("Froze %d variables.", len(values))
    tf_logging.info("Converted %d variables to const ops.", len(values))
    return out


def remove_training_nodes(input_graph: Any, protected_nodes: Iterable[str] | None = None) -> Any:
    """``input_graph`` without CheckNumerics nodes, and with Identity/StopGradient nodes spliced out
    unless protected, in a control edge, or a colocation target."""
    protected = set(protected_nodes or ())
    removed = {n.name for n in input_graph.node if n.op == "CheckNumerics" and n.name not in protected}
    kept = []
    for node in input_graph.node:
        if node.name in removed:
            continue
        new = copy.deepcopy(node)
        del new.input[:]
        new.input.extend(ref for ref in node.input if ref.lstrip("^") not in removed)
        kept.append(new)
    control_targets, has_control, colocated = set(), set(), set()
    for node in kept:
        for ref in node.input:
            if ref.startswith("^"):
                control_targets.add(ref[1:])
                has_control.add(node.name)
        if "_class" in node.attr:
            colocated.update(_colocated_name(s) for s in node.attr["_class"].list.s)
    splice = {n.name: n.input[0] for n in kept
              if n.op in ("Identity", "StopGradient") and n.name not in protected and n.name not in colocated
              and n.name not in has_control and n.name not in control_targets}
    out = gd.GraphDef()
    for node in kept:
        if node.name in splice:
            continue
        new = copy.deepcopy(node)
        del new.input[:]
        for ref in node.input:
            while ref.lstrip("^") in splice:
                ref = splice[ref.lstrip("^")]
            new.input.append(ref)
        out.node.append(new)
    return out


def _type_attr(node_def: Any, key: str) -> int:
    return node_def.attr[key].type if key in node_def.attr else 0  # reading a missing key would add it


def must_run_on_cpu(node: Any, pin_variables_on_cpu: bool = False) -> bool:
    """Whether TF1 pins ``node`` (an Operation or NodeDef) to the CPU: int32/string Consts, int32
    DynamicStitch and Cast from int32, and variable ops when ``pin_variables_on_cpu``."""
    node_def = gd.node_def(node) if hasattr(node, "node_def") else node
    if pin_variables_on_cpu and node_def.op in _VARIABLE_OPS:
        return True
    if node_def.op == "Const" and _type_attr(node_def, "dtype") in (_DT_INT32, _DT_STRING):
        return True
    if node_def.op in ("DynamicStitch", "ParallelDynamicStitch") and _type_attr(node_def, "T") == _DT_INT32:
        return True
    return node_def.op == "Cast" and _type_attr(node_def, "SrcT") == _DT_INT32
