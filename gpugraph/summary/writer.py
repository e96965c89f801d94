"""``tf.summary.FileWriter``: summaries, graphs and events into a TensorBoard event file.

Records, the file header and the file name come from tensorboardX's ``EventsWriter``. Around it sits
TF1's writing policy: events go through a queue of ``max_queue`` entries to a background thread that
flushes every ``flush_secs``; ``flush()`` returns once every queued event is on disk.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
import warnings
import weakref
from typing import Any

from gpugraph import errors
from gpugraph.framework.graph import Graph

__all__ = ["FileWriter", "FileWriterCache"]

_file_numbers = itertools.count()


def _log_dir_error(logdir: str, e: OSError) -> errors.OpError:
    message = f"FileWriter cannot create the log directory '{logdir}': {e.strerror or e}"
    if isinstance(e, PermissionError):
        return errors.PermissionDeniedError(None, None, message)
    if isinstance(e, FileNotFoundError):
        return errors.NotFoundError(None, None, message)
    return errors.UnknownError(None, None, message)


class _EventQueueWriter:
    """One event file written by a daemon thread; the thread ends at ``close()``."""

    _STOP = object()

    def __init__(self, logdir: str, max_queue: int, flush_secs: float, filename_suffix: str):
        from tensorboardX.event_file_writer import EventsWriter

        try:
            os.makedirs(logdir, exist_ok=True)
        except OSError as e:
            raise _log_dir_error(logdir, e) from None
        # pid and a counter in the name (as TF2 does): two writers opened in the same second into one
        # directory would otherwise share a file name, and the second would truncate the first's file
        suffix = f".{os.getpid()}.{next(_file_numbers)}{filename_suffix}"
        self._events = EventsWriter(os.path.join(logdir, "events"), suffix)
        self.path: str = self._events._file_name
        self._queue: queue.Queue[Any] = queue.Queue(max(int(max_queue), 1))
        self._flush_secs = float(flush_secs)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gpugraph-event-writer", daemon=True)
        self._thread.start()

    def add(self, event: Any) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing {self.path} failed: {self._error}") from self._error
        self._queue.put(event)

    def flush(self) -> None:
        self._queue.join()
        self._events.flush()

    def close(self) -> None:
        self._queue.put(self._STOP)
        self._thread.join()
        self._events.close()

    def _run(self) -> None:
        next_flush = time.monotonic() + self._flush_secs
        while True:
            try:
                event = self._queue.get(timeout=max(next_flush - time.monotonic(), 0.001))
            except queue.Empty:
                event = None
            try:
                if event is self._STOP:
                    return
                if event is not None:
                    self._events.write_event(event)
                if time.monotonic() >= next_flush:
                    self._events.flush()
                    next_flush = time.monotonic() + self._flush_secs
            except Exception as e:  # a full disk: reported by the next add()
                self._error = e
            finally:
                if event is not None:
                    self._queue.task_done()


def _close_quietly(writer: _EventQueueWriter) -> None:
    try:
        writer.close()
    except Exception:
        pass


def _as_summary(summary: Any) -> Any:
    from tensorboardX.proto import summary_pb2

    if isinstance(summary, (bytes, bytearray)):
        parsed = summary_pb2.Summary()
        parsed.ParseFromString(bytes(summary))
        return parsed
    if isinstance(summary, summary_pb2.Summary):
        return summary
    if hasattr(summary, "SerializeToString") and type(summary).__name__ == "Summary":
        return _as_summary(summary.SerializeToString())  # another library's Summary class
    raise TypeError(f"add_summary expects a serialized Summary (bytes, as Session.run returns it) or a "
                    f"Summary protobuf, got {type(summary).__name__}")


class FileWriter:
    """``tf.summary.FileWriter(logdir, graph=None, max_queue=10, flush_secs=120, ...)``.

    Creates ``logdir`` and a new event file in it; with ``graph`` the graph is written first, so
    TensorBoard's graph tab shows it.
    """

    def __init__(self, logdir: Any, graph: Any = None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def: Any = None, filename_suffix: str | None = None, session: Any = None):
        self._logdir = str(logdir)
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._suffix = filename_suffix or ""
        self._session = session
        self._seen_summary_tags: set[str] = set()
        self._run_metadata_tags: set[str] = set()
        self._closed = True
        self.reopen()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    # --- the file ---
    def get_logdir(self) -> str:
        return self._logdir

    @property
    def event_file(self) -> str:
        """The path of the event file being written."""
        return self._writer.path

    def reopen(self) -> None:
        """After ``close()``: start writing again, into a new event file. Does nothing while open."""
        if not self._closed:
            return
        self._writer = _EventQueueWriter(self._logdir, self._max_queue, self._flush_secs, self._suffix)
        self._finalizer = weakref.finalize(self, _close_quietly, self._writer)
        self._closed = False

    def flush(self) -> None:
        """Returns once every event added so far is written to disk."""
        if not self._closed:
            self._writer.flush()

    def close(self) -> None:
        """Flushes and closes the file; later ``add_*`` calls do nothing (with a warning) until ``reopen``."""
        if not self._closed:
            self._closed = True
            self._finalizer.detach()
            self._writer.close()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    # --- events ---
    def add_event(self, event: Any) -> None:
        """Writes an ``Event`` protobuf as it is."""
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop unless the "
                          "FileWriter is explicitly reopened.", stacklevel=2)
            return
        from tensorboardX.proto import event_pb2

        if not isinstance(event, event_pb2.Event):
            raise TypeError(f"add_event expects an Event protobuf, got {type(event).__name__}")
        self._writer.add(event)

    def _add_event(self, event: Any, step: Any) -> None:
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        """Writes a summary (``Session.run``'s bytes or a Summary protobuf) at ``global_step``.

        As in TF1, a tag's plugin metadata is written with its first value only.
        """
        from tensorboardX.proto import event_pb2

        summary = _as_summary(summary)
        if any(v.HasField("metadata") and v.tag in self._seen_summary_tags for v in summary.value):
            summary = _as_summary(summary.SerializeToString())  # a copy: the caller's message stays as it is
        for value in summary.value:
            if value.HasField("metadata"):
                if value.tag in self._seen_summary_tags:
                    value.ClearField("metadata")
                else:
                    self._seen_summary_tags.add(value.tag)
        self._add_event(event_pb2.Event(summary=summary), global_step)

    def add_session_log(self, session_log: Any, global_step: Any = None) -> None:
        """Writes a ``SessionLog`` (START, STOP, CHECKPOINT) event."""
        from tensorboardX.proto import event_pb2

        self._add_event(event_pb2.Event(session_log=session_log), global_step)

    def add_graph(self, graph: Any, global_step: Any = None, graph_def: Any = None) -> None:
        """Writes ``graph`` (a tf.Graph, or a GraphDef protobuf) for TensorBoard's graph tab."""
        from tensorboardX.proto import event_pb2, graph_pb2

        from gpugraph.summary.graph_def import graph_to_graph_def

        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        if isinstance(graph, Graph):
            proto = graph_to_graph_def(graph)
        elif isinstance(graph, graph_pb2.GraphDef) or isinstance(graph_def, graph_pb2.GraphDef):
            proto = graph if graph is not None else graph_def
        else:
            raise TypeError("The passed graph must be an instance of `Graph` or the deprecated `GraphDef`, "
                            f"got {type(graph if graph is not None else graph_def).__name__}")
        self._add_event(event_pb2.Event(graph_def=proto.SerializeToString()), global_step)

    def add_run_metadata(self, run_metadata: Any, tag: str, global_step: Any = None) -> None:
        """Writes a traced run's ``tf.RunMetadata`` under ``tag`` (TensorBoard's per-step compute stats).

        As in TF1, a tag may be used once per writer: a second use is a ValueError.
        """
        from tensorboardX.proto import event_pb2

        if tag in self._run_metadata_tags:
            raise ValueError("The provided tag was already used for this event type")
        if not hasattr(run_metadata, "SerializeToString"):
            raise TypeError(f"add_run_metadata expects a tf.RunMetadata, got {type(run_metadata).__name__}")
        self._run_metadata_tags.add(tag)
        tagged = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)


class FileWriterCache:
    """One FileWriter per log directory, shared by the code that asks for it (TF1's cache)."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir: Any) -> FileWriter:
        with FileWriterCache._lock:
            key = str(logdir)
            if key not in FileWriterCache._cache:
                FileWriterCache._cache[key] = FileWriter(key)
            return FileWriterCache._cache[key]

    @staticmethod
    def clear() -> None:
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache.clear()
