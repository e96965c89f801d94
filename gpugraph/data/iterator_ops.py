"""TF1 iterators: graph ops over per-session iterator state.

``IteratorV2``/``OneShotIterator`` name an iterator (no outputs); the session keeps its state in the
cell of that op. ``MakeIterator`` reads the dataset's captured tensors and starts a pipeline;
``IteratorGetNext`` pulls the next element (a one-shot iterator starts on its first call). The
Python dataset a MakeIterator runs is kept per graph under the op's name (op attrs stay plain data,
so meta graphs still export).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.data.dataset_ops import Dataset, IterContext
from gpugraph.data.tracing import PipelineError
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

_PIPELINES: weakref.WeakKeyDictionary[Graph, dict[str, Dataset]] = weakref.WeakKeyDictionary()


def _keep_pipeline(op: Operation, dataset: Dataset) -> None:
    _PIPELINES.setdefault(op.graph, {})[op.name] = dataset


def _pipeline(op: Operation) -> Dataset:
    dataset = _PIPELINES.get(op.graph, {}).get(op.name)
    if dataset is None:
        raise errors.FailedPreconditionError(
            None, op, f"{op.name}: the dataset of this iterator is not part of this graph (a graph imported "
            "from a meta graph keeps the ops, not the Python dataset); build the dataset again.")
    return dataset


class _IteratorState:
    """One initialised iterator in one session."""

    def __init__(self, dataset: Dataset, captures: list[Tensor], values: tuple[Any, ...], session: Any):
        owned = [np.array(v) if getattr(v, "flags", None) is not None and v.flags.writeable else v for v in values]
        self.ctx = IterContext(session, dict(zip(captures, owned)))  # copies: a variable may change later
        self.elements = dataset.iterate(self.ctx)
        self.lock = threading.Lock()
        self.done = False

    def next(self, op: Operation) -> tuple[Any, ...]:
        with self.lock:
            if not self.done:
                try:
                    return next(self.elements)
                except StopIteration:
                    self.done = True
                except PipelineError as e:
                    self.done = True
                    raise e.error_class(None, op, f"{e}\n\t [[{{{{node {op.name}}}}}]]") from e
            raise errors.OutOfRangeError(None, op, f"End of sequence\n\t [[{{{{node {op.name}}}}}]]")

    def close(self) -> None:
        self.ctx.stop.set()
        with self.lock:
            self.elements.close()


def _no_outputs(*inputs: Any, **attrs: Any) -> None:
    return None


ITERATOR = register_op(OpDef("IteratorV2", infer=_no_outputs, stateful=True, gpu=False, grad=NO_GRADIENT))
ONE_SHOT_ITERATOR = register_op(OpDef("OneShotIterator", infer=_no_outputs, stateful=True, gpu=False,
                                      grad=NO_GRADIENT))


def _bind_make_iterator(op: Operation, ctx: Any) -> Any:
    cell = ctx.cell(op.get_attr("iterator"))
    captures = list(op.inputs)

    def make_iterator(*values: Any) -> None:
        old = cell.value
        if old is not None:
            old.close()
        cell.value = _IteratorState(_pipeline(op), captures, values, ctx)
    return make_iterator


MAKE_ITERATOR = register_op(OpDef(
    "MakeIterator", infer=_no_outputs, bind=_bind_make_iterator, stateful=True, gpu=False, same_dtype=False,
    input_names=("captured",), grad=NO_GRADIENT))


def _get_next_infer(*inputs: Tensor, iterator: Any, mode: str, output_types: list[dtypes.DType],
                    output_shapes: list[TensorShape]) -> list[tuple[TensorShape, dtypes.DType]]:
    return list(zip(output_shapes, output_types))


def _bind_get_next(op: Operation, ctx: Any) -> Any:
    mode = op.get_attr("mode")
    single = len(op.outputs) == 1
    lock = threading.Lock()

    def state_of(cell: Any, captured: tuple[Any, ...]) -> _IteratorState:
        if cell.value is None:
            if mode != "one_shot":
                raise errors.FailedPreconditionError(
                    None, op, "GetNext() failed because the iterator has not been initialized. Ensure that you "
                    "have run the initializer operation for this iterator before getting the next element.\n\t "
                    f"[[{{{{node {op.name}}}}}]]")
            with lock:
                if cell.value is None:
                    cell.value = _IteratorState(_pipeline(op), list(op.inputs), captured, ctx)
        return cell.value

    if mode == "handle":
        def get_next_by_handle(handle: Any) -> Any:
            name = np.asarray(handle, dtype=object).item()
            name = name.decode("utf-8") if isinstance(name, bytes) else str(name)
            try:
                target = op.graph.get_operation_by_name(name)
            except (KeyError, ValueError):
                raise errors.InvalidArgumentError(None, op, f"Invalid iterator handle: {name!r}") from None
            element = state_of(ctx.cell(target), ()).next(op)
            return element[0] if single else element
        return get_next_by_handle

    cell = ctx.cell(op.get_attr("iterator"))

    def get_next(*captured: Any) -> Any:
        element = state_of(cell, captured).next(op)
        return element[0] if single else element
    return get_next


GET_NEXT = register_op(OpDef(
    "IteratorGetNext", infer=_get_next_infer, bind=_bind_get_next, stateful=True, gpu=False, same_dtype=False,
    input_names=("captured",), grad=NO_GRADIENT))


def _handle_infer(*captured: Tensor, iterator: Operation, mode: str) -> tuple[TensorShape, dtypes.DType]:
    return TensorShape([]), dtypes.string


def _bind_handle(op: Operation, ctx: Any) -> Any:
    """The iterator op's name; a one-shot iterator starts here too, as a handle may be its first use."""
    target = op.get_attr("iterator")
    cell = ctx.cell(target)
    name = np.array(target.name.encode("utf-8"), dtype=object)

    def handle(*captured: Any) -> Any:
        if cell.value is None and op.get_attr("mode") == "one_shot":
            cell.value = _IteratorState(_pipeline(op), list(op.inputs), captured, ctx)
        return name
    return handle


ITERATOR_HANDLE = register_op(OpDef(
    "IteratorToStringHandle", infer=_handle_infer, bind=_bind_handle, stateful=True, gpu=False, same_dtype=False,
    input_names=("captured",), grad=NO_GRADIENT))
