"""Ops that read files when they run: RestoreV2 (one tensor of a checkpoint, for init_from_checkpoint)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import OpDef, register_op

__all__: list[str] = []


def _restore_infer(*, path: str, tensor_name: str, dtype: dtypes.DType, shape: TensorShape) -> Any:
    return shape, dtype


def _bind_restore(op: Operation, ctx: Any) -> Any:
    path, name = op.get_attr("path"), op.get_attr("tensor_name")
    np_dtype = op.get_attr("dtype").np_dtype

    def restore() -> Any:  # read when the initializer runs, as TF1's RestoreV2 does
        return ctx.backend.xp.asarray(np.asarray(_reader(path).get_tensor(name), dtype=np_dtype))
    return restore


RESTORE_V2 = register_op(OpDef("RestoreV2", infer=_restore_infer, bind=_bind_restore, stateful=True, gpu=False,
                               input_names=()))


def _reader(path: str) -> Any:
    from gpugraph.train.checkpoint_state import load_checkpoint  # train builds on ops, not the reverse

    return load_checkpoint(path)
