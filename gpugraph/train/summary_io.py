"""tf.train.summary_iterator: the Event protos of a TensorBoard event file."""

from __future__ import annotations

import os
from typing import Any, Iterator

from gpugraph import errors

__all__ = ["summary_iterator"]


def summary_iterator(path: str) -> Iterator[Any]:
    """Yield each ``Event`` proto of the event file ``path``, in order (tensorboardX's Event class, the
    one FileWriter writes). Records are read with TensorBoard's record reader (checksums verified)."""
    try:
        from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    except ImportError as e:  # tensorboard is an optional dependency
        raise ImportError("tf.train.summary_iterator needs the 'tensorboard' package to read event files") from e
    from tensorboardX.proto.event_pb2 import Event

    if not os.path.exists(path):
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory")
    for record in RawEventFileLoader(path).Load():
        event = Event()
        event.ParseFromString(record)
        yield event
