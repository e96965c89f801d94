"""TF1's queue ops (FIFOQueueV2, QueueEnqueueV2, QueueDequeueManyV2, ...): host ops over a session's queues.

The queue op outputs a scalar handle (the queue's name in the session); every other queue op takes that
handle as input 0 and works on the session's ``HostQueue`` of the queue op (gpugraph/queues/host.py).
They block in the queue, not under the session's lock, so many threads can run one session at once.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.queues.host import QUEUE_OP_TYPES, HostQueue, host_queue

__all__: list[str] = []


def _handle_infer(**attrs: Any) -> tuple[TensorShape, dtypes.DType]:
    return TensorShape([]), dtypes.string


def _bind_queue(op: Operation, ctx: Any) -> Callable[[], Any]:
    def make_queue() -> Any:
        return np.array(host_queue(ctx, op).name.encode("utf-8"), dtype=object)
    return make_queue


def _queue_opdef(name: str) -> OpDef:
    return register_op(OpDef(name, infer=_handle_infer, bind=_bind_queue, stateful=True, gpu=False, grad=NO_GRADIENT,
                             input_names=()))


FIFO_QUEUE, RANDOM_SHUFFLE_QUEUE, PADDING_FIFO_QUEUE, PRIORITY_QUEUE = (_queue_opdef(n) for n in QUEUE_OP_TYPES)


def _seconds(op: Operation) -> float | None:
    ms = op._attrs.get("timeout_ms", -1)
    return None if ms is None or ms < 0 else ms / 1000.0


def _owned(value: Any) -> Any:
    """A copy of a value the plan may still own (a variable's storage): the queue keeps it for later."""
    value = np.asarray(value)
    return value.copy() if value.flags.writeable else value


def _check_element(queue: HostQueue, element: tuple[Any, ...], op: Operation, many: bool) -> None:
    for i, (want, value) in enumerate(zip(queue.shapes, element)):
        got = np.shape(value)
        if want is not None and (len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got))):
            raise errors.InvalidArgumentError(
                None, op, f"Shape mismatch in tuple component {i}. Expected [{','.join(map(str, want))}], got "
                f"[{','.join(map(str, got))}]\n\t [[{{{{node {op.name}}}}}]]")


def _no_outputs(*inputs: Tensor, **attrs: Any) -> None:
    return None


def _bind_enqueue(op: Operation, ctx: Any) -> Callable[..., None]:
    queue_op, timeout = op.inputs[0].op, _seconds(op)

    def enqueue(handle: Any, *values: Any) -> None:
        queue = host_queue(ctx, queue_op)
        element = tuple(_owned(v) for v in values)
        _check_element(queue, element, op, False)
        queue.enqueue_many([element], op, timeout)
    return enqueue


def _bind_enqueue_many(op: Operation, ctx: Any) -> Callable[..., None]:
    queue_op, timeout = op.inputs[0].op, _seconds(op)

    def enqueue_many(handle: Any, *values: Any) -> None:
        queue = host_queue(ctx, queue_op)
        batch = [_owned(v) for v in values]
        sizes = {b.shape[0] if b.ndim else None for b in batch}
        if len(sizes) != 1 or None in sizes:
            raise errors.InvalidArgumentError(
                None, op, "Shape mismatch in tuple component 1. Expected [" + ",".join(
                    str(d) for d in batch[0].shape[:1]) + "...], got [" + ",".join(
                    str(d) for d in batch[-1].shape) + f"]\n\t [[{{{{node {op.name}}}}}]]")
        # one tuple per row, each component an array of the batch's dtype: a queue holds elements, not batches
        elements = [tuple(np.asarray(b[i], dtype=b.dtype) for b in batch) for i in range(batch[0].shape[0])]
        for element in elements[:1]:
            _check_element(queue, element, op, True)
        queue.enqueue_many(elements, op, timeout)
    return enqueue_many


QUEUE_ENQUEUE = register_op(OpDef("QueueEnqueueV2", infer=_no_outputs, bind=_bind_enqueue, stateful=True, gpu=False,
                                  same_dtype=False, input_names=("handle", "components"), grad=NO_GRADIENT))
QUEUE_ENQUEUE_MANY = register_op(OpDef(
    "QueueEnqueueManyV2", infer=_no_outputs, bind=_bind_enqueue_many, stateful=True, gpu=False, same_dtype=False,
    input_names=("handle", "components"), grad=NO_GRADIENT))


def _dequeue_infer(*inputs: Tensor, component_types: list[dtypes.DType], timeout_ms: int = -1,
                   ) -> list[tuple[TensorShape, dtypes.DType]]:
    return [(TensorShape(None), dt) for dt in component_types]


def _bind_dequeue(op: Operation, ctx: Any) -> Callable[..., Any]:
    queue_op, timeout, single = op.inputs[0].op, _seconds(op), len(op.outputs) == 1

    def dequeue(handle: Any) -> Any:
        element = host_queue(ctx, queue_op).dequeue_many(None, op, timeout=timeout)[0]
        return element[0] if single else element
    return dequeue


def _bind_dequeue_many(op: Operation, ctx: Any) -> Callable[..., Any]:
    queue_op, timeout, single = op.inputs[0].op, _seconds(op), len(op.outputs) == 1
    up_to = op.type == "QueueDequeueUpToV2"

    def dequeue_many(handle: Any, n: Any) -> Any:
        queue = host_queue(ctx, queue_op)
        if queue.kind != "PaddingFIFOQueue" and (len(queue.shapes) != len(op.outputs) or any(
                s is None or None in s for s in queue.shapes)):
            raise errors.InvalidArgumentError(
                None, op, f"{queue.kind}'s DequeueMany and DequeueUpTo require the components to have specified "
                f"shapes.\n\t [[{{{{node {op.name}}}}}]]")
        count = int(np.asarray(n))
        if count < 0:
            raise errors.InvalidArgumentError(
                None, op, f"DequeueManyOp requested {count} < 0 elements\n\t [[{{{{node {op.name}}}}}]]")
        if count == 0:
            return _empty_batch(queue, op, single)
        elements = queue.dequeue_many(count, op, up_to=up_to, timeout=timeout)
        batch = queue.stack(elements, op)
        return batch[0] if single else batch
    return dequeue_many


def _empty_batch(queue: HostQueue, op: Operation, single: bool) -> Any:
    out = tuple(np.zeros((0,) + tuple(d or 0 for d in (shape or ())), dtype=t.dtype.as_numpy_dtype)
                for shape, t in zip(queue.shapes or [None] * len(op.outputs), op.outputs))
    return out[0] if single else out


QUEUE_DEQUEUE = register_op(OpDef("QueueDequeueV2", infer=_dequeue_infer, bind=_bind_dequeue, stateful=True,
                                  gpu=False, input_names=("handle",), grad=NO_GRADIENT))
QUEUE_DEQUEUE_MANY = register_op(OpDef(
    "QueueDequeueManyV2", infer=_dequeue_infer, bind=_bind_dequeue_many, stateful=True, gpu=False, same_dtype=False,
    input_names=("handle", "n"), grad=NO_GRADIENT))
QUEUE_DEQUEUE_UP_TO = register_op(OpDef(
    "QueueDequeueUpToV2", infer=_dequeue_infer, bind=_bind_dequeue_many, stateful=True, gpu=False, same_dtype=False,
    input_names=("handle", "n"), grad=NO_GRADIENT))


def _bind_close(op: Operation, ctx: Any) -> Callable[[Any], None]:
    queue_op, cancel = op.inputs[0].op, bool(op.get_attr("cancel_pending_enqueues"))

    def close(handle: Any) -> None:
        host_queue(ctx, queue_op).close(cancel, op)
    return close


def _scalar_infer(dtype: dtypes.DType) -> Callable[..., tuple[TensorShape, dtypes.DType]]:
    def infer(handle: Tensor) -> tuple[TensorShape, dtypes.DType]:
        return TensorShape([]), dtype
    return infer


def _bind_size(op: Operation, ctx: Any) -> Callable[[Any], Any]:
    queue_op = op.inputs[0].op

    def size(handle: Any) -> Any:
        return np.int32(host_queue(ctx, queue_op).size())
    return size


def _bind_is_closed(op: Operation, ctx: Any) -> Callable[[Any], Any]:
    queue_op = op.inputs[0].op

    def is_closed(handle: Any) -> Any:
        return np.bool_(host_queue(ctx, queue_op).closed)
    return is_closed


QUEUE_CLOSE = register_op(OpDef("QueueCloseV2", infer=_no_outputs, bind=_bind_close, stateful=True, gpu=False,
                                input_names=("handle",), grad=NO_GRADIENT))
QUEUE_SIZE = register_op(OpDef("QueueSizeV2", infer=_scalar_infer(dtypes.int32), bind=_bind_size, stateful=True,
                               gpu=False, input_names=("handle",), grad=NO_GRADIENT))
QUEUE_IS_CLOSED = register_op(OpDef("QueueIsClosedV2", infer=_scalar_infer(dtypes.bool_), bind=_bind_is_closed,
                                    stateful=True, gpu=False, input_names=("handle",), grad=NO_GRADIENT))
