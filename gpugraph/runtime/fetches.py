"""Fetch structures: any nesting of lists, tuples, namedtuples and dicts of graph elements."""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor

Rebuild = Callable[[list[Any]], Any]
_ELEMENT_TYPES = frozenset((Tensor, Operation))


def structure_key(fetches: Any) -> Any:
    """A hashable key describing the fetch structure, for the plan cache."""
    kind = type(fetches)
    if kind in _ELEMENT_TYPES:  # one tensor or op: its own key
        return fetches
    if kind is list or kind is tuple:  # a flat list of graph elements, as most runs fetch: the same key, sooner
        for f in fetches:
            if type(f) not in _ELEMENT_TYPES:
                break
        else:
            return (kind.__name__, tuple(fetches))
    if isinstance(fetches, (list, tuple)):
        tag = type(fetches) if isinstance(fetches, tuple) and type(fetches) is not tuple else type(fetches).__name__
        return (tag, tuple(structure_key(f) for f in fetches))
    if isinstance(fetches, dict):
        return (type(fetches), tuple((k, structure_key(v)) for k, v in fetches.items()))
    return fetches


def flatten(fetches: Any, graph: Graph, elements: list[Tensor | Operation]) -> Rebuild:
    """Append the unique graph elements of ``fetches`` to ``elements`` (empty: the whole run's); return
    the rebuilder, which gets their values in order, in a new list each run."""
    kind = type(fetches)
    if elements or not (kind is list or kind is tuple):
        return _flatten(fetches, graph, elements)[0]
    parts = [_flatten(f, graph, elements) for f in fetches]
    if [index for _, index in parts] == list(range(len(elements))):
        return _same_list if kind is list else tuple  # each element once, in order: the values are the result
    return _sequence(kind, [rebuild for rebuild, _ in parts])


def _same_list(values: list[Any]) -> list[Any]:
    return values


def _sequence(cls: type, parts: list[Rebuild]) -> Rebuild:
    if issubclass(cls, list):
        return lambda values: [p(values) for p in parts]
    if hasattr(cls, "_fields"):  # namedtuple
        return lambda values: cls(*[p(values) for p in parts])
    return lambda values: tuple(p(values) for p in parts)


def _rebuild(fetches: Any, graph: Graph, elements: list[Tensor | Operation]) -> Rebuild:
    return _flatten(fetches, graph, elements)[0]


def _flatten(fetches: Any, graph: Graph, elements: list[Tensor | Operation]) -> tuple[Rebuild, int | None]:
    """``flatten``'s walk; also the position in ``elements`` of a fetch that is one graph element."""
    if hasattr(type(fetches), "_fetch_parts"):  # a composite (SparseTensor) fetches as its value type
        tensors, assemble = fetches._fetch_parts()
        pieces = [_rebuild(t, graph, elements) for t in tensors]
        return (lambda values: assemble(*[p(values) for p in pieces])), None
    if isinstance(fetches, (list, tuple)):
        return _sequence(type(fetches), [_rebuild(f, graph, elements) for f in fetches]), None
    if isinstance(fetches, dict):
        cls = type(fetches)
        items = [(k, _rebuild(v, graph, elements)) for k, v in fetches.items()]
        return (lambda values: cls((k, p(values)) for k, p in items)), None
    element = resolve(fetches, graph)
    if element in elements:
        index = elements.index(element)
    else:
        index = len(elements)
        elements.append(element)
    return (lambda values: values[index]), index


def resolve(fetch: Any, graph: Graph) -> Tensor | Operation:
    if fetch is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a string, "
                        f"Tensor or Operation.") from None
    except KeyError as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e.args[0]})") from None
    except ValueError as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e})") from None
