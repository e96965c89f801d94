"""Fetch structures: any nesting of lists, tuples, namedtuples and dicts of graph elements."""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework.graph import Graph
from gpugraph.framework.tensor import Operation, Tensor

Rebuild = Callable[[list[Any]], Any]


def structure_key(fetches: Any) -> Any:
    """A hashable key describing the fetch structure, for the plan cache."""
    if isinstance(fetches, (list, tuple)):
        tag = type(fetches) if isinstance(fetches, tuple) and type(fetches) is not tuple else type(fetches).__name__
        return (tag, tuple(structure_key(f) for f in fetches))
    if isinstance(fetches, dict):
        return (type(fetches), tuple((k, structure_key(v)) for k, v in fetches.items()))
    return fetches


def flatten(fetches: Any, graph: Graph, elements: list[Tensor | Operation]) -> Rebuild:
    """Append the unique graph elements of ``fetches`` to ``elements``; return the rebuilder."""
    if hasattr(type(fetches), "_fetch_parts"):  # a composite (SparseTensor) fetches as its value type
        tensors, assemble = fetches._fetch_parts()
        pieces = [flatten(t, graph, elements) for t in tensors]
        return lambda values: assemble(*[p(values) for p in pieces])
    if isinstance(fetches, (list, tuple)):
        parts = [flatten(f, graph, elements) for f in fetches]
        if isinstance(fetches, list):
            return lambda values: [p(values) for p in parts]
        cls = type(fetches)
        if hasattr(cls, "_fields"):  # namedtuple
            return lambda values: cls(*[p(values) for p in parts])
        return lambda values: tuple(p(values) for p in parts)
    if isinstance(fetches, dict):
        cls = type(fetches)
        items = [(k, flatten(v, graph, elements)) for k, v in fetches.items()]
        return lambda values: cls((k, p(values)) for k, p in items)
    element = resolve(fetches, graph)
    if element in elements:
        index = elements.index(element)
    else:
        index = len(elements)
        elements.append(element)
    return lambda values: values[index]


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
