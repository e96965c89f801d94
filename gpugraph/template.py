"""tf.make_template: a function whose variables are created on the first call and shared by later calls."""

from __future__ import annotations

import functools
from typing import Any, Callable

from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.variable_scope import VariableScope, variable_scope

__all__ = ["make_template", "Template"]


class Template:
    """Calls ``func`` inside one variable scope: creating variables the first time, reusing them after."""

    def __init__(self, name: str, func: Callable[..., Any], create_scope_now: bool = False,
                 unique_name: str | None = None, custom_getter: Any = None):
        if not name:
            raise ValueError(f"name cannot be None.{name}" if name is None else "name cannot be empty.")
        self._func = func
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope: VariableScope | None = None
        self._variables_created = False
        if create_scope_now:
            with self._open_first_scope() as vs:
                self._variable_scope = vs

    def _open_first_scope(self) -> variable_scope:
        return variable_scope(self._unique_name, default_name=None if self._unique_name else self._name,
                              custom_getter=self._custom_getter)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._variable_scope is None:
            with self._open_first_scope() as vs:
                self._variable_scope = vs
                return self._first_call(args, kwargs)
        if not self._variables_created:
            with variable_scope(self._variable_scope):
                return self._first_call(args, kwargs)
        with variable_scope(self._variable_scope, reuse=True):
            return self._later_call(args, kwargs)

    def _first_call(self, args: tuple, kwargs: dict) -> Any:
        result = self._func(*args, **kwargs)
        self._variables_created = True
        return result

    def _later_call(self, args: tuple, kwargs: dict) -> Any:
        graph = get_default_graph()
        trainable_before = len(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES))
        result = self._func(*args, **kwargs)
        if len(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)) != trainable_before:
            raise ValueError("Trainable variable created when calling a template after the first time, perhaps you "
                             "used tf.Variable when you meant tf.get_variable: "
                             f"{graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)[trainable_before:]}")
        return result

    @property
    def name(self) -> str:
        return self._name

    @property
    def func(self) -> Callable[..., Any]:
        return self._func

    @property
    def variable_scope(self) -> VariableScope | None:
        return self._variable_scope

    @property
    def variable_scope_name(self) -> str | None:
        if self._variable_scope is None:
            return None
        name = self._variable_scope.name
        return name if not name or name.endswith("/") else name + "/"  # no partial matches of the scope name

    @property
    def variables_created(self) -> bool:
        return self._variables_created

    def _scoped(self, key: str) -> list[Any]:
        if self._variable_scope is None:
            return []
        return get_default_graph().get_collection(key, self.variable_scope_name)

    @property
    def variables(self) -> list[Any]:
        return self._scoped(GraphKeys.GLOBAL_VARIABLES) + self._scoped(GraphKeys.LOCAL_VARIABLES)

    @property
    def global_variables(self) -> list[Any]:
        return self._scoped(GraphKeys.GLOBAL_VARIABLES)

    @property
    def local_variables(self) -> list[Any]:
        return self._scoped(GraphKeys.LOCAL_VARIABLES)

    @property
    def trainable_variables(self) -> list[Any]:
        return self._scoped(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def non_trainable_variables(self) -> list[Any]:
        trainable = set(map(id, self.trainable_variables))
        return [v for v in self.global_variables if id(v) not in trainable]


def make_template(name_: str, func_: Callable[..., Any], create_scope_now_: bool = False,
                  unique_name_: str | None = None, custom_getter_: Any = None, **kwargs: Any) -> Template:
    """``func_`` (with ``kwargs`` bound) wrapped so that all calls share the variables of the first."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)
