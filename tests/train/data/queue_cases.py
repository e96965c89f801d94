"""Queue and input-pipeline cases run the same way on TensorFlow (make_queue_reference.py) and on gpugraph
(tests/train/test_*queue*.py, test_input_producers.py): each takes the ``tf`` module and returns plain data."""

from __future__ import annotations

from typing import Any, Callable


def _message(e: Exception) -> str:
    """The error's own line: without TF's "Graph execution error" preamble or the node and traceback notes."""
    text = getattr(e, "message", str(e))
    lines = [ln for ln in text.split("\n") if ln and not ln.startswith(("\t", " ", "Graph execution", "Detected at",
                                                                      "Node:", "Original stack"))]
    return lines[0]


def _drain(sess: Any, fetch: Any, tf: Any, limit: int = 50) -> tuple[list[Any], str]:
    out = []
    for _ in range(limit):
        try:
            value = sess.run(fetch)
        except tf.errors.OutOfRangeError as e:
            return out, _message(e)
        out.append(value.tolist() if hasattr(value, "tolist") else [v.tolist() for v in value])
    raise AssertionError("the pipeline did not end")


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def queue_op_names(tf: Any) -> dict[str, Any]:
    """Names and types of the ops a FIFOQueue's methods make, and static shapes of its dequeues."""
    q = tf.FIFOQueue(3, [tf.int32], shapes=[[]])
    ops = {"enqueue": q.enqueue(1), "enqueue_many": q.enqueue_many([[1, 2]]), "dequeue": q.dequeue().op,
           "dequeue_many": q.dequeue_many(2).op, "dequeue_up_to": q.dequeue_up_to(2).op, "close": q.close(),
           "cancel": q.close(cancel_pending_enqueues=True), "size": q.size().op, "is_closed": q.is_closed().op}
    named = tf.FIFOQueue(4, [tf.int32, tf.float32], shapes=[[], [2]], names=["a", "b"])
    many = named.dequeue_many(2)
    return {"queue": [q.name, q.queue_ref.op.type],
            "ops": {k: [op.name, op.type] for k, op in ops.items()},
            "dequeue_many_shapes": {k: v.shape.as_list() for k, v in sorted(many.items())},
            "kinds": [[c.__name__, c(10, *([2] if c is tf.RandomShuffleQueue else []), [tf.int32],
                                     shapes=[[None]] if c is tf.PaddingFIFOQueue else [[]]).queue_ref.op.type]
                      for c in (tf.RandomShuffleQueue, tf.PaddingFIFOQueue, tf.PriorityQueue)]}


def closed_queue_errors(tf: Any) -> dict[str, list[str]]:
    """What each op says on a closed queue: [error class, message]."""
    q = tf.FIFOQueue(3, [tf.int32], shapes=[[]])
    partial = tf.FIFOQueue(5, tf.float32, shapes=[()])
    shuffle = tf.RandomShuffleQueue(10, 2, tf.int32, shapes=[[]])
    shapeless = tf.FIFOQueue(5, tf.float32)
    cases = {"dequeue": q.dequeue(), "dequeue_many": q.dequeue_many(2), "dequeue_up_to": q.dequeue_up_to(2),
             "enqueue": q.enqueue(1), "partial_dequeue_many": partial.dequeue_many(2),
             "shuffle_dequeue_many": shuffle.dequeue_many(3), "shapeless_dequeue_many": shapeless.dequeue_many(1)}
    setup = [q.close(), partial.enqueue(3.0), partial.close(), shuffle.enqueue_many([[1, 2]]), shuffle.close(),
             shapeless.enqueue(1.0)]
    out = {}
    with tf.Session() as sess:
        sess.run(setup[0])
        for op in setup[1:]:
            sess.run(op)
        for key, fetch in cases.items():
            try:
                sess.run(fetch)
                out[key] = ["no error", ""]
            except tf.errors.OpError as e:
                out[key] = [type(e).__name__, _message(e)]
    return out


def batch_of_slices(tf: Any, allow_smaller_final_batch: bool) -> dict[str, Any]:
    """tf.train.batch over slice_input_producer(shuffle=False, num_epochs=2), drained to the end."""
    x, y = tf.train.slice_input_producer([tf.range(5), tf.range(5) * 10], num_epochs=2, shuffle=False)
    bx, by = tf.train.batch([x, y], batch_size=3, allow_smaller_final_batch=allow_smaller_final_batch)
    with tf.Session() as sess:
        sess.run([tf.local_variables_initializer(), tf.global_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        batches, message = _drain(sess, [bx, by], tf)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    return {"batches": batches, "end": message, "shapes": [bx.shape.as_list(), by.shape.as_list()]}


def string_pipeline(tf: Any) -> dict[str, Any]:
    """The TF1 tutorial loop: string_input_producer(num_epochs=2, shuffle=False) -> batch -> until OutOfRange."""
    names = tf.train.string_input_producer(["a.txt", "b.txt", "c.txt"], num_epochs=2, shuffle=False)
    name = names.dequeue()
    batch = tf.train.batch([name], batch_size=2, allow_smaller_final_batch=True)
    seen = []
    with tf.Session() as sess:
        sess.run([tf.local_variables_initializer(), tf.global_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                seen.append(_decode(sess.run(batch).tolist()))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    return {"batches": seen, "queue": names.name}


def pipeline_names(tf: Any) -> dict[str, Any]:
    """The names TF1 gives a producer/batch pipeline: local variables, summaries, queues and their runners."""
    files = tf.train.string_input_producer(["a", "b"], num_epochs=1)
    x, y = tf.train.slice_input_producer([tf.range(4), tf.range(4)], num_epochs=2)
    tf.train.batch([x], batch_size=2)
    tf.train.shuffle_batch([x, y], batch_size=2, capacity=10, min_after_dequeue=3)
    tf.train.batch_join([[x], [y]], batch_size=2, allow_smaller_final_batch=True)
    tf.train.shuffle_batch_join([[x], [y]], batch_size=2, capacity=10, min_after_dequeue=2)
    tf.train.range_input_producer(7, shuffle=False)
    tf.train.input_producer(tf.constant([1, 2]), shuffle=False)
    limited = tf.train.limit_epochs(tf.constant([1, 2]), num_epochs=3)
    graph = tf.get_default_graph()
    dequeues = sorted(op.name + ":" + op.type for op in graph.get_operations()
                      if op.type in ("QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueDequeueV2"))
    return {"files": files.name, "limited": limited.name,
            "local_variables": [v.name for v in tf.local_variables()],
            "summaries": [s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)],
            "dequeues": dequeues,
            "queue_runners": [[qr.name, [op.name for op in qr.enqueue_ops], qr.close_op.name, qr.cancel_op.name]
                              for qr in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)]}


def padded_batch(tf: Any) -> dict[str, Any]:
    """tf.train.batch(dynamic_pad=True) of rows of different lengths, and a PaddingFIFOQueue of strings."""
    q = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None, 2], []])
    ops = [q.enqueue(([[1, 2]], "a")), q.enqueue(([[1, 2], [3, 4], [5, 6]], "bb"))]
    many = q.dequeue_many(2)
    with tf.Session() as sess:
        for op in ops:
            sess.run(op)
        ints, strings = sess.run(many)
    return {"ints": ints.tolist(), "strings": _decode(strings.tolist()), "shape": many[0].shape.as_list()}


def cancelled_errors(tf: Any) -> dict[str, list[str]]:
    """What a blocked enqueue says when close(cancel_pending_enqueues=True) runs, and a blocked dequeue when
    its session closes."""
    import threading
    import time

    full = tf.FIFOQueue(1, tf.float32)
    enqueue, cancel = full.enqueue(1.0), full.close(cancel_pending_enqueues=True)
    empty = tf.FIFOQueue(1, tf.float32)
    dequeue = empty.dequeue()
    out: dict[str, list[str]] = {}

    def run(sess: Any, fetch: Any, key: str) -> None:
        try:
            sess.run(fetch)
        except tf.errors.OpError as e:
            out[key] = [type(e).__name__, _message(e)]

    with tf.Session() as sess:
        sess.run(enqueue)
        blocked = threading.Thread(target=run, args=(sess, enqueue, "cancelled_enqueue"))
        blocked.start()
        time.sleep(0.3)
        sess.run(cancel)
        blocked.join(10)
    sess = tf.Session()
    blocked = threading.Thread(target=run, args=(sess, dequeue, "dequeue_at_session_close"))
    blocked.start()
    time.sleep(0.3)
    sess.close()
    blocked.join(10)
    return out


CASES: dict[str, Callable[[Any], Any]] = {
    "queue_op_names": queue_op_names,
    "closed_queue_errors": closed_queue_errors,
    "batch_of_slices_smaller_final": lambda tf: batch_of_slices(tf, True),
    "batch_of_slices_full_only": lambda tf: batch_of_slices(tf, False),
    "string_pipeline": string_pipeline,
    "pipeline_names": pipeline_names,
    "padded_batch": padded_batch,
    "cancelled_errors": cancelled_errors,
}
