"""TF1's queue-based input pipeline: input producers (tf.train.string_input_producer, ...) and batching
(tf.train.batch, shuffle_batch, their _join and maybe_ forms), with TF1's op, queue and summary names."""

from __future__ import annotations

from typing import Any, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.shape_fns import constant_value
from gpugraph.queues.data_flow import FIFOQueue, PaddingFIFOQueue, QueueBase, RandomShuffleQueue
from gpugraph.train.queue_runner import QueueRunner, add_queue_runner

__all__ = ["batch", "batch_join", "input_producer", "limit_epochs", "maybe_batch", "maybe_batch_join",
           "maybe_shuffle_batch", "maybe_shuffle_batch_join", "range_input_producer", "shuffle_batch",
           "shuffle_batch_join", "slice_input_producer", "string_input_producer"]


def _tf() -> Any:
    import gpugraph  # the graph-building functions; imported late, gpugraph imports this module

    return gpugraph


def _scope(name: str | None, default: str) -> Any:
    return get_default_graph().name_scope(name or default)


def limit_epochs(tensor: Any, num_epochs: int | None = None, name: str | None = None) -> Tensor:
    """``tensor``, readable ``num_epochs`` times; then OutOfRangeError. Counts in the local variable
    ``epochs`` (run tf.local_variables_initializer())."""
    tf = _tf()
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    with _scope(name, "limit_epochs") as scope:
        zero64 = tf.constant(0, dtype=dtypes.int64)
        epochs = tf.Variable(zero64, name="epochs", trainable=False, collections=[GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with tf.control_dependencies([counter]):
            return tf.identity(tensor, name=scope)


def input_producer(input_tensor: Any, element_shape: Any = None, num_epochs: int | None = None,
                   shuffle: bool = True, seed: int | None = None, capacity: int = 32,
                   shared_name: str | None = None, summary_name: str | None = None, name: str | None = None,
                   cancel_op: Any = None) -> QueueBase:
    """A queue of the rows of ``input_tensor`` (shuffled, ``num_epochs`` times), filled by a QueueRunner."""
    tf = _tf()
    with _scope(name, "input_producer"):
        input_tensor = tf.convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape[1:].merge_with(TensorShape(element_shape)) \
            if input_tensor.shape.ndims is not None else TensorShape(element_shape)
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = tf.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype], shapes=[element_shape],
                      shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            tf.summary.scalar(summary_name, tf.cast(q.size(), dtypes.float32) * (1.0 / capacity))
        return q


def string_input_producer(string_tensor: Any, num_epochs: int | None = None, shuffle: bool = True,
                          seed: int | None = None, capacity: int = 32, shared_name: str | None = None,
                          name: str | None = None, cancel_op: Any = None) -> QueueBase:
    """A queue of strings (file names, say) for readers, ``num_epochs`` times over, shuffled by default."""
    tf = _tf()
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, Tensor) and not len(string_tensor):
        raise ValueError(not_null_err)
    with _scope(name, "input_producer") as scope:
        string_tensor = tf.convert_to_tensor(string_tensor, dtype=dtypes.string)
        with tf.control_dependencies([tf.Assert(tf.greater(tf.size(string_tensor), 0), [not_null_err])]):
            string_tensor = tf.identity(string_tensor)
        return input_producer(input_tensor=string_tensor, shuffle=shuffle, seed=seed, num_epochs=num_epochs,
                              capacity=capacity, shared_name=shared_name, name=scope,
                              summary_name=f"fraction_of_{capacity}_full", cancel_op=cancel_op)


def range_input_producer(limit: Any, num_epochs: int | None = None, shuffle: bool = True, seed: int | None = None,
                         capacity: int = 32, shared_name: str | None = None, name: str | None = None,
                         cancel_op: Any = None) -> QueueBase:
    """A queue of the integers 0 .. limit-1."""
    tf = _tf()
    with _scope(name, "input_producer") as scope:
        range_tensor = tf.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              f"fraction_of_{capacity}_full", scope, cancel_op)


def slice_input_producer(tensor_list: Sequence[Any], num_epochs: int | None = None, shuffle: bool = True,
                         seed: int | None = None, capacity: int = 32, shared_name: str | None = None,
                         name: str | None = None) -> list[Tensor]:
    """One row (the same index) of every tensor of ``tensor_list`` at a time."""
    tf = _tf()
    with _scope(name, "input_producer"):
        tensor_list = [tf.convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = tf.shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [tf.gather(t, index) for t in tensor_list]


# --- batching ---
def _as_tensor_list(tensors: Any) -> list[Any]:
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


def _as_original_type(original: Any, dequeued: Any) -> Any:
    """A dict for a dict; else what the dequeue gave: one Tensor for one component (even from a list), as TF1."""
    if isinstance(original, dict):
        if isinstance(dequeued, Tensor):
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list: list[Any]) -> list[Tensor]:
    tf = _tf()
    if not tensor_list:
        raise ValueError("Expected at least one tensor in batch().")
    return [tf.convert_to_tensor(t) for t in tensor_list]


def _validate_keep_input(keep_input: Any, enqueue_many: bool) -> Tensor:
    keep_input = _tf().convert_to_tensor(keep_input)
    if keep_input.shape.ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and keep_input.shape.ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if keep_input.shape.ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _dtypes(tensor_list_list: list[list[Tensor]]) -> list[dtypes.DType]:
    types = [t.dtype.base_dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        other_types = [t.dtype.base_dtype for t in other]
        if other_types != types:
            raise TypeError(f"Expected types to be consistent: {types} vs. {other_types}.")
    return types


def _shapes(tensor_list_list: list[list[Tensor]], shapes: Any, enqueue_many: bool) -> Any:
    if shapes is not None:
        return shapes
    merged = []
    for i in range(len(tensor_list_list[0])):
        shape = None
        for tl in tensor_list_list:
            s = tl[i].shape
            if s.ndims is None:
                raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
            if enqueue_many:
                if s.ndims < 1:
                    raise ValueError(f"Shape {s} must have rank at least 1")
                s = s[1:]
            shape = s if shape is None else shape.merge_with(s)
        merged.append(shape.as_list())
    return merged


def _enqueue_ops(queue: QueueBase, tensor_list: list[Tensor], enqueue_many: bool, keep_input: Tensor) -> Operation:
    """The enqueue op of one list of tensors; with a run-time ``keep_input`` only the kept rows go in."""
    tf = _tf()
    keep = constant_value(keep_input)
    if keep_input.shape.ndims == 0 and keep is not None:
        if not bool(keep):
            return tf.no_op()
        return queue.enqueue_many(tensor_list) if enqueue_many else queue.enqueue(tensor_list)
    if keep_input.shape.ndims == 0:  # one element kept or not: a batch of one row or none
        if not enqueue_many:
            tensor_list = [tf.expand_dims(t, 0) for t in tensor_list]
        mask = tf.reshape(keep_input, [1]) if not enqueue_many else tf.fill(tf.shape(tensor_list[0])[:1], keep_input)
    else:
        mask = keep_input
    return queue.enqueue_many([tf.boolean_mask(t, mask) for t in tensor_list])


def _dequeue(queue: QueueBase, batch_size: Any, allow_smaller_final_batch: bool, name: str) -> Any:
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch_join_impl(tensors_list: Sequence[Any], batch_size: Any, keep_input: Any, threads: int | None,
                     capacity: int, enqueue_many: bool, shapes: Any, dynamic_pad: bool,
                     allow_smaller_final_batch: bool, shared_name: str | None, name: str | None,
                     default: str, shuffle: tuple[int, int | None] | None = None) -> Any:
    """``batch`` and its kin: one queue, one enqueue op per tensor list (``threads`` copies of one list)."""
    tf = _tf()
    lists = [_as_tensor_list(t) for t in tensors_list]
    with _scope(name, default) as scope:
        if shuffle is not None and capacity <= shuffle[0]:
            raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue {shuffle[0]}.")
        lists = [_validate(tl) for tl in lists]
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        if shuffle is not None:
            min_after_dequeue, seed = shuffle
            queue: QueueBase = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed,
                                                  dtypes=types, shapes=shapes, shared_name=shared_name)
        else:
            queue_class = PaddingFIFOQueue if dynamic_pad else FIFOQueue
            queue = queue_class(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        if threads is not None:  # one tensor list, several threads running the same op
            ops = [_enqueue_ops(queue, lists[0], enqueue_many, keep_input)] * threads
        else:
            ops = [_enqueue_ops(queue, tl, enqueue_many, keep_input) for tl in lists]
        add_queue_runner(QueueRunner(queue, ops))
        if shuffle is None:
            tf.summary.scalar(f"fraction_of_{capacity}_full",
                              tf.cast(queue.size(), dtypes.float32) * (1.0 / capacity))
        else:
            min_after_dequeue = shuffle[0]
            full = tf.cast(tf.maximum(0, queue.size() - min_after_dequeue), dtypes.float32) * (
                1.0 / (capacity - min_after_dequeue))
            tf.summary.scalar(f"fraction_over_{min_after_dequeue}_of_{capacity - min_after_dequeue}_full", full)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope)
        return _as_original_type(tensors_list[0], dequeued)


def batch(tensors: Any, batch_size: Any, num_threads: int = 1, capacity: int = 32, enqueue_many: bool = False,
          shapes: Any = None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
          shared_name: str | None = None, name: str | None = None) -> Any:
    """Batches of ``batch_size`` elements of ``tensors``, in order, filled by ``num_threads`` threads."""
    return _batch_join_impl([tensors], batch_size, True, num_threads, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name, "batch")


def maybe_batch(tensors: Any, keep_input: Any, batch_size: Any, num_threads: int = 1, capacity: int = 32,
                enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
                allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                name: str | None = None) -> Any:
    """``batch``, enqueuing only the elements where ``keep_input`` is True."""
    return _batch_join_impl([tensors], batch_size, keep_input, num_threads, capacity, enqueue_many, shapes,
                            dynamic_pad, allow_smaller_final_batch, shared_name, name, "batch")


def batch_join(tensors_list: Sequence[Any], batch_size: Any, capacity: int = 32, enqueue_many: bool = False,
               shapes: Any = None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
               shared_name: str | None = None, name: str | None = None) -> Any:
    """Batches from several lists of tensors, one enqueuing thread per list."""
    return _batch_join_impl(tensors_list, batch_size, True, None, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name, "batch_join")


def maybe_batch_join(tensors_list: Sequence[Any], keep_input: Any, batch_size: Any, capacity: int = 32,
                     enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
                     allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                     name: str | None = None) -> Any:
    return _batch_join_impl(tensors_list, batch_size, keep_input, None, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name, "batch_join")


def shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int, num_threads: int = 1,
                  seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                  allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                  name: str | None = None) -> Any:
    """Random batches from a RandomShuffleQueue holding at least ``min_after_dequeue`` elements."""
    return _batch_join_impl([tensors], batch_size, True, num_threads, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch",
                            shuffle=(min_after_dequeue, seed))


def maybe_shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int, keep_input: Any,
                        num_threads: int = 1, seed: int | None = None, enqueue_many: bool = False,
                        shapes: Any = None, allow_smaller_final_batch: bool = False,
                        shared_name: str | None = None, name: str | None = None) -> Any:
    return _batch_join_impl([tensors], batch_size, keep_input, num_threads, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch",
                            shuffle=(min_after_dequeue, seed))


def shuffle_batch_join(tensors_list: Sequence[Any], batch_size: Any, capacity: int, min_after_dequeue: int,
                       seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                       allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                       name: str | None = None) -> Any:
    return _batch_join_impl(tensors_list, batch_size, True, None, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch_join",
                            shuffle=(min_after_dequeue, seed))


def maybe_shuffle_batch_join(tensors_list: Sequence[Any], batch_size: Any, capacity: int, min_after_dequeue: int,
                             keep_input: Any, seed: int | None = None, enqueue_many: bool = False,
                             shapes: Any = None, allow_smaller_final_batch: bool = False,
                             shared_name: str | None = None, name: str | None = None) -> Any:
    return _batch_join_impl(tensors_list, batch_size, keep_input, None, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch_join",
                            shuffle=(min_after_dequeue, seed))
