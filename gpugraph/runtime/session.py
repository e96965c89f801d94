"""Session: owns variable values and random streams, caches compiled plans, runs them."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, Iterator

import numpy as np

from gpugraph import errors
from gpugraph.config import check_session_config
from gpugraph.framework.graph import Graph, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.constant_ops import to_numpy
from gpugraph.runtime import fetches as fetch_lib
from gpugraph.runtime.backend import Backend, default_backend
from gpugraph.runtime.plan import ExecutionPlan, compile_plan, failing_step

logger = logging.getLogger("gpugraph")


class VariableCell:
    """One variable's value in one session; ``value is None`` until initialized."""

    __slots__ = ("name", "value")

    def __init__(self, name: str):
        self.name = name
        self.value: Any = None


class _CompiledRun:
    """A plan plus how to map the user's fetch structure and feed keys onto it."""

    __slots__ = ("plan", "rebuild", "feed_keys")

    def __init__(self, plan: ExecutionPlan, rebuild: Any, feed_keys: tuple[Any, ...]):
        self.plan = plan
        self.rebuild = rebuild
        self.feed_keys = feed_keys


class BaseSession:
    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None):
        if graph is not None and not isinstance(graph, Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(graph)}")
        self._config = check_session_config(_with_default_config(config))  # fails before the session exists
        self._graph = graph if graph is not None else get_default_graph()
        self._backend: Backend = default_backend()
        self._closed = False
        self._lock = threading.RLock()
        self._cells: dict[Operation, VariableCell] = {}
        self._rngs: dict[Operation, np.random.Generator] = {}
        self._runs: dict[Any, _CompiledRun] = {}
        self.plan_builds = 0  # how many plans were compiled: each (fetches, feeds) signature once
        self._context_managers: list[Any] = []

    # --- RunContext for plans ---
    @property
    def backend(self) -> Backend:
        return self._backend

    def cell(self, var_op: Operation) -> VariableCell:
        with self._lock:
            cell = self._cells.get(var_op)
            if cell is None:
                cell = self._cells[var_op] = VariableCell(var_op.name)
            return cell

    def rng(self, op: Operation) -> np.random.Generator:
        with self._lock:
            gen = self._rngs.get(op)
            if gen is None:
                seeds = op.get_attr("seeds")
                gen = np.random.default_rng(list(seeds) if seeds is not None else None)
                self._rngs[op] = gen
            return gen

    # --- public API ---
    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def graph_def(self) -> Any:
        return self._graph

    @property
    def sess_str(self) -> str:
        return ""

    def run(self, fetches: Any, feed_dict: Any = None, options: Any = None, run_metadata: Any = None) -> Any:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        try:
            key = (fetch_lib.structure_key(fetches), tuple(feed_dict) if feed_dict else ())
            compiled = self._runs.get(key)
        except TypeError:
            key, compiled = None, None  # an unhashable fetch: compile without caching
        if compiled is None:
            compiled = self._compile(fetches, feed_dict, key)
        return compiled.rebuild(self._execute(compiled, feed_dict))

    def make_callable(self, fetches: Any, feed_list: Any = None, accept_options: bool = False) -> Any:
        """A function running ``fetches`` with positional values for ``feed_list`` (one cached plan)."""
        feeds = list(feed_list or [])

        def call(*values: Any, **kwargs: Any) -> Any:
            if len(values) != len(feeds):
                raise TypeError(f"Expected {len(feeds)} feed values, got {len(values)}")
            return self.run(fetches, dict(zip(feeds, values)) if feeds else None)
        return call

    def _compile(self, fetches: Any, feed_dict: Any, key: Any) -> _CompiledRun:
        with self._lock:
            if key is not None and key in self._runs:
                return self._runs[key]
            elements: list[Tensor | Operation] = []
            rebuild = fetch_lib.flatten(fetches, self._graph, elements)
            feed_keys = tuple(feed_dict) if feed_dict else ()
            feeds = [self._feed_tensor(k) for k in feed_keys]
            plan = compile_plan(elements, feeds, self)
            self.plan_builds += 1
            compiled = _CompiledRun(plan, rebuild, feed_keys)
            if key is not None:
                self._runs[key] = compiled
            return compiled

    def _feed_tensor(self, key: Any) -> Tensor:
        try:
            el = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (TypeError, KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
        return el

    def _execute(self, compiled: _CompiledRun, feed_dict: Any) -> list[Any]:
        plan = compiled.plan
        slots = plan.template.copy()
        if plan.feeds:
            for spec, key in zip(plan.feeds, compiled.feed_keys):
                slots[spec.slot] = _checked_feed(spec, feed_dict[key])
        for op, cell in plan.precheck:
            if cell.value is None:
                raise errors.FailedPreconditionError(
                    None, op, f"Attempting to use uninitialized value {op.name}\n\t [[{op.name}/read]]")
        try:
            with np.errstate(all="ignore"):
                plan.runner(slots)
        except errors.OpError:
            raise
        except Exception as e:
            step = failing_step(plan, e)
            where = f"{step.op.name} ({step.op.type})" if step else "plan"
            op = step.op if step else None
            raise errors.InvalidArgumentError(None, op, f"{where}: {type(e).__name__}: {e}") from e
        out = []
        for slot, copy in zip(plan.fetch_slots, plan.copy_on_fetch):
            if slot is None:
                out.append(None)
                continue
            value = slots[slot]
            if getattr(value, "ndim", 1) == 0:
                value = value[()]  # TF1 returns NumPy scalars for 0-d results
            elif copy:
                value = value.copy()
            out.append(value)
        return out

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._cells.clear()
            self._runs.clear()

    def __del__(self) -> None:
        try:
            self._closed = True
        except Exception:
            pass

    @contextlib.contextmanager
    def as_default(self) -> Iterator[BaseSession]:
        _session_stack().append(self)
        try:
            yield self
        finally:
            _session_stack().pop()

    def __enter__(self) -> BaseSession:
        graph_cm = self._graph.as_default()
        session_cm = self.as_default()
        graph_cm.__enter__()
        session_cm.__enter__()
        self._context_managers.append((graph_cm, session_cm))
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        graph_cm, session_cm = self._context_managers.pop()
        session_cm.__exit__(exc_type, exc, tb)
        graph_cm.__exit__(exc_type, exc, tb)
        self.close()


class Session(BaseSession):
    """``tf.Session(target='', graph=None, config=None)``."""


class InteractiveSession(BaseSession):
    """A session that makes itself the default session (and its graph the default) until closed."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None):
        super().__init__(target, graph, config)
        self._graph_cm = self._graph.as_default()
        self._session_cm = self.as_default()
        self._graph_cm.__enter__()
        self._session_cm.__enter__()

    def close(self) -> None:
        if not self._closed and self._session_cm is not None:
            self._session_cm.__exit__(None, None, None)
            self._graph_cm.__exit__(None, None, None)
            self._session_cm = None
        super().close()


def _checked_feed(spec: Any, value: Any) -> Any:
    """Convert one fed value to the tensor's dtype and check its shape; errors name the tensor."""
    kind = type(value)
    if kind is np.ndarray and value.dtype == spec.np_dtype:
        arr = value
    elif (kind is float or kind is np.float64 or kind is np.float32) and spec.np_dtype.kind == "f":
        arr = np.asarray(value, dtype=spec.np_dtype)  # the per-sample loop's scalars: nothing to check
    else:
        if isinstance(value, (Tensor, Operation)):
            raise TypeError(f"The value of a feed cannot be a tf.Tensor object ('{spec.tensor.name}' was fed "
                            f"{value}). Acceptable feed values include Python scalars, strings, lists, "
                            f"numpy ndarrays.")
        arr = to_numpy(value, spec.tensor.dtype, f"Feed for Tensor '{spec.tensor.name}'")
    dims = spec.dims
    if dims is not None:
        shape = arr.shape
        if len(shape) != len(dims) or any(d is not None and d != s for d, s in zip(dims, shape)):
            raise ValueError(f"Cannot feed value of shape {shape} for Tensor '{spec.tensor.name}', "
                             f"which has shape '{spec.tensor.shape}'")
    return arr


_local = threading.local()
_default_config: list[Any] = [None]
_default_config_note = threading.Event()


def set_default_config(config: Any) -> None:
    """Settings for every Session made without ``config=`` (``gpugraph run --config``); None clears."""
    _default_config[0] = check_session_config(config) if config is not None else None
    _default_config_note.clear()


def get_default_config() -> Any:
    return _default_config[0]


def _with_default_config(config: Any) -> Any:
    default = _default_config[0]
    if default is None:
        return config
    if config is None:
        return default
    if not _default_config_note.is_set():
        _default_config_note.set()
        logger.info("gpugraph: a Session was given config=...; it is used instead of the default config")
    return config


def _session_stack() -> list[BaseSession]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_session() -> BaseSession | None:
    stack = _session_stack()
    return stack[-1] if stack else None


def _session_for(session: BaseSession | None, graph: Graph, what: str) -> BaseSession:
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(f"Cannot evaluate {what} using `eval()` or `run()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit session.")
    if session.graph is not graph:
        raise ValueError(f"Cannot use the given session to evaluate {what}: the tensor's graph is "
                         "different from the session's graph.")
    return session
