"""tf.train.init_from_checkpoint: variables whose initializers load a checkpoint's values.

As in TF1, nothing is read when the graph is built beyond the checkpoint's names and shapes: each
mapped variable's initializer becomes an assign from a ``RestoreV2`` op that reads its tensor when
the initializer runs (``global_variables_initializer`` then loads the checkpoint).
"""

from __future__ import annotations

from typing import Any

from gpugraph import errors
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import state_ops
from gpugraph.ops.io_ops import RESTORE_V2
from gpugraph.train.checkpoint_state import _checkpoint_filename, load_checkpoint
from gpugraph.variables import Variable

__all__ = ["init_from_checkpoint"]


def _global_variables_by_name() -> dict[str, Variable]:
    graph = get_default_graph()
    return {v.op.name: v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}


def _targets(ckpt_key: str, current: Any, shapes: dict[str, list[int]], path: str) -> list[tuple[Variable, str]]:
    """(variable, checkpoint tensor name) pairs for one entry of the assignment map."""
    variables = _global_variables_by_name()
    if isinstance(current, Variable):
        return [(current, ckpt_key)]
    if isinstance(current, (list, tuple)) and all(isinstance(v, Variable) for v in current):
        return [(v, ckpt_key) for v in current]
    if not isinstance(current, str):
        raise TypeError(f"init_from_checkpoint: assignment_map values must be variable names or Variables, got "
                        f"{current!r} for '{ckpt_key}'")
    if not (current.endswith("/") or ckpt_key.endswith("/")):  # one variable
        name = current[:-2] if current.endswith(":0") else current
        if name not in variables:
            raise ValueError(f"Tensor {current} is not found in the graph's global variables "
                             f"(init_from_checkpoint entry '{ckpt_key}')")
        if ckpt_key not in shapes:
            raise ValueError(f"Tensor {ckpt_key} is not found in {path} checkpoint {sorted(shapes)}")
        return [(variables[name], ckpt_key)]
    scope = "" if current == "/" else current.rstrip("/") + "/"
    ckpt_scope = "" if ckpt_key == "/" else ckpt_key.rstrip("/") + "/"
    pairs = []
    for name, var in variables.items():
        if not name.startswith(scope):
            continue
        tensor_name = ckpt_scope + name[len(scope):]
        if tensor_name not in shapes:
            raise ValueError(f"Tensor {tensor_name} ({name} in {current}) is not found in {path} checkpoint")
        pairs.append((var, tensor_name))
    return pairs


def _load_into_initializer(var: Variable, path: str, tensor_name: str, ckpt_shape: list[int]) -> None:
    if not var.shape.is_compatible_with(TensorShape(ckpt_shape)):
        raise ValueError(f"Shape of variable {var.op.name} ({var.shape}) doesn't match with shape of tensor "
                         f"{tensor_name} ({TensorShape(ckpt_shape)}) from checkpoint reader.")
    graph = var.graph
    with graph.as_default(), graph.control_dependencies(None):
        restored = RESTORE_V2(name="checkpoint_initializer", path=path, tensor_name=tensor_name,
                              dtype=var.dtype.base_dtype, shape=TensorShape(ckpt_shape))
        var._initializer_op = state_ops.assign(var, restored).op
        var._initial_value = restored


def init_from_checkpoint(ckpt_dir_or_file: Any, assignment_map: dict[str, Any]) -> None:
    """Replace the initializers of the variables named by ``assignment_map`` with loads from a checkpoint.

    ``{'ckpt_scope/': 'scope/'}`` maps every variable under ``scope/`` to the tensor of the same name under
    ``ckpt_scope/`` (``'/'`` is the root on either side); ``{'ckpt/name': 'scope/var'}`` or a Variable maps one.
    """
    try:
        path = _checkpoint_filename(ckpt_dir_or_file)
        shapes = load_checkpoint(path).get_variable_to_shape_map()
    except errors.OpError:
        raise
    except (OSError, ValueError) as e:
        raise ValueError(f"init_from_checkpoint: cannot read checkpoint {ckpt_dir_or_file}: {e}") from None
    for ckpt_key, current in sorted(assignment_map.items(), key=lambda kv: kv[0]):
        for var, tensor_name in _targets(ckpt_key, current, shapes, path):
            _load_into_initializer(var, path, tensor_name, list(shapes[tensor_name]))
