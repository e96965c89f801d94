"""prefetch: the upstream pipeline runs ahead on a background thread into a bounded queue.

The thread ends when the consumer stops (end of data, re-initialisation of the iterator, the
iterator dropped) or the session closes; an upstream error is re-raised on the consumer's side.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Iterator

from gpugraph.data.dataset_ops import AUTOTUNE, Arg, Dataset, Element, IterContext
from gpugraph.framework.tensor import Tensor

_POLL_S = 0.05  # how often a blocked producer or consumer looks at the stop flags
_END = object()
THREAD_NAME = "gpugraph-prefetch"


class PrefetchDataset(Dataset):
    _op_name = "PrefetchDataset"

    def __init__(self, input_dataset: Dataset, buffer_size: Any):
        self._input = input_dataset
        self._structure = input_dataset._structure
        self._buffer_size = Arg(buffer_size)

    def _inputs(self) -> list[Dataset]:
        return [self._input]

    def _own_captures(self) -> list[Tensor]:
        return self._buffer_size.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        size = self._buffer_size.get(ctx)
        if size == AUTOTUNE:
            size = max(2, min(8, os.cpu_count() or 2))
        if size == 0:
            yield from self._input.iterate(ctx)
            return
        buffer: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=max(1, size))
        done = threading.Event()

        def stopped() -> bool:
            return done.is_set() or ctx.stopped()

        def put(item: tuple[Any, BaseException | None]) -> bool:
            while not stopped():
                try:
                    buffer.put(item, timeout=_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            upstream = self._input.iterate(ctx)
            try:
                for element in upstream:
                    if not put((element, None)):
                        return
                put((_END, None))
            except BaseException as e:  # surfaces on the consumer's side
                put((None, e))
            finally:
                upstream.close()

        thread = threading.Thread(target=produce, name=THREAD_NAME, daemon=True)
        thread.start()
        try:
            while True:
                try:
                    element, error = buffer.get(timeout=_POLL_S)
                except queue.Empty:
                    if not thread.is_alive() and buffer.empty():
                        return  # stopped from outside (session closed)
                    continue
                if error is not None:
                    raise error
                if element is _END:
                    return
                yield element
        finally:
            done.set()
            thread.join(timeout=1.0)
