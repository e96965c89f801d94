"""tf.train.Saver: save and restore variables to checkpoints, crash-safe; meta graph export/import.

A save writes ``<prefix>.safetensors`` (and ``<prefix>.meta``), each to a temporary file that is
fsynced and renamed into place, then replaces the ``checkpoint`` state file the same way, and only
then deletes checkpoints beyond ``max_to_keep``. A process killed at any moment leaves
``latest_checkpoint`` naming a complete checkpoint; the next save removes the temporary files.
Restore checks every tensor (presence, checksum, dtype, shape) before changing any variable.
"""

from __future__ import annotations

import errno
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.train import checkpoint_io, checkpoint_state, meta_graph
from gpugraph.variables import Variable

__all__ = ["Saver", "SaverDef", "export_meta_graph", "import_meta_graph"]


@dataclass
class SaverDef:
    """What a meta graph keeps of a Saver: checkpoint keys -> variable names, and its settings."""

    var_map: dict[str, str] = field(default_factory=dict)
    max_to_keep: int = 5
    keep_checkpoint_every_n_hours: float = 10000.0
    pad_step_number: bool = False
    save_relative_paths: bool = False
    allow_empty: bool = False
    version: int = 2

    def to_json(self) -> dict[str, Any]:
        return {"var_map": dict(self.var_map), "max_to_keep": self.max_to_keep,
                "keep_checkpoint_every_n_hours": self.keep_checkpoint_every_n_hours,
                "pad_step_number": self.pad_step_number, "save_relative_paths": self.save_relative_paths,
                "allow_empty": self.allow_empty, "version": self.version}

    @classmethod
    def from_json(cls, obj: dict[str, Any], prefix: str = "") -> SaverDef:
        fields = {k: obj[k] for k in cls.__dataclass_fields__ if k in obj}
        fields["var_map"] = {str(k): prefix + str(v) for k, v in dict(obj.get("var_map", {})).items()}
        return cls(**fields)


def _var_op(value: Any) -> Operation:
    """The VariableV2 op behind a Variable, its ref tensor, or the op itself."""
    if isinstance(value, Variable):
        return value.op
    if hasattr(value, "_ref") and callable(value._ref):
        value = value._ref()
    if isinstance(value, Tensor):
        value = value.op
    if isinstance(value, Operation) and value.opdef.role == "variable":
        return value
    raise TypeError(f"Variable to save is not a Variable: {value!r}")


def _build_var_map(var_list: Any, graph: Graph) -> dict[str, Operation]:
    if var_list is None:
        var_list = [v for key in (GraphKeys.GLOBAL_VARIABLES, "saveable_objects")
                    for v in graph.get_collection(key)]
    if isinstance(var_list, dict):
        out = {}
        for key, value in var_list.items():
            if not isinstance(key, str):
                raise TypeError(f"Checkpoint keys must be strings, got {key!r}")
            out[key] = _var_op(value)
        return out
    out = {}
    for value in var_list:
        op = _var_op(value)
        if op.name in out:
            raise ValueError(f"At least two variables have the same name: {op.name}")
        out[op.name] = op
    return out


def _check_session(sess: Any) -> None:
    if not (hasattr(sess, "cell") and hasattr(sess, "graph")):
        raise TypeError(f"'sess' must be a Session; {sess!r}")


def _os_error(e: OSError, path: str) -> errors.OpError:
    cls = (errors.PermissionDeniedError if isinstance(e, PermissionError) else
           errors.NotFoundError if isinstance(e, FileNotFoundError) else
           errors.ResourceExhaustedError if e.errno == errno.ENOSPC else errors.UnknownError)
    return cls(None, None, f"Failed to write checkpoint {path}: {e}")


class Saver:
    """Saves and restores variables (``tf.train.Saver``); checkpoints are safetensors files."""

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False, max_to_keep: int = 5,
                 keep_checkpoint_every_n_hours: float = 10000.0, name: str | None = None,
                 restore_sequentially: bool = False, saver_def: SaverDef | None = None, builder: Any = None,
                 defer_build: bool = False, allow_empty: bool = False, write_version: int = 2,
                 pad_step_number: bool = False, save_relative_paths: bool = False, filename: str | None = None):
        graph = get_default_graph()
        if saver_def is not None:
            var_list = {k: graph.get_operation_by_name(v) for k, v in saver_def.var_map.items()}
            max_to_keep = saver_def.max_to_keep
            keep_checkpoint_every_n_hours = saver_def.keep_checkpoint_every_n_hours
            pad_step_number, save_relative_paths = saver_def.pad_step_number, saver_def.save_relative_paths
            allow_empty = saver_def.allow_empty
        self._var_map = _build_var_map(var_list, graph)
        if not self._var_map and not allow_empty:
            raise ValueError("No variables to save")
        self._is_empty = not self._var_map
        self._graph = graph
        self._name = name or "save"
        self._max_to_keep = max_to_keep
        self._keep_every_n_hours = float(keep_checkpoint_every_n_hours)
        self._next_checkpoint_time = time.time() + self._keep_every_n_hours * 3600
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._allow_empty = allow_empty
        self._filename = filename
        self._last_checkpoints: list[tuple[str, float]] = []
        self._checkpoints_to_be_deleted: list[tuple[str, float]] = []

    # --- settings ---
    @property
    def saver_def(self) -> SaverDef:
        return self.as_saver_def()

    def as_saver_def(self) -> SaverDef:
        return SaverDef({k: op.name for k, op in self._var_map.items()}, self._max_to_keep or 0,
                        self._keep_every_n_hours, self._pad_step_number, self._save_relative_paths,
                        self._allow_empty)

    def build(self) -> None:
        """Nothing to build: saving reads the session's variable store directly."""

    @property
    def last_checkpoints(self) -> list[str]:
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints: list[str]) -> None:
        self._last_checkpoints = [(p, 0.0) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: list[tuple[str, float]]) -> None:
        self._last_checkpoints = [(p, float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: list[str]) -> None:
        """Adopt checkpoints of an earlier run (those that exist), so max_to_keep covers them."""
        existing = [p for p in checkpoint_paths if checkpoint_state.checkpoint_exists(p)]
        mtimes = checkpoint_state.get_checkpoint_mtimes(existing)
        self.set_last_checkpoints_with_time(list(zip(existing, mtimes)))

    # --- save ---
    def save(self, sess: Any, save_path: Any, global_step: Any = None, latest_filename: str | None = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> str | None:
        """Write a checkpoint; returns its prefix (``save_path-<global_step>`` with a step)."""
        _check_session(sess)
        save_path = os.fspath(save_path)
        latest_filename = latest_filename or checkpoint_state.DEFAULT_STATE_FILENAME
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            fmt = "{}-{:08d}" if self._pad_step_number else "{}-{}"
            checkpoint_file = fmt.format(save_path, int(global_step))
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename:
                raise ValueError(f"'latest_filename' collides with 'save_path': '{latest_filename}' and "
                                 f"'{save_path}'")
        save_dir = os.path.dirname(save_path)
        if not os.path.isdir(save_dir or "."):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        model_checkpoint_path: str | None = None
        try:
            checkpoint_io.clean_temp_files(save_dir)
            if not self._is_empty:
                checkpoint_io.write(checkpoint_file, self._gather(sess, checkpoint_file))
                model_checkpoint_path = checkpoint_file
            if write_meta_graph:
                meta_path = checkpoint_state.meta_graph_filename(checkpoint_file, meta_graph_suffix)
                self.export_meta_graph(meta_path, graph=sess.graph)
            if model_checkpoint_path is not None and write_state:
                self._record_last_checkpoint(model_checkpoint_path)
                checkpoint_state.update_checkpoint_state(
                    save_dir, model_checkpoint_path, self.last_checkpoints, latest_filename,
                    save_relative_paths=self._save_relative_paths)
                self._maybe_delete_old_checkpoints(meta_graph_suffix, save_dir)
        except OSError as e:
            raise _os_error(e, checkpoint_file) from e
        return model_checkpoint_path

    def _gather(self, sess: Any, path: str) -> dict[str, np.ndarray]:
        out = {}
        for key, op in self._var_map.items():
            if op.graph is not sess.graph:
                raise ValueError(f"Variable '{op.name}' is not in the session's graph")
            cell = sess.cell(op)
            value = cell.value
            if value is None:
                raise errors.FailedPreconditionError(
                    None, op, f"Attempting to use uninitialized value {op.name} (saving checkpoint {path})")
            out[key] = np.array(sess.backend_of_cell(cell).to_host(value), copy=True)
        return out

    def _record_last_checkpoint(self, path: str) -> None:
        if not self._max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        while len(self._last_checkpoints) > self._max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix: str, save_dir: str) -> None:
        here = os.path.realpath(save_dir or ".")
        while self._checkpoints_to_be_deleted:
            path, stamp = self._checkpoints_to_be_deleted.pop(0)
            if stamp > self._next_checkpoint_time:  # keep one every n hours
                self._next_checkpoint_time += self._keep_every_n_hours * 3600
                continue
            # the list may come from a state file anyone can edit: delete only beside the new checkpoint
            if os.path.realpath(os.path.dirname(checkpoint_io.data_path(path)) or ".") != here:
                warnings.warn(f"Not deleting old checkpoint {path}: it is outside {save_dir or '.'}, the "
                              f"directory of the checkpoint being saved", stacklevel=3)
                continue
            checkpoint_state.remove_checkpoint(path, meta_graph_suffix=meta_graph_suffix)

    # --- restore ---
    def restore(self, sess: Any, save_path: Any) -> None:
        """Set the variables from checkpoint ``save_path``; all are checked before any is changed."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        _check_session(sess)
        save_path = os.fspath(save_path)
        if not checkpoint_state.checkpoint_exists(save_path):
            raise checkpoint_io.CheckpointNotFoundError(
                None, None, f"The passed save_path is not a valid checkpoint: {save_path} "
                            f"(no file {checkpoint_io.data_path(save_path)})")
        with checkpoint_io.CheckpointReader(save_path) as reader:  # verifies every tensor's checksum
            self._restore_from(sess, reader)

    def _restore_from(self, sess: Any, reader: checkpoint_io.CheckpointReader) -> None:
        """Check every key, dtype and shape against the header, then read and set one tensor at a time."""
        dtypes_in_file, shapes_in_file = reader.get_variable_to_dtype_map(), reader.get_variable_to_shape_map()
        for key, op in self._var_map.items():
            if op.graph is not sess.graph:
                raise ValueError(f"Variable '{op.name}' is not in the session's graph")
            where = f"variable '{op.name}'" + (f", key '{key}'" if key != op.name else "")
            if not reader.has_tensor(key):
                raise errors.NotFoundError(
                    None, op, f"Restoring from checkpoint failed: Key {key} not found in checkpoint "
                              f"{reader.path} ({where}). The variable name or another graph key is missing "
                              f"from the checkpoint.")
            want, have = op.outputs[0].dtype.base_dtype, dtypes_in_file[key]
            if have.np_dtype != want.np_dtype:
                raise errors.InvalidArgumentError(
                    None, op, f"tensor_name = {key}; expected dtype {want.name} does not equal original dtype "
                              f"{have.name} ({where}, checkpoint {reader.path})")
            static, shape = op.get_attr("shape"), shapes_in_file[key]
            if not static.is_compatible_with(shape):
                lhs = static.as_list() if static.ndims is not None else "?"
                raise errors.InvalidArgumentError(
                    None, op, f"Assign requires shapes of both tensors to match. lhs shape= {lhs} "
                              f"rhs shape= {shape} ({where}, checkpoint {reader.path})")
        for key, op in self._var_map.items():
            arr = reader.get_tensor(key)
            cell = sess.cell(op)
            backend = sess.backend_of_cell(cell)  # the value stays on the device it lives on
            current = cell.value
            with backend.activate():  # the copy runs on the variable's device, ordered after its upload
                if current is not None and current.shape == arr.shape and current.dtype == arr.dtype:
                    backend.xp.copyto(current, backend.to_device(arr))  # in place, as Assign does
                else:
                    cell.value = backend.to_device(arr)
            del arr  # before the next read: one tensor in host memory at a time

    # --- meta graph ---
    def export_meta_graph(self, filename: str | None = None, collection_list: Any = None, as_text: bool = False,
                          export_scope: str | None = None, clear_devices: bool = False,
                          clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                          save_debug_info: bool = False, graph: Graph | None = None) -> dict[str, Any]:
        return export_meta_graph(filename, saver_def=self.as_saver_def(), collection_list=collection_list,
                                 graph=graph or self._graph, export_scope=export_scope,
                                 clear_devices=clear_devices)


def export_meta_graph(filename: Any = None, meta_info_def: Any = None, graph_def: Any = None,
                      saver_def: SaverDef | None = None, collection_list: Any = None, as_text: bool = False,
                      graph: Graph | None = None, export_scope: str | None = None, clear_devices: bool = False,
                      clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                      save_debug_info: bool = False, **kwargs: Any) -> dict[str, Any]:
    """The graph, its collections (and ``saver_def``) as a JSON-ready dict, written to ``filename`` if given."""
    graph = graph or get_default_graph()
    sd = None
    if saver_def is not None:
        sd = saver_def.to_json()
        if export_scope:
            scope = export_scope.rstrip("/") + "/"
            names = sd["var_map"].values()
            sd = None if any(not n.startswith(scope) for n in names) else \
                {**sd, "var_map": {k: v[len(scope):] for k, v in sd["var_map"].items()}}
    meta = meta_graph.export_graph(graph, collection_list, export_scope, clear_devices, sd)
    if filename is not None:
        meta_graph.write_meta_graph(os.fspath(filename), meta)
    return meta


def import_meta_graph(meta_graph_or_file: Any, clear_devices: bool = False, import_scope: str | None = None,
                      **kwargs: Any) -> Saver | None:
    """Rebuild a saved graph in the default graph; returns a Saver for its variables (None if none)."""
    unsupported = sorted(k for k, v in kwargs.items() if v is not None)
    if unsupported:
        raise TypeError(f"import_meta_graph: unsupported arguments {unsupported}")
    if isinstance(meta_graph_or_file, dict):
        meta, source = meta_graph_or_file, "meta graph"
    else:
        path = os.fspath(meta_graph_or_file)
        meta, source = meta_graph.read_meta_graph(path), f"meta graph file {path}"
    graph = get_default_graph()
    meta_graph.import_graph(meta, graph, import_scope, clear_devices, source)
    prefix = import_scope.rstrip("/") + "/" if import_scope else ""
    sd = meta.get("saver_def")
    with graph.as_default():
        if sd:
            try:
                saver_def = SaverDef.from_json(sd, prefix)
                return Saver(saver_def=saver_def)
            except (KeyError, TypeError, ValueError) as e:
                raise errors.InvalidArgumentError(None, None, f"Bad {source}: saver_def: {e}") from None
        if graph.get_collection(GraphKeys.GLOBAL_VARIABLES) or graph.get_collection("saveable_objects"):
            return Saver()
    return None
