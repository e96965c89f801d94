"""tf.Variable (TF1 ref variables) and the variable collections and initializers."""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework import dtypes
from gpugraph.framework.func_graph import lifted_to_outermost
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import array_ops, state_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.control_flow_ops import group, no_op
from gpugraph.ops.registry import graph_of

__all__ = [
    "Variable", "global_variables", "local_variables", "trainable_variables", "model_variables",
    "all_variables", "global_variables_initializer", "local_variables_initializer",
    "variables_initializer", "initialize_all_variables", "report_uninitialized_variables",
    "is_variable_initialized", "assert_variables_initialized",
    "initialize_local_variables", "initialize_variables", "moving_average_variables",
]


class Variable:
    """A value kept by each Session across runs, changed only by assign ops and optimizers."""

    # NumPy arrays on the left of an operator defer to us (``np_array + variable``).
    __array_priority__ = 100

    def __init__(self, initial_value: Any = None, trainable: bool | None = None, collections: Any = None,
                 validate_shape: bool = True, caching_device: Any = None, name: str | None = None,
                 variable_def: Any = None, dtype: Any = None, expected_shape: Any = None,
                 import_scope: Any = None, constraint: Any = None, use_resource: Any = None,
                 synchronization: Any = None, aggregation: Any = None, shape: Any = None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        trainable = True if trainable is None else bool(trainable)
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        from_fn = callable(initial_value) and not isinstance(initial_value, (Tensor, Variable))
        graph = get_default_graph() if from_fn else graph_of([initial_value])
        self._trainable = trainable
        # made while tracing a control-flow function: the variable lives in the outermost graph
        with lifted_to_outermost(graph) as graph, graph.as_default(), graph.control_dependencies(None), \
                graph.name_scope(name or "Variable") as scope:
            if from_fn:
                with graph.name_scope("Initializer"):
                    init = convert_to_tensor(initial_value(), dtype=dtype, name="initial_value")
            else:
                init = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            var_shape = TensorShape(shape) if shape is not None else init.shape
            if validate_shape and not var_shape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {init} (variable '{scope[:-1]}')")
            self._initial_value = init
            self._variable = state_ops.VARIABLE(name=scope, shape=var_shape, dtype=init.dtype.base_dtype)
            guarded = _guard_uninitialized_reads(scope[:-1], init)
            self._initializer_op = state_ops.ASSIGN(self._variable, guarded, name="Assign",
                                                    validate_shape=validate_shape).op
            self._snapshot = array_ops.IDENTITY(self._variable, name="read")
        self._graph = graph
        graph.add_to_collections(collections, self)

    @classmethod
    def _from_graph_elements(cls, variable: Tensor, initializer: Operation, snapshot: Tensor,
                             initial_value: Tensor, trainable: bool) -> Variable:
        """A Variable over ops that already exist (a graph rebuilt from a meta graph); adds no ops
        and joins no collection."""
        self = cls.__new__(cls)
        self._variable = variable
        self._initializer_op = initializer
        self._snapshot = snapshot
        self._initial_value = initial_value
        self._trainable = bool(trainable)
        self._graph = variable.graph
        return self

    # --- graph identity ---
    def _ref(self) -> Tensor:
        return self._variable

    def _as_tensor(self) -> Tensor:
        return self._snapshot

    def _as_graph_element(self) -> Tensor:
        return self._variable

    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> Operation:
        return self._variable.op

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def dtype(self) -> dtypes.DType:
        return self._variable.dtype

    @property
    def shape(self) -> TensorShape:
        return self._variable.shape

    def get_shape(self) -> TensorShape:
        return self._variable.shape

    @property
    def device(self) -> str:
        return self._variable.device

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def initializer(self) -> Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    def initialized_value(self) -> Tensor:
        """The value once initialized, else the initial value (safe inside other initializers)."""
        graph = self._graph
        with graph.as_default(), graph.control_dependencies(None):
            # the guarded initial value: a chain of dependent initializers works in any order
            return state_ops.initialized_value(self._variable, self._initializer_op.inputs[1])

    def value(self) -> Tensor:
        return self._snapshot

    def read_value(self) -> Tensor:
        return array_ops.identity(self._variable, name="read")

    # --- running ---
    def eval(self, session: Any = None) -> Any:
        return self._variable.eval(session=session)

    def load(self, value: Any, session: Any = None) -> None:
        from gpugraph.framework.default_session import session_for as _session_for

        sess = _session_for(session, self._graph, f"Variable '{self.name}'")
        sess.run(self._initializer_op, {self._initial_value: value})

    def assign(self, value: Any, use_locking: bool = False, name: str | None = None,
               read_value: bool = True) -> Any:
        out = state_ops.assign(self, value, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_add(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Any:
        out = state_ops.assign_add(self, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_sub(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Any:
        out = state_ops.assign_sub(self, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    # TF1's sparse updates: sparse_delta is an IndexedSlices-like object (.indices, .values)
    def scatter_update(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_update", self, sparse_delta, name, use_locking)

    def scatter_add(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_add", self, sparse_delta, name, use_locking)

    def scatter_sub(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_sub", self, sparse_delta, name, use_locking)

    def scatter_mul(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_mul", self, sparse_delta, name, use_locking)

    def scatter_div(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_div", self, sparse_delta, name, use_locking)

    def scatter_max(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_max", self, sparse_delta, name, use_locking)

    def scatter_min(self, sparse_delta: Any, use_locking: bool = False, name: str | None = None) -> Any:
        return _scatter("scatter_min", self, sparse_delta, name, use_locking)

    def batch_scatter_update(self, sparse_delta: Any, use_locking: bool = True, name: str | None = None) -> Any:
        return _scatter("batch_scatter_update", self, sparse_delta, name, use_locking)

    def scatter_nd_update(self, indices: Any, updates: Any, name: str | None = None) -> Any:
        from gpugraph.ops import scatter_ops
        return scatter_ops.scatter_nd_update(self, indices, updates, name=name)

    def scatter_nd_add(self, indices: Any, updates: Any, name: str | None = None) -> Any:
        from gpugraph.ops import scatter_ops
        return scatter_ops.scatter_nd_add(self, indices, updates, name=name)

    def scatter_nd_sub(self, indices: Any, updates: Any, name: str | None = None) -> Any:
        from gpugraph.ops import scatter_ops
        return scatter_ops.scatter_nd_sub(self, indices, updates, name=name)

    def count_up_to(self, limit: int) -> Tensor:
        from gpugraph.ops import scatter_ops
        return scatter_ops.count_up_to(self, limit)

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError("Using a tf.Variable as a Python bool is not allowed.")

    def __iter__(self) -> Any:
        raise TypeError("'Variable' object is not iterable.")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Cannot convert a symbolic Variable ({self.name}) to a numpy array.")


def _scatter(fn: str, var: Variable, sparse_delta: Any, name: str | None, use_locking: bool) -> Any:
    from gpugraph.ops import scatter_ops

    if not (hasattr(sparse_delta, "indices") and hasattr(sparse_delta, "values")):
        raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
    return getattr(scatter_ops, fn)(var, sparse_delta.indices, sparse_delta.values, use_locking=use_locking, name=name)


def _guard_uninitialized_reads(var_name: str, init: Tensor) -> Tensor:
    """TF1 rewrites reads of other variables inside an initial value into their
    ``initialized_value()``, so one ``global_variables_initializer()`` run works in any order.
    Ops between such a read and ``init`` are copied onto the guarded value; the rest is shared."""
    graph = init.graph
    variables: dict[Operation, Variable] | None = None  # built on the first variable read met
    done: dict[Operation, Operation] = {}
    stack: list[tuple[Operation, bool]] = [(init.op, False)]
    while stack:  # iterative post-order: initial-value graphs may be deep
        op, expanded = stack.pop()
        if op in done:
            continue
        if op.opdef.role == "variable":
            if variables is None:
                variables = {v.op: v for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES)
                             for v in graph.get_collection(key) if isinstance(v, Variable)}
            var = variables.get(op)
            done[op] = op if var is None else var.initialized_value().op
            continue
        if op.opdef.stateful or op.opdef.ref_input or not op.inputs:
            done[op] = op  # never copy side effects or random streams
            continue
        if not expanded:
            stack.append((op, True))
            stack.extend((t.op, False) for t in op.inputs if t.op not in done)
            continue
        inputs = [done[t.op].outputs[t.value_index] for t in op.inputs]
        if all(a is b for a, b in zip(inputs, op.inputs)):
            done[op] = op
            continue
        with graph.name_scope(None):
            name = graph.unique_name(f"{op.name}_{var_name}")
            specs = [(t.shape, t.dtype) for t in op.outputs]
            done[op] = graph.create_op(op.opdef, inputs, op.attrs, specs, name=name)
    return done[init.op].outputs[init.value_index]


def _delegate(dunder: str) -> Callable[..., Any]:
    def method(self: Variable, *args: Any) -> Any:
        return getattr(Tensor, dunder)(self._snapshot, *args)
    method.__name__ = dunder
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or"):
    for _d in (f"__{_op}__", f"__r{_op}__"):
        setattr(Variable, _d, _delegate(_d))
for _d in ("__neg__", "__abs__", "__invert__", "__getitem__", "__lt__", "__le__", "__gt__", "__ge__", "__xor__",
           "__rxor__"):
    setattr(Variable, _d, _delegate(_d))


# --- collections and initializers ---
def global_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables() -> list[Variable]:
    return global_variables()


def local_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list: Any, name: str = "init") -> Operation:
    var_list = list(var_list)
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer() -> Operation:
    return variables_initializer(global_variables(), name="init")


def initialize_all_variables() -> Operation:
    return global_variables_initializer()


def initialize_local_variables() -> Operation:
    return local_variables_initializer()


def initialize_variables(var_list: Any, name: str = "init") -> Operation:
    return variables_initializer(var_list, name=name)


def moving_average_variables(scope: str | None = None) -> list[Variable]:
    """The variables that ExponentialMovingAverage.apply averaged (GraphKeys.MOVING_AVERAGE_VARIABLES)."""
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init")


def is_variable_initialized(variable: Variable) -> Tensor:
    return state_ops.is_variable_initialized(variable)


def report_uninitialized_variables(var_list: Any = None, name: str = "report_uninitialized_variables") -> Tensor:
    """A 1-D string tensor with the names of the variables not yet initialized in the session."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    return state_ops.report_uninitialized([v.op for v in var_list], name=name)


def assert_variables_initialized(var_list: Any = None) -> Any:
    return report_uninitialized_variables(var_list)
