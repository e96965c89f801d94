"""tf.FIFOQueue, tf.RandomShuffleQueue, tf.PaddingFIFOQueue and tf.PriorityQueue, with TF1's names and checks."""

from __future__ import annotations

from typing import Any, Sequence

from gpugraph.framework import dtypes as dtypes_lib
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import Dimension, TensorShape
from gpugraph.ops import queue_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.random_ops import get_seed
from gpugraph.ops.shape_fns import constant_value

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]


def _as_type_list(dtypes: Any) -> list[dtypes_lib.DType]:
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes]
    return [dtypes_lib.as_dtype(d) for d in dtypes]


def _as_shape_list(shapes: Any, dtypes: Sequence[Any], unknown_dim_allowed: bool = False,
                   unknown_rank_allowed: bool = False) -> list[TensorShape] | None:
    del dtypes
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (list, tuple)):
        raise TypeError("shapes must be a TensorShape or a list or tuple of TensorShapes.")
    if all(shape is None or isinstance(shape, int) for shape in shapes):
        shapes = [shapes]
    shapes = [TensorShape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if not unknown_rank_allowed and any(s.ndims is None for s in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    return shapes


def _as_name_list(names: Any, dtypes: Sequence[Any]) -> list[str] | None:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes):
        raise ValueError("List of names must have the same length as the list of dtypes")
    return list(names)


def _shape_attr(shapes: list[TensorShape] | None) -> tuple[Any, ...]:
    """Plain data for the op: a tuple of dims (None for unknown) per component; () when unspecified."""
    return tuple(s.as_tuple() for s in shapes) if shapes else ()


class QueueBase:
    """What every queue has: its handle (``queue_ref``), component types, shapes and names, and its ops."""

    def __init__(self, dtypes: Any, shapes: Any, names: Any, queue_ref: Tensor):
        self._dtypes = list(dtypes)
        if shapes is not None:
            if len(shapes) != len(self._dtypes):
                raise ValueError("Queue shapes must have the same length as dtypes")
            self._shapes = [TensorShape(s) for s in shapes]
        else:
            self._shapes = [TensorShape(None) for _ in self._dtypes]
        if names is not None:
            if len(names) != len(self._dtypes):
                raise ValueError("Queue names must have the same length as dtypes")
            self._names = list(names)
        else:
            self._names = None
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @property
    def queue_ref(self) -> Tensor:
        return self._queue_ref

    @property
    def name(self) -> str:
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list[dtypes_lib.DType]:
        return self._dtypes

    @property
    def shapes(self) -> list[TensorShape]:
        return self._shapes

    @property
    def names(self) -> list[str] | None:
        return self._names

    def _check_enqueue_dtypes(self, vals: Any) -> list[Tensor]:
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of Queue.  Dictionary: "
                                 f"({sorted(vals.keys())}), Queue: ({sorted(self._names)})")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError(f"Expected {len(self._dtypes)} components to enqueue in {self.name}, got {len(vals)}")
        return [_convert(v, dt, f"component_{i}") for i, (v, dt) in enumerate(zip(vals, self._dtypes))]

    def enqueue(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding one element (a tensor, a list/tuple of them, or a dict when the queue has names)."""
        graph = self._queue_ref.graph
        with graph.as_default(), graph.name_scope(name or f"{self._name}_enqueue") as scope:
            tensors = self._check_enqueue_dtypes(vals)
            for val, shape in zip(tensors, self._shapes):
                val.shape.assert_is_compatible_with(shape)
            return queue_ops.QUEUE_ENQUEUE(self._queue_ref, *tensors, name=scope, timeout_ms=-1)

    def enqueue_many(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding the rows of ``vals`` (each component split along dimension 0) as elements."""
        graph = self._queue_ref.graph
        with graph.as_default(), graph.name_scope(name or f"{self._name}_EnqueueMany") as scope:
            tensors = self._check_enqueue_dtypes(vals)
            batch_dim = _batch_dim(tensors[0])
            for val, shape in zip(tensors, self._shapes):
                batch_dim = batch_dim.merge_with(_batch_dim(val))
                if val.shape.ndims is not None:
                    val.shape[1:].assert_is_compatible_with(shape)
            return queue_ops.QUEUE_ENQUEUE_MANY(self._queue_ref, *tensors, name=scope, timeout_ms=-1)

    def _dequeue_return_value(self, tensors: Sequence[Tensor]) -> Any:
        if self._names:
            return {n: tensors[i] for i, n in enumerate(self._names)}
        if len(tensors) == 1:
            return tensors[0]
        return list(tensors)

    def _outputs(self, opdef: Any, name: str, *inputs: Any) -> list[Tensor]:
        graph = self._queue_ref.graph
        with graph.as_default():
            out = opdef(self._queue_ref, *inputs, name=name, component_types=list(self._dtypes), timeout_ms=-1)
        return [out] if isinstance(out, Tensor) else list(out)

    def dequeue(self, name: str | None = None) -> Any:
        """The next element; the run blocks until there is one (OutOfRangeError once closed and empty)."""
        outs = self._outputs(queue_ops.QUEUE_DEQUEUE, name or f"{self._name}_Dequeue")
        for output, shape in zip(outs, self._shapes):
            output.set_shape(shape)
        return self._dequeue_return_value(outs)

    def dequeue_many(self, n: Any, name: str | None = None) -> Any:
        """``n`` elements stacked along a new dimension 0; blocks until there are ``n``."""
        n_tensor = _convert(n, dtypes_lib.int32, "n", self._queue_ref.graph)
        outs = self._outputs(queue_ops.QUEUE_DEQUEUE_MANY, name or f"{self._name}_DequeueMany", n_tensor)
        known = constant_value(n_tensor)
        batch = TensorShape([int(known) if known is not None else None])
        for output, shape in zip(outs, self._shapes):
            output.set_shape(batch.concatenate(shape))
        return self._dequeue_return_value(outs)

    def dequeue_up_to(self, n: Any, name: str | None = None) -> Any:
        """As dequeue_many, but once the queue is closed gives what is left (at least one element)."""
        n_tensor = _convert(n, dtypes_lib.int32, "n", self._queue_ref.graph)
        outs = self._outputs(queue_ops.QUEUE_DEQUEUE_UP_TO, name or f"{self._name}_DequeueUpTo", n_tensor)
        for output, shape in zip(outs, self._shapes):
            output.set_shape(TensorShape([None]).concatenate(shape))
        return self._dequeue_return_value(outs)

    def close(self, cancel_pending_enqueues: bool = False, name: str | None = None) -> Operation:
        """An op closing the queue: later enqueues fail, dequeues drain what is left."""
        with self._queue_ref.graph.as_default():
            return queue_ops.QUEUE_CLOSE(self._queue_ref, name=name or f"{self._name}_Close",
                                         cancel_pending_enqueues=bool(cancel_pending_enqueues))

    def is_closed(self, name: str | None = None) -> Tensor:
        with self._queue_ref.graph.as_default():
            return queue_ops.QUEUE_IS_CLOSED(self._queue_ref, name=name or f"{self._name}_Is_Closed")

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements in the queue now (int32)."""
        with self._queue_ref.graph.as_default():
            return queue_ops.QUEUE_SIZE(self._queue_ref, name=name or f"{self._name}_Size")


def _batch_dim(tensor: Tensor) -> Dimension:
    if tensor.shape.ndims is None:
        return Dimension(None)
    if tensor.shape.ndims < 1:
        raise ValueError(f"Shape {tensor.shape} must have rank at least 1")
    return Dimension(tensor.shape[0])


def _convert(value: Any, dtype: dtypes_lib.DType, name: str, graph: Any = None) -> Tensor:
    if graph is not None and not isinstance(value, Tensor):
        with graph.as_default():
            return convert_to_tensor(value, dtype=dtype, name=name)
    return convert_to_tensor(value, dtype=dtype, name=name)


def _queue_op(opdef: Any, name: str, dtypes: list[dtypes_lib.DType], shapes: list[TensorShape] | None,
              capacity: int, shared_name: str | None, **attrs: Any) -> Tensor:
    return opdef(name=name, component_types=list(dtypes), shapes=_shape_attr(shapes), capacity=int(capacity),
                 container="", shared_name=shared_name or "", **attrs)


class FIFOQueue(QueueBase):
    """``tf.FIFOQueue(capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue")``."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any = None, names: Any = None,
                 shared_name: str | None = None, name: str = "fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        with get_default_graph().control_dependencies(None):
            ref = _queue_op(queue_ops.FIFO_QUEUE, name, dtypes, shapes, capacity, shared_name)
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFOQueue whose components may have unknown dimensions; dequeue_many pads them to the batch's largest."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any, names: Any = None, shared_name: str | None = None,
                 name: str = "padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if len(dtypes) != len(shapes or ()):
            raise ValueError(f"Shapes must be provided for all components, but received {len(dtypes)} dtypes and "
                             f"{len(shapes or ())} shapes.")
        with get_default_graph().control_dependencies(None):
            ref = _queue_op(queue_ops.PADDING_FIFO_QUEUE, name, dtypes, shapes, capacity, shared_name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """Dequeues elements in random order, keeping at least ``min_after_dequeue`` until it is closed."""

    def __init__(self, capacity: int, min_after_dequeue: int, dtypes: Any, shapes: Any = None, names: Any = None,
                 seed: int | None = None, shared_name: str | None = None, name: str = "random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        with get_default_graph().control_dependencies(None):
            ref = _queue_op(queue_ops.RANDOM_SHUFFLE_QUEUE, name, dtypes, shapes, capacity, shared_name,
                            min_after_dequeue=int(min_after_dequeue), seeds=get_seed(seed))
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """Dequeues the element of lowest priority first; each element starts with an int64 priority scalar."""

    def __init__(self, capacity: int, types: Any, shapes: Any = None, names: Any = None,
                 shared_name: str | None = None, name: str = "priority_queue"):
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes, types)
        with get_default_graph().control_dependencies(None):
            ref = _queue_op(queue_ops.PRIORITY_QUEUE, name, types, shapes, capacity, shared_name)
        priority_dtypes = [dtypes_lib.int64] + types
        priority_shapes = [TensorShape([])] + shapes if shapes else shapes
        super().__init__(priority_dtypes, priority_shapes, names, ref)
