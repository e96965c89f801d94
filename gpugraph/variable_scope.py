"""variable_scope and get_variable: named, shareable variables with TF1's reuse rules."""

from __future__ import annotations

import enum
from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph import init_ops
from gpugraph.variables import Variable

__all__ = ["AUTO_REUSE", "VariableScope", "variable_scope", "get_variable", "get_variable_scope",
           "variable_op_scope"]


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """A variable scope's settings: its name, reuse mode, default initializer and dtype."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None, regularizer: Any = None,
                 dtype: Any = dtypes.float32, original_name_scope: str = ""):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._dtype = dtypes.as_dtype(dtype)
        self._original_name_scope = original_name_scope

    @property
    def name(self) -> str:
        return self._name

    @property
    def original_name_scope(self) -> str:
        return self._original_name_scope

    @property
    def reuse(self) -> Any:
        return self._reuse

    @property
    def initializer(self) -> Any:
        return self._initializer

    @property
    def regularizer(self) -> Any:
        return self._regularizer

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    def reuse_variables(self) -> None:
        """From now on, get_variable in this scope (and scopes opened inside it) reuses."""
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype: Any) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def get_variable(self, var_store: _VariableStore, name: str, **kwargs: Any) -> Variable:
        full = f"{self._name}/{name}" if self._name else name
        if kwargs.get("initializer") is None:
            kwargs["initializer"] = self._initializer
        if kwargs.get("regularizer") is None:
            kwargs["regularizer"] = self._regularizer
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = self._dtype
        return var_store.get_variable(full, reuse=self._reuse, **kwargs)


class _VariableStore:
    """Per-graph registry of variables made by get_variable, and of opened scope names."""

    def __init__(self) -> None:
        self.vars: dict[str, Variable] = {}
        self.scope_counts: dict[str, int] = {}

    def get_variable(self, name: str, shape: Any = None, dtype: Any = dtypes.float32, initializer: Any = None,
                     regularizer: Any = None, reuse: Any = None, trainable: Any = None,
                     collections: Any = None, validate_shape: bool = True) -> Variable:
        dtype = dtypes.as_dtype(dtype).base_dtype
        found = self.vars.get(name)
        if found is not None:
            if reuse is not True and reuse is not AUTO_REUSE:
                raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True "
                                 "or reuse=tf.AUTO_REUSE in VarScope?")
            if shape is not None and not TensorShape(shape).is_compatible_with(found.shape):
                raise ValueError(f"Trying to share variable {name}, but specified shape {TensorShape(shape)} "
                                 f"and found shape {found.shape}.")
            if found.dtype.base_dtype != dtype:
                raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and found "
                                 f"dtype {found.dtype.base_dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        var = self._create(name, shape, dtype, initializer, trainable, collections, validate_shape)
        self.vars[name] = var
        if regularizer is not None:
            graph = var.graph
            with graph.name_scope(f"{name}/Regularizer/"):
                loss = regularizer(var)
            if loss is not None:
                graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return var

    @staticmethod
    def _create(name: str, shape: Any, dtype: dtypes.DType, initializer: Any, trainable: Any,
                collections: Any, validate_shape: bool) -> Variable:
        if isinstance(initializer, type) and issubclass(initializer, init_ops.Initializer):
            initializer = initializer(dtype=dtype)
        if initializer is not None and not callable(initializer) or isinstance(initializer, (Tensor, Variable)):
            if shape is not None and validate_shape:
                raise ValueError("If initializer is a constant, do not specify shape.")
            init_dtype = None if isinstance(initializer, (Tensor, Variable)) else dtype
            return Variable(initial_value=initializer, name=name, trainable=trainable, collections=collections,
                            dtype=init_dtype, validate_shape=validate_shape)
        if shape is None:
            raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead was <unknown>.")
        static = TensorShape(shape)
        if not static.is_fully_defined():
            raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead was {static}.")
        if initializer is None:
            if dtype.is_floating:
                initializer = init_ops.GlorotUniform()
            elif dtype.is_integer or dtype.is_bool:
                initializer = init_ops.Zeros()
            else:
                raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")
        dims = static.as_list()
        return Variable(initial_value=lambda: initializer(dims, dtype=dtype, partition_info=None), name=name,
                        trainable=trainable, collections=collections, dtype=dtype,
                        validate_shape=validate_shape)


def _store(graph: Graph) -> _VariableStore:
    if graph._variable_store is None:
        graph._variable_store = _VariableStore()
    return graph._variable_store


def _scope_stack(graph: Graph) -> list[VariableScope]:
    state = graph._state
    if not hasattr(state, "var_scopes"):
        state.var_scopes = [VariableScope(False)]
    return state.var_scopes


def _current_scope_string(graph: Graph) -> str:
    current = graph.get_name_scope()
    return current + "/" if current else ""


def get_variable_scope() -> VariableScope:
    return _scope_stack(get_default_graph())[-1]


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, regularizer: Any = None,
                 trainable: Any = None, collections: Any = None, caching_device: Any = None,
                 partitioner: Any = None, validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None, synchronization: Any = None,
                 aggregation: Any = None) -> Variable:
    """Create ``scope/name``, or return it when the scope reuses (``ValueError`` as TF1 otherwise)."""
    graph = get_default_graph()
    scope = _scope_stack(graph)[-1]
    with graph.name_scope(None):  # variable names depend on the variable scope only
        return scope.get_variable(_store(graph), name, shape=shape, dtype=dtype, initializer=initializer,
                                  regularizer=regularizer, trainable=trainable, collections=collections,
                                  validate_shape=validate_shape)


class variable_scope:  # noqa: N801 - TF1 name
    """``with tf.variable_scope(name_or_scope, default_name=None, reuse=None, initializer=None) as scope``."""

    def __init__(self, name_or_scope: Any, default_name: str | None = None, values: Any = None,
                 initializer: Any = None, regularizer: Any = None, caching_device: Any = None,
                 partitioner: Any = None, custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                 use_resource: Any = None, constraint: Any = None, auxiliary_name_scope: bool = True):
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse not in (None, True, False, AUTO_REUSE):
            raise ValueError(f"reuse must be True, False, None or tf.AUTO_REUSE, got {reuse!r}")
        if not (name_or_scope is None or isinstance(name_or_scope, (str, VariableScope))):
            raise TypeError(f"VariableScope: name_or_scope must be a string or VariableScope, got {name_or_scope!r}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._dtype = dtype
        self._auxiliary_name_scope = auxiliary_name_scope
        self._name_scope_cm: Any = None

    def __enter__(self) -> VariableScope:
        graph = self._graph = get_default_graph()
        stack = _scope_stack(graph)
        parent = stack[-1]
        store = _store(graph)
        target = self._name_or_scope
        if isinstance(target, VariableScope):
            name = target.name
            ns_name = target.original_name_scope or (name + "/" if name else "")
            inherited = target.reuse
            base_init, base_reg, base_dtype = target.initializer, target.regularizer, target.dtype
        else:
            if target is None:
                target = self._unique_default(parent, store, self._default_name or "")
            name = f"{parent.name}/{target}" if parent.name and target else (target or parent.name)
            ns_name = target
            inherited = parent.reuse
            base_init, base_reg, base_dtype = parent.initializer, parent.regularizer, parent.dtype
        scope_string = ""
        if ns_name and self._auxiliary_name_scope:
            self._name_scope_cm = graph.name_scope(ns_name)
            scope_string = self._name_scope_cm.__enter__()
        if parent.reuse is True or self._reuse is True:
            reuse: Any = True
        elif self._reuse is AUTO_REUSE or parent.reuse is AUTO_REUSE:
            reuse = AUTO_REUSE
        else:
            reuse = inherited if isinstance(self._name_or_scope, VariableScope) else False
        store.scope_counts[name] = store.scope_counts.get(name, 0) + 1
        scope = VariableScope(reuse, name=name,
                              initializer=self._initializer if self._initializer is not None else base_init,
                              regularizer=self._regularizer if self._regularizer is not None else base_reg,
                              dtype=self._dtype if self._dtype is not None else base_dtype,
                              original_name_scope=scope_string or _current_scope_string(graph))
        stack.append(scope)
        return scope

    @staticmethod
    def _unique_default(parent: VariableScope, store: _VariableStore, prefix: str) -> str:
        full = f"{parent.name}/{prefix}" if parent.name else prefix
        if not prefix or store.scope_counts.get(full, 0) == 0:
            return prefix
        i = 1
        while store.scope_counts.get(f"{full}_{i}", 0) > 0:
            i += 1
        return f"{prefix}_{i}"

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        _scope_stack(self._graph).pop()
        if self._name_scope_cm is not None:
            self._name_scope_cm.__exit__(exc_type, exc, tb)
            self._name_scope_cm = None


def variable_op_scope(values: Any, name_or_scope: Any, default_name: str | None = None, **kwargs: Any) -> Any:
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
