"""tf.train.MonitoredSession and MonitoredTrainingSession: a Session that runs hooks around each run.

A monitored session finalizes the graph, initializes or restores the model, calls every hook's
``begin``/``after_create_session``, merges the hooks' fetches and feeds into each ``run`` (handing each
hook its own results back), and on a clean close calls the hooks' ``end``. An OutOfRangeError (the
input ran out) ends a ``with`` block quietly. A MonitoredSession re-creates its session after an
AbortedError or UnavailableError, as TF1's does.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from gpugraph import errors
from gpugraph.config import RunMetadata, RunOptions
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.train import basic_session_run_hooks as hooks_lib
from gpugraph.train.scaffold import Scaffold, _ready, prepare_session
from gpugraph.train.coordinator import Coordinator
from gpugraph.train.queue_runner import start_queue_runners
from gpugraph.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues

__all__ = ["ChiefSessionCreator", "MonitoredSession", "MonitoredTrainingSession", "SessionCreator",
           "SingularMonitoredSession", "WorkerSessionCreator"]

_log = logging.getLogger("tensorflow")
USE_DEFAULT = object()
_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)


class _Coordinator:
    """What hooks get as ``coord``: a shared stop flag and the first error reported with it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._exception: BaseException | None = None

    def request_stop(self, ex: BaseException | None = None) -> None:
        if ex is not None and self._exception is None:
            self._exception = ex
        self._stop.set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def clear_stop(self) -> None:
        self._stop.clear()
        self._exception = None

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    def join(self, threads: Any = None, stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        self.raise_requested_exception()

    def raise_requested_exception(self) -> None:
        if self._exception is not None:
            raise self._exception


class SessionCreator:
    """Makes the tf.Session a MonitoredSession wraps."""

    def create_session(self) -> Any:
        raise NotImplementedError(f"create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """Finalizes the scaffold; restores the latest checkpoint of ``checkpoint_dir`` or runs the init ops."""

    def __init__(self, scaffold: Scaffold | None = None, master: str = "", config: Any = None,
                 checkpoint_dir: str | None = None, checkpoint_filename_with_path: str | None = None):
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config

    def create_session(self) -> Any:
        self._scaffold.finalize()
        return prepare_session(self._scaffold, get_default_graph(), self._master, self._config,
                               checkpoint_dir=self._checkpoint_dir,
                               checkpoint_filename_with_path=self._checkpoint_filename_with_path)


class WorkerSessionCreator(SessionCreator):
    """Waits (up to ``max_wait_secs``) for the model to be ready, then runs the local init op."""

    def __init__(self, scaffold: Scaffold | None = None, master: str = "", config: Any = None,
                 max_wait_secs: float = 30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._max_wait_secs = max_wait_secs

    def create_session(self) -> Any:
        from gpugraph.runtime.session import Session

        self._scaffold.finalize()
        start = time.time()
        while True:
            sess = Session(self._master, graph=get_default_graph(), config=self._config)
            ready, msg = _ready(self._scaffold.ready_for_local_init_op, sess, "Model not ready for local init")
            if ready:
                if self._scaffold.local_init_op is not None:
                    sess.run(self._scaffold.local_init_op, feed_dict=self._scaffold.local_init_feed_dict)
                ready, msg = _ready(self._scaffold.ready_op, sess, "Model not ready")
                if ready:
                    return sess
            sess.close()
            if time.time() - start >= self._max_wait_secs:
                raise errors.DeadlineExceededError(
                    None, None, f"Session was not ready after waiting {self._max_wait_secs} secs. ({msg})")
            _log.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, ready: %s", msg, msg)
            time.sleep(min(30.0, self._max_wait_secs))


class _StopSignal(Exception):
    pass


class StepContext:
    """What ``run_step_fn``'s function gets: the raw session and a run that calls the hooks."""

    def __init__(self, session: Any, run_with_hooks_fn: Callable[..., Any]):
        self._session = session
        self._run_with_hooks_fn = run_with_hooks_fn

    @property
    def session(self) -> Any:
        return self._session

    def run_with_hooks(self, *args: Any, **kwargs: Any) -> Any:
        return self._run_with_hooks_fn(*args, **kwargs)

    def request_stop(self) -> None:
        raise _StopSignal


def _merge_run_options(options: Any, incoming: Any) -> None:
    options.trace_level = max(options.trace_level, incoming.trace_level)
    options.timeout_in_ms = max(options.timeout_in_ms, incoming.timeout_in_ms)
    options.output_partition_graphs = options.output_partition_graphs or incoming.output_partition_graphs
    options.report_tensor_allocations_upon_oom = (options.report_tensor_allocations_upon_oom
                                                  or incoming.report_tensor_allocations_upon_oom)


def _raise_if_feeds_intersect(feeds1: dict, feeds2: dict, message: str) -> None:
    both = set(feeds1) & set(feeds2)
    if both:
        raise RuntimeError(message + f" Conflict(s): {list(both)}")


class _MonitoredSession:
    def __init__(self, session_creator: SessionCreator | None, hooks: list[SessionRunHook] | None,
                 should_recover: bool, stop_grace_period_secs: float = 120):
        self._graph = get_default_graph()
        self._graph_was_finalized = self._graph.finalized
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            hook.begin()
        self._session_creator = session_creator or ChiefSessionCreator()
        self._should_recover = should_recover
        self._stop_grace_period_secs = stop_grace_period_secs
        self._tf_sess: Any = None
        self._create_session()

    def _create_session(self) -> None:
        self._tf_sess = self._session_creator.create_session()
        self._coord = _Coordinator()
        if self._tf_sess.graph.get_collection(GraphKeys.QUEUE_RUNNERS):
            # TF1 starts the graph's queue runners here; close() stops and joins their threads
            self._coord = Coordinator(clean_stop_exception_types=[])
            start_queue_runners(sess=self._tf_sess, coord=self._coord)
        self._hooks_stop = False
        for hook in self._hooks:
            hook.after_create_session(self._tf_sess, self._coord)

    @property
    def graph(self) -> Any:
        return self._tf_sess.graph if self._tf_sess is not None else self._graph

    def should_stop(self) -> bool:
        return self._tf_sess is None or self._hooks_stop or self._coord.should_stop()

    def run(self, fetches: Any, feed_dict: Any = None, options: Any = None, run_metadata: Any = None) -> Any:
        """``Session.run`` with every hook's before_run/after_run around it."""
        while True:
            if self._tf_sess is None:
                raise RuntimeError("Session is already closed.")
            try:
                return self._run_with_hooks(fetches, feed_dict, options, run_metadata)
            except _PREEMPTION_ERRORS as e:
                if not self._should_recover:
                    raise
                _log.info("An error was raised. This may be due to a preemption in a connected worker or "
                          "parameter server. The current session will be closed and a new session will be "
                          "created. Error: %s", e)
                self._close_tf_session()
                self._create_session()

    def _run_with_hooks(self, fetches: Any, feed_dict: Any = None, options: Any = None,
                        run_metadata: Any = None) -> Any:
        if self._hooks_stop:
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches: dict[Any, Any] = {"caller": fetches}
        run_context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict), session=self._tf_sess)
        options = options or RunOptions()
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict, options)
        run_metadata = run_metadata or RunMetadata()
        outputs = self._tf_sess.run(actual_fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
        for hook in self._hooks:
            hook.after_run(run_context, SessionRunValues(results=outputs[hook] if hook in outputs else None,
                                                         options=options, run_metadata=run_metadata))
        self._hooks_stop = self._hooks_stop or run_context.stop_requested
        return outputs["caller"]

    def _call_hook_before_run(self, run_context: SessionRunContext, fetch_dict: dict, user_feed_dict: Any,
                              options: Any) -> Any:
        hook_feeds: dict[Any, Any] = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                fetch_dict[hook] = request.fetches
            if request.feed_dict:
                _raise_if_feeds_intersect(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
            if request.options:
                _merge_run_options(options, request.options)
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        _raise_if_feeds_intersect(user_feed_dict, hook_feeds, "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds

    def run_step_fn(self, step_fn: Callable[[StepContext], Any]) -> Any:
        """Calls ``step_fn(step_context)``; ``step_context.request_stop()`` ends it and stops the session."""
        try:
            return step_fn(StepContext(self._tf_sess, self.run))
        except _StopSignal:
            self._hooks_stop = True
            return None

    def close(self) -> None:
        self._close_internal()

    def __enter__(self) -> _MonitoredSession:
        return self

    def __exit__(self, exception_type: Any, exception_value: Any, traceback: Any) -> bool:
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None  # the input ran out: a normal end of training
        self._close_internal(exception_type)
        return exception_type is None

    def _close_tf_session(self) -> None:
        self._coord.request_stop()
        try:
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
        finally:
            try:
                self._tf_sess.close()
            except Exception:  # noqa: BLE001 - closing is best effort, as in TF1
                pass

    def _close_internal(self, exception_type: Any = None) -> None:
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._tf_sess)
        finally:
            try:
                if self._tf_sess is None:
                    raise RuntimeError("Session is already closed.")
                self._close_tf_session()
            finally:
                self._tf_sess = None
                if not self._graph_was_finalized:
                    self._graph._unsafe_unfinalize()

    def _tf_session(self) -> Any:
        return self._tf_sess


class MonitoredSession(_MonitoredSession):
    """A Session with hooks, recovering from AbortedError/UnavailableError by re-creating the session."""

    def __init__(self, session_creator: SessionCreator | None = None, hooks: list[SessionRunHook] | None = None,
                 stop_grace_period_secs: float = 120):
        super().__init__(session_creator, hooks, should_recover=True,
                         stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A MonitoredSession for one process that does not recover, with access to the raw session."""

    def __init__(self, hooks: list[SessionRunHook] | None = None, scaffold: Scaffold | None = None,
                 master: str = "", config: Any = None, checkpoint_dir: str | None = None,
                 stop_grace_period_secs: float = 120, checkpoint_filename_with_path: str | None = None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                      checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, should_recover=False, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self) -> Any:
        """The wrapped tf.Session: runs on it call no hooks."""
        return self._tf_session()


def _pick(steps: Any, secs: Any, default_steps: Any, default_secs: Any) -> tuple[Any, Any]:
    """TF1's defaults: both unset -> the defaults; one set -> the other off."""
    if steps is USE_DEFAULT and secs is USE_DEFAULT:
        return default_steps, default_secs
    return (None if steps is USE_DEFAULT else steps), (None if secs is USE_DEFAULT else secs)


def MonitoredTrainingSession(  # noqa: N802 - TF1's name
        master: str = "", is_chief: bool = True, checkpoint_dir: str | None = None,
        scaffold: Scaffold | None = None, hooks: list[SessionRunHook] | None = None,
        chief_only_hooks: list[SessionRunHook] | None = None, save_checkpoint_secs: Any = USE_DEFAULT,
        save_summaries_steps: Any = USE_DEFAULT, save_summaries_secs: Any = USE_DEFAULT, config: Any = None,
        stop_grace_period_secs: float = 120, log_step_count_steps: int | None = 100, max_wait_secs: float = 7200,
        save_checkpoint_steps: Any = USE_DEFAULT, summary_dir: str | None = None,
        save_graph_def: bool = True) -> MonitoredSession:
    """A MonitoredSession for training; on the chief it adds step counting, summary and checkpoint hooks.

    Defaults as TF1: summaries every 100 steps, a checkpoint every 600 seconds (when ``checkpoint_dir``
    is given), global_step/sec every ``log_step_count_steps`` steps.
    """
    save_summaries_steps, save_summaries_secs = _pick(save_summaries_steps, save_summaries_secs, 100, None)
    save_checkpoint_steps, save_checkpoint_secs = _pick(save_checkpoint_steps, save_checkpoint_secs, None, 600)
    scaffold = scaffold or Scaffold()
    if not is_chief:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config, max_wait_secs=max_wait_secs)
        return MonitoredSession(session_creator=creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)
    all_hooks: list[SessionRunHook] = list(chief_only_hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master, config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(hooks_lib.StepCounterHook(output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(hooks_lib.SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                                        save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(hooks_lib.CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                                           save_secs=save_checkpoint_secs, scaffold=scaffold,
                                                           save_graph_def=save_graph_def))
    if hooks:
        all_hooks.extend(hooks)
    return MonitoredSession(session_creator=creator, hooks=all_hooks, stop_grace_period_secs=stop_grace_period_secs)
