"""Meta graphs: a Graph, its collections and a saver's settings as JSON (no pickle), and back.

Every op is stored as its registered type, inputs, control inputs, device and attributes; attribute
values are tagged JSON (DType, TensorShape, tuples, slices, Ellipsis, NumPy arrays as base64, ops
and tensors by name). Importing rebuilds each op from ``REGISTRY[type]``, re-running shape
inference, and recreates the Variable objects listed in the collections. The file carries a SHA-256
of its content, so a damaged file is refused instead of building a different graph. The function
graphs of control-flow ops are stored once each in ``function_library`` (see function_library.py).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import warnings
from typing import Any, Callable

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import Dimension, TensorShape
from gpugraph.ops.registry import REGISTRY, run_infer
from gpugraph.framework.func_graph import Function
from gpugraph.train import checkpoint_io
from gpugraph.train.function_library import FunctionExporter, FunctionImporter
from gpugraph.variables import Variable

FORMAT = "gpugraph-meta-graph"
FORMAT_VERSION = 1


class _Unsupported(TypeError):
    pass


# --- values <-> tagged JSON ---
def encode(value: Any, rename: Callable[[str], str] = lambda n: n, functions: FunctionExporter | None = None) -> Any:
    """A JSON value for an attribute or collection item; ``_Unsupported`` for anything else."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.generic):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, slice):
        return {"slice": [encode(value.start), encode(value.stop), encode(value.step)]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v, rename, functions) for v in value]}
    if isinstance(value, list):
        return {"list": [encode(v, rename, functions) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, rename, functions) for k, v in value.items()}}
    if isinstance(value, dtypes.DType):
        return {"dtype": value.name}
    if isinstance(value, TensorShape):
        return {"shape": None if value.ndims is None else list(value.as_tuple() or ())}
    if isinstance(value, Dimension):
        return {"dim": value.value}
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype == object and all(isinstance(v, (bytes, str)) for v in arr.flat):  # a string tensor's value
            items = [base64.b64encode(v if isinstance(v, bytes) else v.encode("utf-8")).decode("ascii")
                     for v in arr.flat]
            return {"strings": {"items": items, "shape": list(arr.shape), "scalar": isinstance(value, np.generic)}}
        if arr.dtype.kind not in "biufc":
            raise _Unsupported(f"NumPy array of dtype {arr.dtype}")
        data = base64.b64encode(np.asarray(arr, order="C").tobytes()).decode("ascii")
        tag = "ndarray" if isinstance(value, np.ndarray) else "scalar"
        return {tag: data, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if isinstance(value, np.dtype):
        return {"np_dtype": value.str}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Function) and functions is not None:
        return functions.function(value)
    if isinstance(value, Variable):
        return {"variable": rename(value.op.name)}
    if isinstance(value, Operation):
        return {"op": rename(value.name)}
    if isinstance(value, Tensor):
        return {"tensor": rename(value.name)}
    if hasattr(value, "as_saver_def"):  # a Saver in the `savers` collection: kept as its SaverDef, as TF1 does
        saver_def = value.as_saver_def().to_json()
        saver_def["var_map"] = {key: rename(name) for key, name in saver_def["var_map"].items()}
        return {"saver": saver_def}
    raise _Unsupported(f"value of type {type(value).__name__}")


def decode(obj: Any, graph: Graph, prefix: str, variables: dict[str, Variable] | None = None,
           functions: FunctionImporter | None = None) -> Any:
    """The inverse of ``encode``; names get ``prefix`` (the import scope)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if not isinstance(obj, dict):
        raise ValueError(f"malformed value {obj!r}")
    tag = "ndarray" if "ndarray" in obj else "scalar" if "scalar" in obj else next(iter(obj)) if len(obj) == 1 else ""
    body = obj.get(tag)
    if tag == "float":
        return float(body)
    if tag == "ellipsis":
        return Ellipsis
    if tag == "slice":
        return slice(*(decode(v, graph, prefix) for v in body))
    if tag in ("tuple", "list"):
        items = [decode(v, graph, prefix, variables, functions) for v in body]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        return {k: decode(v, graph, prefix, variables, functions) for k, v in body.items()}
    if tag == "dtype":
        return dtypes.as_dtype(body)
    if tag == "shape":
        return TensorShape(None if body is None else [None if d is None else int(d) for d in body])
    if tag == "dim":
        return Dimension(body)
    if tag in ("ndarray", "scalar"):
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "biufc":
            raise ValueError(f"array dtype {dtype} is not allowed")
        arr = np.frombuffer(base64.b64decode(body, validate=True), dtype=dtype).reshape(obj["shape"]).copy()
        arr.setflags(write=False)  # the graph owns its constants
        return arr[()] if tag == "scalar" else arr
    if tag == "strings":
        strings = np.empty(len(body["items"]), dtype=object)
        strings[:] = [base64.b64decode(v, validate=True) for v in body["items"]]
        strings = strings.reshape(body["shape"])
        strings.setflags(write=False)
        return strings[()] if body["scalar"] else strings
    if tag == "np_dtype":
        return np.dtype(body)
    if tag == "bytes":
        return base64.b64decode(body, validate=True)
    if tag == "op":
        return graph.get_operation_by_name(prefix + body)
    if tag == "tensor":
        return graph.get_tensor_by_name(prefix + body)
    if tag == "variable":
        if variables is None or prefix + body not in variables:
            raise ValueError(f"unknown variable '{body}'")
        return variables[prefix + body]
    if tag == "function":
        if functions is None:
            raise ValueError("a function graph outside an op attribute")
        return functions.function(body)
    if tag == "saver":
        from gpugraph.train.saver import Saver, SaverDef

        with graph.as_default():
            return Saver(saver_def=SaverDef.from_json(body, prefix))
    raise ValueError(f"unknown value tag '{tag}'")


# --- export ---
def export_graph(graph: Graph, collection_list: Any = None, export_scope: str | None = None,
                 clear_devices: bool = False, saver_def: dict[str, Any] | None = None) -> dict[str, Any]:
    """The meta graph of ``graph`` as a JSON-ready dict."""
    scope = export_scope.rstrip("/") + "/" if export_scope else ""

    def in_scope(name: str) -> bool:
        return name.startswith(scope)

    def rename(name: str) -> str:
        if not in_scope(name):
            raise _Unsupported(f"'{name}' is outside export scope '{export_scope}'")
        return name[len(scope):]

    def export_node(op: Operation, rename: Callable[[str], str], input_ref: Callable[[Tensor], Any],
                    functions: FunctionExporter) -> dict[str, Any]:
        if REGISTRY.get(op.type) is not op.opdef:
            raise ValueError(f"Cannot export op '{op.name}': its type '{op.type}' is not the registered op "
                             f"of that name, so it could not be rebuilt.")
        node: dict[str, Any] = {"name": rename(op.name), "op": op.type}
        try:
            node["inputs"] = [input_ref(t) for t in op.inputs]
            node["control_inputs"] = [rename(c.name) for c in op.control_inputs]
        except (_Unsupported, ValueError) as e:
            raise ValueError(f"Cannot export op '{op.name}': {e}") from None
        node["device"] = "" if clear_devices else op.device
        attrs = {}
        for key, value in sorted(op.attrs.items()):
            try:
                attrs[key] = encode(value, rename, functions)
            except _Unsupported as e:
                raise TypeError(f"Cannot serialize attr '{key}' of op '{op.name}' (type {op.type}): {e}. "
                                f"Supported: None, bool, int, float, str, tuple, list, dict, slice, Ellipsis, "
                                f"DType, TensorShape, NumPy arrays and scalars, Operations, Tensors and "
                                f"the functions of control-flow ops.") from None
        node["attrs"] = attrs
        node["outputs"] = [{"dtype": t.dtype.name, "shape": encode(t.shape)} for t in op.outputs]
        return node

    functions = FunctionExporter(graph, rename, export_node)
    nodes = [export_node(op, rename, lambda t: rename(t.name), functions)
             for op in graph.get_operations() if in_scope(op.name)]

    keys = graph.get_all_collection_keys() if collection_list is None else list(collection_list)
    collections: dict[str, list[Any]] = {}
    variables: dict[str, dict[str, Any]] = {}
    for key in keys:
        items = []
        try:
            for item in graph.get_collection(key):
                if isinstance(item, (Variable, Operation, Tensor)) and not in_scope(item.name):
                    continue  # TF1 leaves out what lies outside the export scope
                if isinstance(item, Variable):
                    variables[rename(item.op.name)] = _variable_def(item, rename)
                items.append(encode(item, rename))
        except _Unsupported as e:
            warnings.warn(f"Collection '{key}' is not exported: {e} cannot be serialized.", stacklevel=3)
            continue
        collections[key] = items

    from gpugraph import __version__

    meta: dict[str, Any] = {
        "meta_info_def": {"gpugraph_version": __version__, "stripped_op_list": sorted(
            {n["op"] for n in nodes} | {n["op"] for f in functions.library for n in f["nodes"]})},
        "graph_def": {"node": nodes},
        "variables": variables,
        "collection_def": collections,
    }
    if functions.library:
        meta["function_library"] = functions.library
    if saver_def is not None:
        meta["saver_def"] = saver_def
    return meta


def _variable_def(var: Variable, rename: Callable[[str], str]) -> dict[str, Any]:
    return {"initializer": rename(var.initializer.name), "snapshot": rename(var.value().name),
            "initial_value": rename(var.initial_value.name), "trainable": var.trainable}


def _canonical(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def write_meta_graph(path: str, meta: dict[str, Any]) -> None:
    """Write ``meta`` crash-safe, with the SHA-256 of its canonical form."""
    body = _canonical(meta)
    envelope = {"format": FORMAT, "version": FORMAT_VERSION, "sha256": hashlib.sha256(body).hexdigest(),
                "meta_graph": meta}
    text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), allow_nan=False)
    checkpoint_io.atomic_write(path, text.encode("ascii") + b"\n")


def read_meta_graph(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The meta graph stored at ``path``, verified; NotFoundError / DataLossError naming the file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"Meta graph file {path} not found") from None
    except OSError as e:
        raise errors.NotFoundError(None, None, f"Cannot read meta graph file {path}: {e}") from None
    try:
        envelope = json.loads(raw.decode("utf-8"))
        ok = isinstance(envelope, dict) and envelope.get("format") == FORMAT
        meta = envelope["meta_graph"] if ok else None
        digest_ok = ok and isinstance(meta, dict) and \
            hashlib.sha256(_canonical(meta)).hexdigest() == envelope.get("sha256")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise errors.DataLossError(None, None, f"Meta graph file {path} is corrupted: {e}") from None
    if not ok:
        raise errors.DataLossError(None, None, f"{path} is not a gpugraph meta graph file")
    if envelope.get("version") != FORMAT_VERSION:
        raise errors.DataLossError(None, None, f"Meta graph file {path} has unknown version "
                                               f"{envelope.get('version')!r}")
    if not digest_ok:
        raise errors.DataLossError(None, None, f"Meta graph file {path} is corrupted: checksum mismatch")
    return meta


# --- import ---
def import_graph(meta: dict[str, Any], graph: Graph, import_scope: str | None = None,
                 clear_devices: bool = False, source: str = "meta graph") -> dict[str, Variable]:
    """Rebuild ``meta``'s ops, variables and collections in ``graph``; returns the variables by name."""
    prefix = import_scope.rstrip("/") + "/" if import_scope else ""
    try:
        nodes = meta["graph_def"]["node"]
        var_defs = meta.get("variables", {})
        collections = meta.get("collection_def", {})
    except (KeyError, TypeError) as e:
        raise errors.InvalidArgumentError(None, None, f"Bad {source}: missing {e}") from None
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
        def import_node(node: Any, into: Graph, node_prefix: str, resolve: Callable[[Any], Tensor],
                        functions: FunctionImporter) -> Operation:
            return _import_node(node, into, node_prefix, clear_devices, source, resolve, functions)

        try:
            functions = FunctionImporter(meta.get("function_library", []), graph, prefix, import_node)
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, f"Bad {source}: {e}") from None
        built = [import_node(node, graph, prefix, _top_resolver(graph, prefix, node), functions) for node in nodes]
        try:
            functions.finish()
        except (KeyError, TypeError, ValueError) as e:
            raise errors.InvalidArgumentError(None, None, f"Bad {source}: function graphs: {e}") from None
        for node, op in zip(nodes, built):
            for name in node.get("control_inputs", []):
                op._add_control_input(_lookup(graph.get_operation_by_name, prefix + name, node, source))
        variables = {}
        for name, vdef in var_defs.items():
            try:
                variables[prefix + name] = Variable._from_graph_elements(
                    graph.get_tensor_by_name(f"{prefix}{name}:0"),
                    graph.get_operation_by_name(prefix + vdef["initializer"]),
                    graph.get_tensor_by_name(prefix + vdef["snapshot"]),
                    graph.get_tensor_by_name(prefix + vdef["initial_value"]), bool(vdef["trainable"]))
            except (KeyError, TypeError, ValueError) as e:
                raise errors.InvalidArgumentError(None, None, f"Bad {source}: variable '{name}': {e}") from None
        for key, items in collections.items():
            try:
                values = [decode(item, graph, prefix, variables) for item in items]
            except (KeyError, TypeError, ValueError) as e:
                raise errors.InvalidArgumentError(None, None, f"Bad {source}: collection '{key}': {e}") from None
            for value in values:
                graph.add_to_collection(key, value)
    return variables


def _lookup(fn: Callable[[str], Any], name: str, node: dict[str, Any], source: str) -> Any:
    try:
        return fn(name)
    except (KeyError, ValueError, TypeError) as e:
        raise errors.InvalidArgumentError(None, None, f"Bad {source}: node '{node.get('name')}': {e}") from None


def _top_resolver(graph: Graph, prefix: str, node: Any) -> Callable[[Any], Tensor]:
    def resolve(name: Any) -> Tensor:
        if not isinstance(name, str):
            raise ValueError(f"bad input {name!r}")
        return graph.get_tensor_by_name(prefix + name)
    return resolve


def _import_node(node: dict[str, Any], graph: Graph, prefix: str, clear_devices: bool, source: str,
                 resolve: Callable[[Any], Tensor], functions: FunctionImporter) -> Operation:
    try:
        name = prefix + node["name"]
        op_type = node["op"]
        opdef = REGISTRY.get(op_type)
        if opdef is None:
            raise ValueError(f"Op type not registered '{op_type}'")
        inputs = [resolve(t) for t in node["inputs"]]
        attrs = {k: decode(v, graph, prefix, None, functions) for k, v in node["attrs"].items()}
        outputs = node["outputs"]
        device = "" if clear_devices else node.get("device", "")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        where = node.get("name") if isinstance(node, dict) else node
        raise errors.InvalidArgumentError(
            None, None, f"Bad {source}: node '{where}': {type(e).__name__}: {e}") from None
    _mark_scopes_used(graph, name)
    with graph.device(device) if device else contextlib.nullcontext():
        specs = run_infer(opdef, inputs, attrs, name)
        op = graph.create_op(opdef, inputs, attrs, specs, name=name)
    if len(outputs) != len(op.outputs):
        raise errors.InvalidArgumentError(None, None, f"Bad {source}: op '{name}' has {len(op.outputs)} outputs, "
                                                      f"the file lists {len(outputs)}")
    for t, spec in zip(op.outputs, outputs):
        if t.dtype.name != spec.get("dtype"):
            raise errors.InvalidArgumentError(None, None, f"Bad {source}: tensor '{t.name}' is {t.dtype.name} "
                                                          f"here, {spec.get('dtype')} in the file")
        t.set_shape(decode(spec["shape"], graph, prefix))  # keeps shapes refined after the op was made
    return op


def _mark_scopes_used(graph: Graph, name: str) -> None:
    """So that a later ``name_scope('a')`` after importing 'a/b' becomes 'a_1', as for built ops."""
    parts = name.split("/")
    for i in range(1, len(parts)):
        scope = "/".join(parts[:i])
        if graph.unique_name(scope, mark_as_used=False) == scope:
            graph.unique_name(scope)
