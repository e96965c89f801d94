"""variable_scope and get_variable: named, shareable variables with TF1's reuse rules."""

from __future__ import annotations

import copy
import enum
import functools
import inspect
from typing import Any, Callable

from gpugraph import init_ops
from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import infer_dtype
from gpugraph.ops.registry import graph_of
from gpugraph.variables import Variable

__all__ = ["AUTO_REUSE", "VariableScope", "variable_scope", "get_variable", "get_local_variable",
           "get_variable_scope", "variable_op_scope", "no_regularizer"]


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


def no_regularizer(_: Any) -> None:
    """Use as a regularizer to turn regularization off for a variable."""
    return None


class VariableScope:
    """A variable scope's settings: its name, reuse mode, default initializer, dtype, getter."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None, regularizer: Any = None,
                 caching_device: Any = None, partitioner: Any = None, custom_getter: Any = None,
                 name_scope: str = "", dtype: Any = dtypes.float32, use_resource: Any = None,
                 constraint: Any = None):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    dtype = property(lambda self: self._dtype)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    use_resource = property(lambda self: self._use_resource)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self) -> None:
        """From now on, get_variable in this scope (and scopes opened inside it) reuses."""
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype: Any) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def set_custom_getter(self, custom_getter: Any) -> None:
        self._custom_getter = custom_getter

    def set_caching_device(self, caching_device: Any) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner: Any) -> None:
        self._partitioner = partitioner

    def set_use_resource(self, use_resource: Any) -> None:
        self._use_resource = use_resource

    def get_collection(self, name: str) -> list[Any]:
        scope = self._name + "/" if self._name else ""
        return get_default_graph().get_collection(name, scope)

    def trainable_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store: _VariableStore, name: str, shape: Any = None, dtype: Any = None,
                     initializer: Any = None, regularizer: Any = None, reuse: Any = None, trainable: Any = None,
                     collections: Any = None, validate_shape: bool = True, custom_getter: Any = None) -> Any:
        if regularizer is None:
            regularizer = self._regularizer
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        full_name = f"{self._name}/{name}" if self._name else name
        graph = get_default_graph()
        with graph.name_scope(None):  # variable names depend on the variable scope only
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = _value_dtype(initializer)
                if init_dtype != dtypes.as_dtype(dtype).base_dtype:
                    raise ValueError(f"Initializer type '{init_dtype}' and explicit dtype "
                                     f"'{dtypes.as_dtype(dtype)}' don't match.")
            if initializer is None:
                initializer = self._initializer
            if dtype is None:
                dtype = self._dtype
            return var_store.get_variable(full_name, shape=shape, dtype=dtype, initializer=initializer,
                                          regularizer=regularizer, reuse=reuse, trainable=trainable,
                                          collections=collections, validate_shape=validate_shape,
                                          custom_getter=custom_getter)


def _value_dtype(value: Any) -> dtypes.DType:
    if isinstance(value, (Tensor, Variable)):
        return value.dtype.base_dtype
    return infer_dtype(value)


class _VariableStore:
    """Per-graph registry of the variables made by get_variable (shared by all threads)."""

    def __init__(self) -> None:
        self.vars: dict[str, Variable] = {}

    def get_variable(self, name: str, shape: Any = None, dtype: Any = dtypes.float32, initializer: Any = None,
                     regularizer: Any = None, reuse: Any = None, trainable: Any = None, collections: Any = None,
                     validate_shape: bool = True, custom_getter: Any = None) -> Any:
        def true_getter(name: str, shape: Any = None, dtype: Any = dtypes.float32, initializer: Any = None,
                        regularizer: Any = None, reuse: Any = None, trainable: Any = None,
                        collections: Any = None, validate_shape: bool = True, **_: Any) -> Variable:
            return self._get_single_variable(name, shape, dtype, initializer, regularizer, reuse, trainable,
                                             collections, validate_shape)

        if custom_getter is not None:  # TF1 passes everything by keyword, the getter as `getter`
            return custom_getter(getter=true_getter, name=name, shape=shape, dtype=dtype, initializer=initializer,
                                 regularizer=regularizer, reuse=reuse, trainable=trainable,
                                 collections=collections, validate_shape=validate_shape)
        return true_getter(name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                           validate_shape)

    def _get_single_variable(self, name: str, shape: Any, dtype: Any, initializer: Any, regularizer: Any,
                             reuse: Any, trainable: Any, collections: Any, validate_shape: bool) -> Variable:
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        static = TensorShape(shape)
        found = self.vars.get(name)
        if found is not None:
            if reuse is False:
                raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True "
                                 "or reuse=tf.AUTO_REUSE in VarScope?")
            if not static.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape {static} "
                                 f"and found shape {found.get_shape()}.")
            if dtype.base_dtype != found.dtype.base_dtype:
                raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} "
                                 f"and found dtype {found.dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        if initializer is None:
            initializer, from_value = _default_initializer(name, dtype), False
        if from_value:
            init_val, var_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if static.is_fully_defined():
                init_val, var_dtype = _bound_initializer(initializer, static.as_list(), dtype), dtype.base_dtype
            elif _takes_no_arguments(initializer):
                init_val, var_dtype = initializer, None
            else:
                raise ValueError(f"Variable {name}: the shape of a new variable must be fully defined "
                                 f"(got {static}) unless its initializer takes no arguments. The initializer "
                                 "passed is not valid. It should be a callable with no arguments and the shape "
                                 "should not be provided or an instance of `tf.keras.initializers.*' and "
                                 "`shape` should be fully defined.")
        var = Variable(initial_value=init_val, name=name, trainable=trainable, collections=collections,
                       dtype=var_dtype, validate_shape=validate_shape)
        self.vars[name] = var
        if regularizer is not None:
            graph = var.graph
            with graph.name_scope(f"{name}/Regularizer/"):
                loss = regularizer(var)
            if loss is not None:
                graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return var


def _default_initializer(name: str, dtype: dtypes.DType) -> Any:
    if dtype.is_floating:
        return init_ops.GlorotUniform()
    if dtype.is_integer or dtype.is_bool:
        return init_ops.Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype.base_dtype} is required")


def _bound_initializer(initializer: Any, dims: list[Any], dtype: dtypes.DType) -> Callable[[], Any]:
    try:
        params = inspect.signature(initializer).parameters
    except (TypeError, ValueError):
        params = {}
    if "partition_info" in params:
        return lambda: initializer(dims, dtype=dtype, partition_info=None)
    return lambda: initializer(dims, dtype=dtype)


def _takes_no_arguments(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


# --- per-graph store, per-thread scope state (TF1: scopes and default-name counters are thread-local) ---
def _store(graph: Graph) -> _VariableStore:
    if graph._variable_store is None:
        graph._variable_store = _VariableStore()
    return graph._variable_store


class _ScopeState:
    __slots__ = ("current", "counts")

    def __init__(self) -> None:
        self.current = VariableScope(False)
        self.counts: dict[str, int] = {}  # opened variable scopes, for default_name uniquing

    def open(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        for key in self.counts:
            if key.startswith(name + "/"):
                self.counts[key] = 0


def _scope_state(graph: Graph) -> _ScopeState:
    state = graph.outermost_graph._state  # a control-flow function continues the enclosing scopes
    if not hasattr(state, "var_scope"):
        state.var_scope = _ScopeState()
    return state.var_scope


def get_variable_scope() -> VariableScope:
    return _scope_state(get_default_graph()).current


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, regularizer: Any = None,
                 trainable: Any = None, collections: Any = None, caching_device: Any = None,
                 partitioner: Any = None, validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None, synchronization: Any = None,
                 aggregation: Any = None) -> Any:
    """Create ``scope/name``, or return it when the scope reuses (``ValueError`` as TF1 otherwise)."""
    graph = get_default_graph()
    return _scope_state(graph).current.get_variable(
        _store(graph), name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        trainable=trainable, collections=collections, validate_shape=validate_shape, custom_getter=custom_getter)


def get_local_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                       regularizer: Any = None, trainable: Any = False, collections: Any = None,
                       validate_shape: bool = True, **kwargs: Any) -> Any:
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                        trainable=False, collections=collections, validate_shape=validate_shape, **kwargs)


def _chain_getters(new: Any, old: Any) -> Any:
    """A scope's custom getter wraps the one of the scope it was opened in."""
    if old is None:
        return new
    def wrapped(getter: Any, *args: Any, **kwargs: Any) -> Any:
        return new(functools.partial(old, getter), *args, **kwargs)
    return wrapped


class variable_scope:  # noqa: N801 - TF1 name
    """``with tf.variable_scope(name_or_scope, default_name=None, values=None, reuse=None, ...) as scope``."""

    def __init__(self, name_or_scope: Any, default_name: str | None = None, values: Any = None,
                 initializer: Any = None, regularizer: Any = None, caching_device: Any = None,
                 partitioner: Any = None, custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                 use_resource: Any = None, constraint: Any = None, auxiliary_name_scope: bool = True):
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            reuse = None  # TF1: False means "inherit", as None
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get {auxiliary_name_scope}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._settings = dict(initializer=initializer, regularizer=regularizer, caching_device=caching_device,
                              partitioner=partitioner, custom_getter=custom_getter, dtype=dtype,
                              use_resource=use_resource, constraint=constraint)
        self._reuse = reuse
        self._graph = graph_of(list(values)) if values else None
        self._auxiliary_name_scope = auxiliary_name_scope

    def __enter__(self) -> VariableScope:
        graph = self._graph if self._graph is not None else get_default_graph()
        self._graph_cm = graph.as_default()
        self._graph_cm.__enter__()
        self._name_cm: Any = None
        try:
            return self._enter(graph)
        except BaseException:
            self._exit_name_and_graph(None, None, None)
            raise

    def _open_name_scope(self, graph: Graph, name: str | None) -> str:
        self._name_cm = graph.name_scope(name)
        return self._name_cm.__enter__()

    def _enter(self, graph: Graph) -> VariableScope:
        target = self._name_or_scope
        state = _scope_state(graph)
        self._state, self._old = state, state.current
        reenter: str | None = None
        if not self._auxiliary_name_scope:  # stay in the current name scope
            current = graph.get_name_scope()
            reenter = current + "/" if current else ""
        if target is None:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            scope_string = self._open_name_scope(graph, self._default_name if reenter is None else reenter)
            return self._open_string(self._unique_default(state, self._default_name or ""), scope_string, None)
        if not isinstance(target, (str, VariableScope)):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        last = target if isinstance(target, str) else target.name.split("/")[-1]
        if last or reenter is not None:
            scope_string: str | None = self._open_name_scope(graph, last if reenter is None else reenter)
        else:
            scope_string = None  # the root scope: no name scope of its own
        if isinstance(target, VariableScope):
            return self._open_captured(target)
        return self._open_string(target, scope_string, self._reuse)

    def _open_string(self, name: str, scope_string: str | None, reuse: Any) -> VariableScope:
        old, s = self._old, self._settings
        self._new_name = f"{old.name}/{name}" if old.name else name
        scope = VariableScope(reuse or old.reuse, name=self._new_name, initializer=old.initializer,
                              regularizer=old.regularizer, caching_device=old.caching_device,
                              partitioner=old.partitioner, custom_getter=old.custom_getter,
                              name_scope=name if scope_string is None else scope_string, dtype=old.dtype,
                              use_resource=old.use_resource, constraint=s["constraint"])
        self._apply_settings(scope, old.custom_getter)
        self._state.open(self._new_name)
        return self._push(scope)

    def _open_captured(self, target: VariableScope) -> VariableScope:
        self._new_name = target.name
        scope = VariableScope(target.reuse if not self._reuse else self._reuse, name=target.name,
                              initializer=target.initializer, regularizer=target.regularizer,
                              caching_device=target.caching_device, partitioner=target.partitioner,
                              custom_getter=target.custom_getter, name_scope=target.original_name_scope,
                              dtype=target.dtype, use_resource=target.use_resource,
                              constraint=self._settings["constraint"])
        self._apply_settings(scope, target.custom_getter)
        self._state.open(self._new_name)
        self._saved_counts = copy.copy(self._state.counts)
        return self._push(scope)

    def _apply_settings(self, scope: VariableScope, old_getter: Any) -> None:
        s = self._settings
        for key in ("initializer", "regularizer", "caching_device", "partitioner", "dtype", "use_resource"):
            if s[key] is not None:
                getattr(scope, "set_" + key)(s[key])
        if s["custom_getter"] is not None:
            scope.set_custom_getter(_chain_getters(s["custom_getter"], old_getter))

    def _push(self, scope: VariableScope) -> VariableScope:
        self._state.current = self._scope = scope
        return scope

    @staticmethod
    def _unique_default(state: _ScopeState, prefix: str) -> str:
        current = state.current.name
        full = f"{current}/{prefix}" if current else prefix
        if state.counts.get(full, 0) == 0:
            return prefix
        i = 1
        while state.counts.get(f"{full}_{i}", 0) > 0:
            i += 1
        return f"{prefix}_{i}"

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if self._state.current is not self._scope:
                raise RuntimeError("Improper nesting of variable_scope.")
            if isinstance(self._name_or_scope, VariableScope):
                self._state.counts = self._saved_counts
            else:
                self._state.close_subscopes(self._new_name)
            self._state.current = self._old
        finally:
            self._exit_name_and_graph(exc_type, exc, tb)

    def _exit_name_and_graph(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if self._name_cm is not None:
                self._name_cm.__exit__(exc_type, exc, tb)
                self._name_cm = None
        finally:
            self._graph_cm.__exit__(exc_type, exc, tb)


def variable_op_scope(values: Any, name_or_scope: Any, default_name: str | None = None, **kwargs: Any) -> Any:
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
