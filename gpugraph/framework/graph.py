"""Graph: the container of operations, with TF1's unique names, scopes and collections."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from gpugraph.framework.tensor import Operation, Tensor

if TYPE_CHECKING:
    from gpugraph.ops.registry import OpDef


# TF1's rules: a root-level name must start with a letter, digit or '.'; nested ones may not hold
# spaces or other punctuation either.
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\-/>]*$")


class GraphKeys:
    """Standard collection names."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    METRIC_VARIABLES = "metric_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    TRAIN_OP = "train_op"
    GLOBAL_STEP = "global_step"
    VARIABLES = GLOBAL_VARIABLES


class Graph:
    """A TF1 dataflow graph. Building it touches no arrays."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._local = threading.local()
        self._collections: dict[str, list[Any]] = {}
        self._last_id = 0
        self._finalized = False
        self.seed: int | None = None
        # variable_scope keeps its VariableStore here, one per graph.
        self._variable_store: Any = None

    # --- per-thread building state (TF1 keeps scopes thread-local) ---
    @property
    def _state(self) -> threading.local:
        s = self._local
        if not hasattr(s, "name_stack"):
            s.name_stack = ""
            s.control_stack = []
            s.device_stack = []
            s.colocation_stack = []
        return s

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    @property
    def version(self) -> int:
        return self._last_id

    @property
    def outermost_graph(self) -> Graph:
        """This graph; a function graph (control-flow sub-graph) answers the graph enclosing it all."""
        return self

    @property
    def finalized(self) -> bool:
        return self._finalized

    def finalize(self) -> None:
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        """Open a finalized graph again (MonitoredSession does so on close, as TF1 does)."""
        self._finalized = False

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        _graph_stack().append(self)
        try:
            yield self
        finally:
            _graph_stack().pop()

    # --- names ---
    def get_name_scope(self) -> str:
        return self._state.name_stack

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """TF1's rule: 'a', then 'a_1', 'a_2', ... case-insensitively, under the current scope."""
        stack = self._state.name_stack
        if stack:
            name = f"{stack}/{name}"
        with self._lock:  # cheap, and keeps names unique when threads build into one graph
            key = name.lower()
            i = self._names_in_use.get(key, 0)
            if mark_as_used:
                self._names_in_use[key] = i + 1
            if i > 0:
                base_key = key
                while key in self._names_in_use:
                    key = f"{base_key}_{i}"
                    i += 1
                if mark_as_used:
                    self._names_in_use[key] = 1
                name = f"{name}_{i - 1}"
            return name

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Enter a scope; yields its string ('loss/'). A name ending in '/' is taken as is."""
        state = self._state
        old = state.name_stack
        if name:
            regex = _VALID_SCOPE_NAME if old else _VALID_OP_NAME
            if not regex.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            new = self.unique_name(name)
        state.name_stack = new
        try:
            yield f"{new}/" if new else ""
        finally:
            state.name_stack = old

    # --- op creation: the only place Operations are made ---
    def create_op(
        self,
        opdef: OpDef,
        inputs: Sequence[Tensor],
        attrs: dict[str, Any],
        output_specs: Sequence[tuple[Any, Any]],
        name: str,
    ) -> Operation:
        with self._lock:
            if self._finalized:
                raise RuntimeError("Graph is finalized and cannot be modified.")
            if name in self._ops_by_name:
                # only an absolute name ("x/") can get here; TF1 refuses it the same way
                raise ValueError(f"Duplicate node name in graph: '{name}'")
            self._names_in_use.setdefault(name.lower(), 1)
            frames = self._active_control_frames()
            control = _control_inputs(frames, inputs)
            op = Operation(self, name, opdef, inputs, attrs, output_specs, control, "")
            op._device = self._current_device(op)
            for target in reversed(self._state.colocation_stack):
                if target.device:  # the innermost colocation target with a device wins
                    op._device = target.device
                    break
            for frame in frames:
                frame.seen.add(op)
            self._ops.append(op)
            self._ops_by_name[name] = op
            return op

    def _active_control_frames(self) -> list[_ControlFrame]:
        """The frames opened since the innermost ``control_dependencies(None)``."""
        stack = self._state.control_stack
        start = 0
        for i, frame in enumerate(stack):
            if frame is None:
                start = i + 1
        return stack[start:]

    def _current_device(self, op: Operation) -> str:
        """TF1 applies device specs innermost first; an outer string only fills fields still unset,
        a device function replaces the device, and ``None`` stops the walk."""
        from gpugraph.framework.device import canonical_device

        device = ""
        for spec in reversed(self._state.device_stack):
            if spec is None:
                break
            if callable(spec):
                op._device = device
                result = spec(op)
                if result is not None and not isinstance(result, str):
                    result = result.to_string()  # a DeviceSpec
                device = canonical_device(result or "")
            elif spec:
                device = _merge_device(spec, device)
        return device

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Sequence[Any] | None) -> Iterator[None]:
        """Ops made inside run after ``control_inputs``; ``None`` clears outer dependencies."""
        stack = self._state.control_stack
        if control_inputs is None:
            stack.append(None)
        else:
            current = {op for frame in self._active_control_frames() for op in frame.ops}
            ops: list[Operation] = []
            for c in control_inputs:
                el = self.as_graph_element(c, allow_tensor=True, allow_operation=True)
                op = el.op if isinstance(el, Tensor) else el
                if op not in current:  # already required by an outer block
                    ops.append(op)
                    current.add(op)
            stack.append(_ControlFrame(ops))
        try:
            yield
        finally:
            stack.pop()

    @contextlib.contextmanager
    def device(self, device_name_or_function: str | Callable[[Operation], str] | None) -> Iterator[None]:
        """Record a device spec ('/gpu:0', '/cpu:0', a function of the op) on ops made inside."""
        spec = device_name_or_function
        if hasattr(spec, "to_string"):  # a DeviceSpec
            spec = spec.to_string()
        if isinstance(spec, str):
            from gpugraph.framework.device import canonical_device

            spec = canonical_device(spec)
        self._state.device_stack.append(spec)
        try:
            yield
        finally:
            self._state.device_stack.pop()

    @contextlib.contextmanager
    def colocate_with(self, op: Any, ignore_existing: bool = False) -> Iterator[None]:
        """Ops made inside take ``op``'s device; as in TF1 the outer device specs are set aside."""
        if op is None and not ignore_existing:
            raise ValueError("Trying to reset colocation (op is None) but ignore_existing is not True")
        target = None
        if op is not None:
            el = self.as_graph_element(op, allow_tensor=True, allow_operation=True)
            target = el.op if isinstance(el, Tensor) else el
        state = self._state
        saved_devices, saved_colocation = state.device_stack, state.colocation_stack
        state.device_stack = []
        base = [] if ignore_existing else saved_colocation
        state.colocation_stack = base + [target] if target is not None else list(base)
        try:
            yield
        finally:
            state.device_stack, state.colocation_stack = saved_devices, saved_colocation

    def as_graph_def(self, from_version: int | None = None, add_shapes: bool = False) -> Any:
        """The graph as TF's GraphDef protobuf (ops made after ``from_version`` only, when given);
        ``add_shapes`` adds each node's ``_output_shapes``."""
        from gpugraph.framework.graph_def import graph_as_graph_def

        return graph_as_graph_def(self, from_version=from_version, add_shapes=add_shapes)

    # --- lookup ---
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        el = self.as_graph_element(name, allow_tensor=False, allow_operation=True)
        assert isinstance(el, Operation)
        return el

    def get_tensor_by_name(self, name: str) -> Tensor:
        el = self.as_graph_element(name, allow_tensor=True, allow_operation=False)
        assert isinstance(el, Tensor)
        return el

    def as_graph_element(self, obj: Any, allow_tensor: bool = True, allow_operation: bool = True) -> Any:
        """Resolve a Tensor, Operation, Variable or name to an element of this graph."""
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            return self._element_by_name(obj, allow_tensor, allow_operation)
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj!r} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def _element_by_name(self, name: str, allow_tensor: bool, allow_operation: bool) -> Any:
        if ":" in name:
            if not allow_tensor:
                raise ValueError(f"Name '{name}' appears to refer to a Tensor, not an Operation.")
            op_name, _, index = name.rpartition(":")
            if not index.isdigit():
                raise ValueError(f"The name '{name}' looks like a Tensor name, but is not a valid one.")
            op = self._ops_by_name.get(op_name)
            if op is None:
                raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. "
                               f"The operation, '{op_name}', does not exist in the graph.")
            if int(index) >= len(op.outputs):
                raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. "
                               f"The operation, '{op_name}', exists but only has {len(op.outputs)} outputs.")
            return op.outputs[int(index)]
        op = self._ops_by_name.get(name)
        if op is None:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.")
        if not allow_operation:
            raise ValueError(f"The name '{name}' refers to an Operation, not a Tensor. "
                             f"Tensor names must be of the form \"<op_name>:<output_index>\".")
        return op

    # --- collections ---
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list[Any]:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        import re

        pattern = re.compile(scope)
        return [it for it in items if hasattr(it, "name") and pattern.match(it.name)]

    def get_all_collection_keys(self) -> list[str]:
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)


class _ControlFrame:
    """One ``control_dependencies`` block: its ops, and the ops created while it is open."""

    __slots__ = ("ops", "seen")

    def __init__(self, ops: list[Operation]):
        self.ops = ops
        self.seen: set[Operation] = set()


def _control_inputs(frames: list[_ControlFrame], inputs: Sequence[Tensor]) -> list[Operation]:
    """TF1's rule: skip a block when an input was made inside it (that input already waits);
    never add a control edge on an op that is already a data input."""
    input_ops = [t.op for t in inputs]
    control: list[Operation] = []
    for frame in frames:
        if any(op in frame.seen for op in input_ops):
            continue
        control.extend(op for op in frame.ops if op not in input_ops and op not in control)
    return control


def _merge_device(outer: str, inner: str) -> str:
    from gpugraph.framework.device import merge_device

    return merge_device(outer, inner)


# --- the default graph stack: a global default, plus per-thread `as_default` frames ---
_global_default: list[Graph] = [Graph()]
# How many function graphs are being traced (any thread): while 0, inputs need no capture check.
_tracing: list[int] = [0]
_thread_local = threading.local()


def _graph_stack() -> list[Graph]:
    if not hasattr(_thread_local, "stack"):
        _thread_local.stack = []
    return _thread_local.stack


def get_default_graph() -> Graph:
    stack = _graph_stack()
    return stack[-1] if stack else _global_default[0]


def reset_default_graph() -> None:
    """Clears the default graph; an error inside a `with graph.as_default()` block, as in TF1."""
    if _graph_stack():
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _global_default[0] = Graph()
