"""Session: owns variable values and random streams, caches compiled plans, runs them."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

from typing import Any, Iterator, NamedTuple

import numpy as np

from gpugraph import errors
from gpugraph.config import check_session_config
from gpugraph.framework.default_session import session_stack
from gpugraph.framework.graph import Graph, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.philox import PhiloxState
from gpugraph.runtime import fetches as fetch_lib
from gpugraph.runtime.backend import Backend, default_backend
from gpugraph.runtime.default_config import with_default_config
from gpugraph.runtime.feeds import checked_feed
from gpugraph.runtime.graph_replay import release_replay
from gpugraph.runtime.host_threads import run_threads
from gpugraph.runtime.device_setup import SessionDevices, session_devices
from gpugraph.compiler.place import Placement, place
from gpugraph.compiler.place import log_lines as placement_lines
from gpugraph.compiler.ir import ExecutionPlan
from gpugraph.compiler.pipeline import compile_plan
from gpugraph.compiler.schedule import prune
from gpugraph.runtime.run_errors import finish_on, located, run_error
from gpugraph.compiler.codegen import failing_step

logger = logging.getLogger("gpugraph")


@np.errstate(all="ignore")  # TF1 computes inf and NaN without a word; NumPy would warn
def _quietly_public(runner: Any, slots: list[Any]) -> None:
    runner(slots)


try:  # NumPy's error state is a context variable: set it to one prebuilt "ignore all" state
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _IGNORE_ALL: Any = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # another NumPy: its public errstate
    _extobj_contextvar = None


def _quietly(runner: Any, slots: list[Any]) -> None:
    """``runner(slots)`` with NumPy's floating-point warnings off, as ``np.errstate(all="ignore")`` does.
    Setting the state NumPy's errstate sets, built once, costs a third of the decorated errstate and a
    sixth of a ``with`` block (0.2, 0.6 and 1.4 us), which a per-sample loop pays on every run."""
    if _extobj_contextvar is None:
        _quietly_public(runner, slots)
        return
    token = _extobj_contextvar.set(_IGNORE_ALL)
    try:
        runner(slots)
    finally:
        _extobj_contextvar.reset(token)


class VariableCell:
    """One variable's value in one session; ``value is None`` until initialized.

    ``device`` is where the value lives once a plan has placed the variable (None: on the host,
    not placed yet); the placer keeps it there in later plans. ``lock`` is held around the
    in-place updates built with ``use_locking=True``.
    """

    __slots__ = ("name", "value", "device", "lock")

    def __init__(self, name: str):
        self.name = name
        self.value: Any = None
        self.device: str | None = None
        self.lock = threading.Lock()


class _CompiledRun:
    """A plan plus how to map the user's fetch structure and feed keys onto it."""

    __slots__ = ("plan", "rebuild", "feed_keys", "gpu_backends")

    def __init__(self, plan: ExecutionPlan, rebuild: Any, feed_keys: tuple[Any, ...], gpu_backends: tuple[Any, ...]):
        self.plan = plan
        self.rebuild = rebuild
        self.feed_keys = feed_keys
        self.gpu_backends = gpu_backends  # synchronized at the end of each run: its faults are its own


class BaseSession:
    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None):
        if graph is not None and not isinstance(graph, Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(graph)}")
        self._config = check_session_config(with_default_config(config))  # fails before the session exists
        self._graph = graph if graph is not None else get_default_graph()
        self._backend: Backend = default_backend()
        self._devices = session_devices(self._config)
        self._host_threads = run_threads(self._config)  # the BLAS threads of each run (intra_op)
        self._has_gpu = self._devices.has_gpu
        self._closed = False
        self._lock = threading.RLock()
        self._cells: dict[Operation, VariableCell] = {}
        self._rngs: dict[Operation, np.random.Generator] = {}
        self._philox: dict[Operation, PhiloxState] = {}
        self._runs: dict[Any, _CompiledRun] = {}
        self.plan_builds = 0  # how many plans were compiled: each (fetches, feeds) signature once
        self._context_managers: list[Any] = []

    # --- RunContext for plans ---
    @property
    def backend(self) -> Backend:
        """The host backend (NumPy); ops placed on a GPU use ``backend_of(device)``."""
        return self._backend

    def backend_of(self, device: str) -> Backend:
        return self._devices.backend_of(device)

    def backend_of_cell(self, cell: VariableCell) -> Backend:
        return self._devices.backend_of(cell.device) if cell.device else self._backend

    @property
    def devices(self) -> SessionDevices:
        return self._devices

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

    def philox(self, op: Operation) -> PhiloxState:
        """The op's Philox stream in this session, keyed by its (graph seed, op seed) as TF's kernels."""
        with self._lock:
            state = self._philox.get(op)
            if state is None:
                state = self._philox[op] = PhiloxState(*(op.get_attr("seeds") or (0, 0)))
            return state

    # --- public API ---
    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def graph_def(self) -> Any:
        """The session graph's GraphDef protobuf."""
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return ""

    def run(self, fetches: Any, feed_dict: Any = None, options: Any = None, run_metadata: Any = None) -> Any:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        try:
            key = (fetch_lib.structure_key(fetches), tuple(feed_dict) if feed_dict else ())
            if self._has_gpu and feed_dict:  # placement weighs tensor sizes: feed shapes matter
                key += (tuple(np.shape(v) for v in feed_dict.values()),)
            compiled = self._runs.get(key)
        except TypeError:
            key, compiled = None, None  # an unhashable fetch: compile without caching
        if compiled is None:
            compiled = self._compile(fetches, feed_dict, key)
        if run_metadata is not None and getattr(options, "trace_level", 0):
            return compiled.rebuild(self._execute(compiled, feed_dict, run_metadata))
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
            plan = compile_plan(elements, feeds, self,
                                place=lambda order: self._place(order, elements, feeds, feed_dict))
            self.plan_builds += 1
            devices = {p.device.name for p in (plan.placements or {}).values() if p.device.kind == "GPU"}
            compiled = _CompiledRun(plan, rebuild, feed_keys, tuple(self.backend_of(d) for d in sorted(devices)))
            if key is not None:
                self._runs[key] = compiled
            return compiled

    def _place(self, order: list[Operation], fetches: list[Any], feeds: list[Tensor],
               feed_dict: Any) -> dict[Operation, Placement] | None:
        """Devices for ``order``; None when everything runs on the host and nothing asks otherwise."""
        log = bool(getattr(self._config, "log_device_placement", False))
        if not (self._devices.has_gpu or log or any(op.device for op in order)):
            return None  # host only: the plan needs no placement
        placements = self._placements(order, fetches, feeds, feed_dict)
        for op, placement in placements.items():
            for var_op in _variables_of(op):
                self._settle(var_op, placement.device.name)
        if log:
            for line in placement_lines(placements):
                print(line, file=sys.stderr)
        return placements

    def _placements(self, order: list[Operation], fetches: list[Any], feeds: list[Tensor],
                    feed_dict: Any) -> dict[Operation, Placement]:
        """The placer's answer for a run, variables kept where their values live."""
        table = self._devices.table
        pinned = {op: table.get(cell.device) for op, cell in self._cells.items()
                  if cell.device is not None and cell.value is not None and cell.device in table.names()}
        feed_shapes = {t: np.shape(feed_dict[k]) for t, k in zip(feeds, feed_dict or ())}
        return place(order, table, allow_soft_placement=bool(getattr(self._config, "allow_soft_placement", False)),
                     feed_shapes=feed_shapes, fetches=fetches, pinned=pinned)

    def _settle(self, var_op: Operation, device: str) -> None:
        """Record where ``var_op`` lives; a value that lives elsewhere (restored, say) moves there once."""
        cell = self.cell(var_op)
        if cell.device == device:
            return
        if cell.value is not None:
            source = self.backend_of_cell(cell)
            target = self.backend_of(device)
            host_value = source.to_host(cell.value) if not source.is_host else cell.value
            cell.value = target.to_device(host_value) if not target.is_host else host_value
        cell.device = device

    def explain_placement(self, fetches: Any, feed_dict: Any = None) -> list[PlacementRecord]:
        """Each node of the run ``fetches`` would make: the device that run uses and why, without running."""
        elements: list[Tensor | Operation] = []
        fetch_lib.flatten(fetches, self._graph, elements)
        feeds = [self._feed_tensor(k) for k in (feed_dict or ())]
        order = prune(elements, set(feeds))
        placements = self._placements(order, elements, feeds, feed_dict)
        return [PlacementRecord(op.name, op.type, p.device.name, p.reason) for op, p in placements.items()]

    def _feed_tensor(self, key: Any) -> Tensor:
        try:
            el = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (TypeError, KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
        return el

    def _execute(self, compiled: _CompiledRun, feed_dict: Any, run_metadata: Any = None) -> list[Any]:
        plan = compiled.plan
        slots = plan.template.copy()
        if plan.feeds:
            for spec, key in zip(plan.feeds, compiled.feed_keys):
                slots[spec.slot] = checked_feed(spec, feed_dict[key])
        for op, cell in plan.precheck:
            if cell.value is None:
                raise located(errors.FailedPreconditionError(
                    None, op, f"Attempting to use uninitialized value {op.name}\n\t [[{op.name}/read]]"), op)
        # a run with the plan to itself replays its captured GPU segments (their buffers are the plan's)
        replay = plan.replay_runner is not None and plan.exclusive.acquire(blocking=False)
        try:
            if run_metadata is None and plan.placements is None and self._host_threads is None:
                _quietly(plan.runner, slots)  # the common host run: nothing else to set up
            else:
                with np.errstate(all="ignore"), self._host_threads or contextlib.nullcontext():
                    if run_metadata is not None:
                        self._run_traced(plan, slots, run_metadata, replay)
                    elif plan.placements is None:
                        plan.runner(slots)
                    else:
                        with self._activate():
                            (plan.replay_runner if replay else plan.runner)(slots)  # type: ignore[misc]
            for backend in compiled.gpu_backends:
                finish_on(backend)
        except errors.OpError as e:
            step = failing_step(plan, e)
            located(e, step.op if step else None)  # same class and traceback, now saying where
            raise
        except Exception as e:
            raise self._run_error(plan, e, slots) from e
        finally:
            if replay:
                plan.exclusive.release()
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

    def _run_traced(self, plan: ExecutionPlan, slots: list[Any], run_metadata: Any, replay: bool = False) -> None:
        """Runs the plan timing each step; ``run_metadata.step_stats`` gets one entry per step."""
        from gpugraph.runtime.tracing import run_traced

        def run(runner: Any) -> None:
            with self._activate() if plan.placements is not None else contextlib.nullcontext():
                runner(slots)
        run_metadata.step_stats = run_traced(plan, run, replay)

    @property
    def config(self) -> Any:
        """The session's ConfigProto (with defaults filled in)."""
        return self._config

    def _activate(self) -> Any:
        """CUDA's current device and stream for a plan with GPU steps (GPU:0's; others switch per copy)."""
        if not self._has_gpu:
            return contextlib.nullcontext()
        return self.backend_of(self._devices.table.gpus()[0].name).activate()

    def _run_error(self, plan: ExecutionPlan, exc: Exception, slots: list[Any]) -> errors.OpError:
        step = failing_step(plan, exc)
        backend = self._step_backend(plan, step.op) if step is not None else self._backend
        return run_error(step, exc, slots, backend)

    def _step_backend(self, plan: ExecutionPlan, op: Operation) -> Backend:
        if plan.placements and op in plan.placements:
            return self.backend_of(plan.placements[op].device.name)
        return self._backend

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for cell in self._cells.values():  # compiled steps may still hold a cell: drop its device array now
                cancel = getattr(cell.value, "session_closed", None)
                if cancel is not None:  # a queue: its blocked runs end with CancelledError, as TF1's
                    cancel()
                cell.value = None
            self._cells.clear()
            release_replay(compiled.plan.replay_steps for compiled in self._runs.values())  # graphs, feed buffers
            self._runs.clear()
            self._devices.release()  # unlike TF1, the GPU memory goes back: a notebook can open another

    def __del__(self) -> None:
        try:
            self._closed = True
        except Exception:
            pass

    @contextlib.contextmanager
    def as_default(self) -> Iterator[BaseSession]:
        session_stack().append(self)
        try:
            yield self
        finally:
            session_stack().pop()

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


class PlacementRecord(NamedTuple):
    node: str
    op_type: str
    device: str
    reason: str


def _variables_of(op: Operation) -> list[Operation]:
    """The variables whose storage ``op`` touches on its device: itself, or its ref inputs."""
    if op.opdef.role == "variable":
        return [op]
    return [t.op for t in op.inputs[:op.opdef.ref_input]]

