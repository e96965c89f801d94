"""tf.train.Scaffold (the ops a monitored session needs) and how a chief prepares a session with them."""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import numpy as np

from gpugraph import errors
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.train import checkpoint_state

__all__ = ["Scaffold"]

_log = logging.getLogger("tensorflow")


def _default_init_op() -> Any:
    from gpugraph.ops.control_flow_ops import group
    from gpugraph.variables import global_variables_initializer

    return group(global_variables_initializer(), *get_default_graph().get_collection("saved_model_initializers"))


def _default_ready_op() -> Any:
    from gpugraph.variables import report_uninitialized_variables

    return report_uninitialized_variables()


def _default_ready_for_local_init_op() -> Any:
    from gpugraph.variables import global_variables, report_uninitialized_variables

    return report_uninitialized_variables(global_variables())


def _default_summary_op() -> Any:
    from gpugraph.summary.summary_ops import merge_all

    return merge_all()


def _saver_or_default() -> Any:
    """The one Saver in the SAVERS collection, or a new one (sharded, allow_empty) added to it."""
    from gpugraph.train.saver import Saver

    graph = get_default_graph()
    savers = graph.get_collection(GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please indicate which one to "
                               "use by passing it to the constructor.")
        return savers[0]
    saver = Saver(sharded=True, allow_empty=True)
    graph.add_to_collection(GraphKeys.SAVERS, saver)
    return saver


class Scaffold:
    """The init, ready, local-init and summary ops and the Saver of a monitored session.

    ``finalize()`` fills in what was not given, from the graph's collections or TF1's defaults, and
    finalizes the graph.
    """

    def __init__(self, init_op: Any = None, init_feed_dict: Any = None, init_fn: Callable | None = None,
                 ready_op: Any = None, ready_for_local_init_op: Any = None, local_init_op: Any = None,
                 summary_op: Any = None, saver: Any = None, copy_from_scaffold: Scaffold | None = None,
                 local_init_feed_dict: Any = None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            src = copy_from_scaffold

            def pick(value: Any, name: str) -> Any:
                return value if value is not None else getattr(src, name)

            init_op, init_feed_dict = pick(init_op, "init_op"), pick(init_feed_dict, "init_feed_dict")
            init_fn = init_fn if init_fn is not None else src._user_init_fn
            ready_op = pick(ready_op, "ready_op")
            ready_for_local_init_op = pick(ready_for_local_init_op, "ready_for_local_init_op")
            local_init_op, summary_op = pick(local_init_op, "local_init_op"), pick(summary_op, "summary_op")
            local_init_feed_dict = pick(local_init_feed_dict, "local_init_feed_dict")
            saver = pick(saver, "saver")
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._local_init_op, self._local_init_feed_dict = local_init_op, local_init_feed_dict
        self._summary_op, self._saver = summary_op, saver

    def finalize(self) -> Scaffold:
        """Create the missing ops and the Saver, then finalize the default graph."""
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP, _default_init_op)
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP, _default_ready_op)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP, _default_ready_for_local_init_op)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP, _default_summary_op)
        if self._saver is None:
            self._saver = _saver_or_default()
        self._saver.build()
        get_default_graph().finalize()
        _log.info("Graph was finalized.")
        return self

    @property
    def init_fn(self) -> Callable | None:
        return self._init_fn

    @property
    def init_op(self) -> Any:
        return self._init_op

    @property
    def ready_op(self) -> Any:
        return self._ready_op

    @property
    def ready_for_local_init_op(self) -> Any:
        return self._ready_for_local_init_op

    @property
    def local_init_op(self) -> Any:
        return self._local_init_op

    @property
    def local_init_feed_dict(self) -> Any:
        return self._local_init_feed_dict

    @property
    def summary_op(self) -> Any:
        return self._summary_op

    @property
    def saver(self) -> Any:
        return self._saver

    @property
    def init_feed_dict(self) -> Any:
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor: Callable[[], Any]) -> Any:
        """The single item of ``collection_key``, or a new default added to it."""
        graph = get_default_graph()
        elements = graph.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f'More than one item in the collection "{collection_key}". Please indicate '
                                   f"which one to use by passing it to the tf.Scaffold constructor as:  "
                                   f"tf.Scaffold({arg_name}=item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            graph.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op() -> Any:
        """Local variables' and tables' initializers, grouped."""
        from gpugraph.ops.control_flow_ops import group
        from gpugraph.variables import local_variables_initializer

        tables = get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS)
        return group(local_variables_initializer(), *tables)


def _op_name(op: Any) -> str | None:
    return getattr(op, "name", None) if op is not None else None


def _ready(op: Any, sess: Any, what: str) -> tuple[bool, str | None]:
    """Whether ``op`` (a list of uninitialized variable names) comes back empty."""
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            _log.warning("%s : error [%s]", what, e)
            raise
        return False, str(e)
    value = np.asarray(value) if value is not None else None
    if value is None or value.dtype == np.int32 or value.size == 0:
        return True, None
    names = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value.reshape(-1)]
    return False, "Variables not initialized: " + ", ".join(names)


def prepare_session(scaffold: Scaffold, graph: Graph, master: str = "", config: Any = None,
                    checkpoint_dir: str | None = None, checkpoint_filename_with_path: str | None = None) -> Any:
    """A new Session for ``graph``: restored from the latest checkpoint if there is one, else initialized."""
    from gpugraph.runtime.session import Session

    if checkpoint_dir and checkpoint_filename_with_path:
        raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
    sess = Session(master, graph=graph, config=config)
    saver = scaffold.saver
    restored = False
    if saver is not None and checkpoint_filename_with_path:
        saver.restore(sess, checkpoint_filename_with_path)
        restored = True
    elif saver is not None and checkpoint_dir:
        state = checkpoint_state.get_checkpoint_state(os.fspath(checkpoint_dir))
        if state is not None and state.model_checkpoint_path:
            saver.restore(sess, state.model_checkpoint_path)
            saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
            restored = True
    init_op, init_fn = scaffold.init_op, scaffold.init_fn
    if not restored:
        if init_op is None and not init_fn and scaffold.local_init_op is None:
            raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
        if init_op is not None:
            sess.run(init_op, feed_dict=scaffold.init_feed_dict)
        if init_fn:
            init_fn(sess)
    if scaffold.local_init_op is not None:
        ready, msg = _ready(scaffold.ready_for_local_init_op, sess, "Model not ready for local init")
        if not ready:
            raise RuntimeError(f"Init operations did not make model ready for local_init.  Init op: "
                               f"{_op_name(init_op)}, init fn: {init_fn}, error: {msg}")
        _log.info("Running local_init_op.")
        sess.run(scaffold.local_init_op, feed_dict=scaffold.local_init_feed_dict)
        _log.info("Done running local_init_op.")
    ready, msg = _ready(scaffold.ready_op, sess, "Model not ready")
    if not ready:
        raise RuntimeError(f"Init operations did not make model ready.  Init op: {_op_name(init_op)}, init fn: "
                           f"{init_fn}, local_init_op: {scaffold.local_init_op}, error: {msg}")
    return sess
