"""The host side of TF1's queues: one ``HostQueue`` per queue op per session.

A queue lives in the session (in the cell of its queue op, as a variable's value does) and is shared by
every thread running that session. Blocking waits happen here, on the queue's own condition, never
under the session's lock. Enqueues are served in arrival order, and so are dequeues (a ticket each):
an ``enqueue_many`` or ``dequeue_many`` larger than the free space or the current size proceeds element by
element, as TF1's kernels do. ``cancel`` (Session.close) wakes every waiter with CancelledError.

Ops of other families that read a queue at run time (readers take a queue of file names) use
``host_queue(ctx, queue)`` at bind time and ``HostQueue.dequeue_one`` (or the module function
``dequeue_one``) when they run.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
import weakref
from collections import deque
from typing import Any, Iterator, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.framework.tensor import Operation, Tensor

Element = tuple[Any, ...]

_ids: weakref.WeakKeyDictionary[Any, itertools.count] = weakref.WeakKeyDictionary()
_ids_lock = threading.Lock()


def _unique_id(session: Any) -> int:
    """TF1 names an unshared queue ``_<n>_<op name>``, n counting resources made in that session."""
    with _ids_lock:
        counter = _ids.get(session)
        if counter is None:
            counter = _ids[session] = itertools.count()
        return next(counter)


class _Cancelled(Exception):
    pass


class HostQueue:
    """A bounded queue of tuples of NumPy arrays (one tuple per element), in FIFO order."""

    kind = "FIFOQueue"

    def __init__(self, name: str, capacity: int, shapes: Sequence[tuple[int, ...] | None]):
        self.name = name
        self.capacity = capacity if capacity >= 0 else 2 ** 31 - 1
        self.shapes = list(shapes)
        self._cond = threading.Condition()
        self._closed = False
        self._cancelled = False  # the session closed
        self._enqueue_epoch = 0  # bumped by close(cancel_pending_enqueues=True): older enqueues fail
        self._tickets = {"enqueue": [0, 0], "dequeue": [0, 0]}  # [next to hand out, now serving]
        self._done: dict[str, set[int]] = {"enqueue": set(), "dequeue": set()}
        self._items: Any = deque()

    # --- storage, replaced by the other kinds ---
    def _size(self) -> int:
        return len(self._items)

    def _put(self, element: Element) -> None:
        self._items.append(element)

    def _take(self) -> Element:
        return self._items.popleft()

    def _put_back(self, taken: list[Element]) -> None:
        self._items.extendleft(reversed(taken))

    def _can_take(self) -> bool:
        return self._size() > 0

    def stack(self, elements: list[Element], op: Operation | None) -> Element:
        """One batch (a value per component) of dequeued elements."""
        return tuple(np.stack([e[i] for e in elements]) for i in range(len(elements[0])))

    # --- public API ---
    def size(self) -> int:
        with self._cond:
            return self._size()

    @property
    def closed(self) -> bool:
        return self._closed

    def enqueue_many(self, elements: Sequence[Element], op: Operation | None = None,
                     timeout: float | None = None) -> None:
        """Add ``elements`` in order, waiting for space; CancelledError once the queue is closed."""
        with self._cond, self._turn("enqueue", op, timeout) as epoch:
            for element in elements:
                self._wait(lambda: self._size() < self.capacity or self._closed, "Enqueue", op, timeout, epoch)
                if self._closed:
                    raise self._error(errors.CancelledError, f"{self.kind} '{self.name}' is closed.", op)
                self._put(element)
                self._cond.notify_all()

    def dequeue_many(self, n: int | None, op: Operation | None = None, up_to: bool = False,
                     timeout: float | None = None) -> list[Element]:
        """``n`` elements (one when ``n`` is None), waiting for them; once the queue is closed, fewer
        (``up_to``, at least one) or OutOfRangeError naming the queue, as TF1 says it."""
        count = 1 if n is None else n
        with self._cond, self._turn("dequeue", op, timeout):
            taken: list[Element] = []
            while len(taken) < count:
                self._wait(lambda: self._can_take() or self._closed, "Dequeue", op, timeout)
                if self._closed and (not self._size() or (not up_to and self._size() < count - len(taken))):
                    if up_to and taken:
                        break
                    self._put_back(taken)
                    raise self._error(errors.OutOfRangeError, (
                        f"{self.kind} '{self.name}' is closed and has insufficient elements "
                        f"(requested {count}, current size {self._size()})"), op)
                taken.append(self._take())
                self._cond.notify_all()
            return taken

    def dequeue_one(self, timeout: float | None = None, op: Operation | None = None) -> Element:
        """The next element: a tuple with one NumPy value per component.

        Blocks until an element is there. Raises ``errors.OutOfRangeError`` once the queue is closed and
        empty, ``errors.CancelledError`` when the session closes while waiting, and
        ``errors.DeadlineExceededError`` after ``timeout`` seconds (None: wait for ever). ``op`` is the
        operation to name in those errors (the reader op calling this).
        """
        return self.dequeue_many(None, op, timeout=timeout)[0]

    def close(self, cancel_pending_enqueues: bool = False, op: Operation | None = None) -> None:
        """Close: later enqueues fail; dequeues drain what is left. Without ``cancel_pending_enqueues``,
        waits for the enqueues already waiting to finish (TF1 queues the close behind them)."""
        with self._cond:
            if cancel_pending_enqueues:
                self._enqueue_epoch += 1
                self._closed = True
                self._cond.notify_all()
                return
            with self._turn("enqueue", op, None, cancellable=False):
                self._closed = True
                self._cond.notify_all()

    def cancel(self) -> None:
        """The session closed: every blocked enqueue and dequeue raises CancelledError."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    session_closed = cancel  # what Session.close calls on the values it holds

    # --- waiting ---
    @contextlib.contextmanager
    def _turn(self, which: str, op: Operation | None, timeout: float | None,
              cancellable: bool = True) -> Iterator[int]:
        """Wait until every earlier enqueue (or dequeue) is done; yields the cancel epoch seen on arrival."""
        tickets, done = self._tickets[which], self._done[which]
        mine = tickets[0]
        tickets[0] += 1
        epoch = self._enqueue_epoch
        try:
            self._wait(lambda: tickets[1] == mine, which.capitalize(), op, timeout,
                       epoch if which == "enqueue" and cancellable else None)
            yield epoch
        finally:
            done.add(mine)  # a waiter that gave up early is skipped when its turn comes
            while tickets[1] in done:
                done.discard(tickets[1])
                tickets[1] += 1
            self._cond.notify_all()

    def _wait(self, ready: Any, what: str, op: Operation | None, timeout: float | None,
              epoch: int | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._cancelled or (epoch is not None and epoch != self._enqueue_epoch):
                raise self._error(errors.CancelledError, f"{what} operation was cancelled", op)
            if ready():
                return
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise self._error(errors.DeadlineExceededError, "Timed out waiting for notification", op)
            self._cond.wait(left)

    @staticmethod
    def _error(cls: type[errors.OpError], text: str, op: Operation | None) -> errors.OpError:
        where = f"\n\t [[{{{{node {op.name}}}}}]]" if op is not None else ""
        return cls(None, op, text + where)


class RandomShuffleHostQueue(HostQueue):
    """Dequeues a uniformly random element, keeping ``min_after_dequeue`` behind until closed."""

    kind = "RandomShuffleQueue"

    def __init__(self, name: str, capacity: int, shapes: Sequence[tuple[int, ...] | None], min_after_dequeue: int,
                 rng: np.random.Generator):
        super().__init__(name, capacity, shapes)
        self._items = []
        self.min_after_dequeue = min_after_dequeue
        self._rng = rng

    def _put(self, element: Element) -> None:
        self._items.append(element)

    def _take(self) -> Element:
        index = int(self._rng.integers(len(self._items)))
        self._items[index], self._items[-1] = self._items[-1], self._items[index]
        return self._items.pop()

    def _put_back(self, taken: list[Element]) -> None:
        self._items.extend(taken)

    def _can_take(self) -> bool:
        return self._size() > (0 if self._closed else self.min_after_dequeue)


class PaddingHostQueue(HostQueue):
    """A FIFO queue whose batches pad each component with zeros ("" for strings) to the batch's largest."""

    kind = "PaddingFIFOQueue"

    def stack(self, elements: list[Element], op: Operation | None) -> Element:
        out = []
        for i in range(len(elements[0])):
            parts = [np.asarray(e[i]) for e in elements]
            shape = tuple(max(p.shape[d] for p in parts) for d in range(parts[0].ndim))
            fill = b"" if parts[0].dtype == object else 0
            batch = np.full((len(parts),) + shape, fill, dtype=parts[0].dtype)
            for j, p in enumerate(parts):
                batch[(j,) + tuple(slice(0, s) for s in p.shape)] = p if p.ndim else p[()]
            out.append(batch)
        return tuple(out)


class PriorityHostQueue(HostQueue):
    """Dequeues the element of lowest priority (component 0, an int64 scalar) first."""

    kind = "PriorityQueue"

    def __init__(self, name: str, capacity: int, shapes: Sequence[tuple[int, ...] | None]):
        super().__init__(name, capacity, shapes)
        self._items = []
        self._order = itertools.count()

    def _put(self, element: Element) -> None:
        heapq.heappush(self._items, (int(np.asarray(element[0])), next(self._order), element))

    def _take(self) -> Element:
        return heapq.heappop(self._items)[2]

    def _put_back(self, taken: list[Element]) -> None:
        for element in taken:
            self._put(element)


# Queue op types and the HostQueue kind each makes.
QUEUE_OP_TYPES = ("FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2", "PriorityQueueV2")


def queue_op_of(queue: Any) -> Operation:
    """The queue op (FIFOQueueV2, ...) of a queue object, its ``queue_ref`` tensor, or the op itself."""
    ref = getattr(queue, "queue_ref", queue)
    op = ref.op if isinstance(ref, Tensor) else ref
    if not isinstance(op, Operation) or op.type not in QUEUE_OP_TYPES:
        raise TypeError(f"Expected a queue, its queue_ref or its queue op, got {queue!r}")
    return op


def host_queue(ctx: Any, queue: Any) -> HostQueue:
    """The session's HostQueue of ``queue`` (a queue object, its ``queue_ref``, or the queue op), made on
    first use. ``ctx`` is what an op's ``bind(op, ctx)`` receives; call this when the op runs, not when it
    binds, so a queue made in a later run is found."""
    op = queue_op_of(queue)
    cell = ctx.cell(op)
    state = cell.value
    if state is None:
        state = _make(op, ctx)
        with _make_lock:
            if cell.value is None:
                cell.value = state
            state = cell.value
    return state


_make_lock = threading.Lock()


def _make(op: Operation, ctx: Any) -> HostQueue:
    session = getattr(ctx, "_session", ctx)
    shared, kind = op.get_attr("shared_name"), op.type
    name = shared or f"_{_unique_id(session)}_{op.name}"
    shapes = [tuple(s) if s is not None else None for s in op.get_attr("shapes")]
    if kind == "PriorityQueueV2" and shapes:
        shapes = [()] + shapes  # the priority comes first
    if kind == "RandomShuffleQueueV2":
        return RandomShuffleHostQueue(name, op.get_attr("capacity"), shapes, op.get_attr("min_after_dequeue"),
                                      ctx.rng(op))
    cls = {"FIFOQueueV2": HostQueue, "PaddingFIFOQueueV2": PaddingHostQueue, "PriorityQueueV2": PriorityHostQueue}[kind]
    return cls(name, op.get_attr("capacity"), shapes)


def dequeue_one(ctx: Any, queue: Any, timeout: float | None = None, op: Operation | None = None) -> Element:
    """At run time, the next element of ``queue`` in the session ``ctx``: ``host_queue(ctx, queue)
    .dequeue_one(timeout, op)`` (see HostQueue.dequeue_one for the errors it raises)."""
    return host_queue(ctx, queue).dequeue_one(timeout, op)
