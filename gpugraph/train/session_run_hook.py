"""tf.train.SessionRunHook and the records passed around each ``MonitoredSession.run``."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues"]


class SessionRunHook:
    """Code run around a MonitoredSession: at graph build, session creation, each run and the end."""

    def begin(self) -> None:
        """Called once before the graph is finalized; the hook may still add ops."""

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Called when the session is created (or re-created after a recoverable error)."""

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Called before each run; may return extra fetches, feeds and options for it."""
        return None

    def after_run(self, run_context: SessionRunContext, run_values: SessionRunValues) -> None:
        """Called after each run with the results of the fetches this hook asked for."""

    def end(self, session: Any) -> None:
        """Called when the session is closed without an error."""


class SessionRunArgs(NamedTuple("SessionRunArgs", [("fetches", Any), ("feed_dict", Any), ("options", Any)])):
    """What a hook adds to a run: fetches (any fetch structure), feeds, RunOptions."""

    def __new__(cls, fetches: Any, feed_dict: Any = None, options: Any = None) -> SessionRunArgs:
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunValues(NamedTuple):
    """What a hook gets back: ``results`` in the shape of its fetches, and the run's options/metadata."""

    results: Any
    options: Any
    run_metadata: Any


class SessionRunContext:
    """The run in progress: the caller's arguments, the raw session, and a way to ask to stop."""

    def __init__(self, original_args: SessionRunArgs, session: Any):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self) -> SessionRunArgs:
        return self._original_args

    @property
    def session(self) -> Any:
        return self._session

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """After this run, ``should_stop()`` of the monitored session answers True."""
        self._stop_requested = True
