"""Nested element structures of datasets: tuples, dicts and namedtuples of component specs.

A dataset element is one of these structures; at run time it travels as the flat tuple of its
components (dict entries in sorted key order, as ``tf.nest`` flattens them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape


@dataclass(frozen=True)
class Spec:
    """One component of an element: its static shape and dtype."""

    shape: TensorShape
    dtype: dtypes.DType

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name})"


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def is_nested(value: Any) -> bool:
    return isinstance(value, (tuple, dict))


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    return list(value)


def flatten(structure: Any) -> list[Any]:
    """Leaves of ``structure`` in order; lists are leaves (one tensor), as tf.data treats them."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def flatten_up_to(structure: Any, value: Any) -> list[Any]:
    """``value``'s parts where ``structure`` has leaves (a list inside a leaf stays whole)."""
    if not is_nested(structure):
        return [value]
    if isinstance(structure, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(structure):
            raise ValueError(f"{value!r} does not match the structure {structure}")
        return [leaf for k in sorted(structure) for leaf in flatten_up_to(structure[k], value[k])]
    if not isinstance(value, (tuple, list)) or len(value) != len(structure):
        raise ValueError(f"{value!r} does not match the structure {structure}")
    return [leaf for s, v in zip(structure, value) for leaf in flatten_up_to(s, v)]


def _iter_pack(structure: Any, leaves: Iterator[Any]) -> Any:
    if not is_nested(structure):
        return next(leaves)
    if isinstance(structure, dict):
        return type(structure)((k, _iter_pack(structure[k], leaves)) for k in sorted(structure))
    items = [_iter_pack(child, leaves) for child in structure]
    return type(structure)(*items) if _is_namedtuple(structure) else tuple(items)


def pack(structure: Any, flat: Any) -> Any:
    """``structure`` with its leaves replaced, in order, by ``flat``."""
    flat = list(flat)
    n = len(flatten(structure))
    if n != len(flat):
        raise ValueError(f"Structure has {n} components, but {len(flat)} values were given.")
    return _iter_pack(structure, iter(flat))


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    return pack(structure, [fn(leaf) for leaf in flatten(structure)])


def assert_same_structure(a: Any, b: Any, what: str = "") -> None:
    """Same nesting (tuples, dicts with the same keys); raises TypeError otherwise."""
    if is_nested(a) != is_nested(b) or (is_nested(a) and (
            isinstance(a, dict) != isinstance(b, dict)
            or (isinstance(a, dict) and sorted(a) != sorted(b))
            or len(a) != len(b))):
        raise TypeError(f"{what}The two structures don't have the same nested structure: {a} vs. {b}")
    if is_nested(a):
        for x, y in zip(_children(a), _children(b)):
            assert_same_structure(x, y, what)


def normalize(value: Any) -> Any:
    """A function's return value as a structure: lists become tuples, as tf.data converts them."""
    if isinstance(value, list):
        return tuple(normalize(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, normalize(v)) for k, v in value.items())
    if _is_namedtuple(value):
        return type(value)(*(normalize(v) for v in value))
    if isinstance(value, tuple):
        return tuple(normalize(v) for v in value)
    return value


def types_of(structure: Any) -> Any:
    return map_structure(lambda s: s.dtype, structure)


def shapes_of(structure: Any) -> Any:
    return map_structure(lambda s: s.shape, structure)


def classes_of(structure: Any) -> Any:
    return map_structure(lambda s: Tensor, structure)


def specs_from(types: Any, shapes: Any = None) -> Any:
    """The structure of ``types`` (DTypes) with ``shapes`` (unknown where None)."""
    types = normalize(types)
    if shapes is None:
        return map_structure(lambda t: Spec(TensorShape(None), dtypes.as_dtype(t).base_dtype), types)
    shapes = _shapes_like(types, normalize_shapes(shapes))
    return pack(types, [Spec(TensorShape(s), dtypes.as_dtype(t).base_dtype)
                        for t, s in zip(flatten(types), flatten(shapes))])


def normalize_shapes(shapes: Any) -> Any:
    """Shapes given as tuples of ints inside a tuple structure are ambiguous: a TensorShape or a list is a leaf."""
    if isinstance(shapes, dict):
        return type(shapes)((k, normalize_shapes(v)) for k, v in shapes.items())
    if isinstance(shapes, tuple) and not _is_shape_like(shapes):
        return tuple(normalize_shapes(v) for v in shapes)
    if isinstance(shapes, (list, tuple)):
        shapes = [None if d is not None and int(d) == -1 else d for d in shapes]  # -1: unknown, as padded_shapes
    return TensorShape(shapes)


def _is_shape_like(value: Any) -> bool:
    return all(d is None or isinstance(d, int) for d in value)


def _shapes_like(types: Any, shapes: Any) -> Any:
    if not is_nested(types) and isinstance(shapes, TensorShape):
        return shapes
    if is_nested(types) and isinstance(shapes, TensorShape) and shapes.ndims == 0 and not flatten(types):
        return types
    assert_same_structure(types, shapes, "output_types and output_shapes: ")
    return shapes


def most_specific_compatible(a: Spec, b: Spec) -> Spec:
    """The shape both specs agree on (unknown where they differ); dtypes must match."""
    if a.dtype != b.dtype:
        raise TypeError(f"Incompatible dataset elements:\n  {a} vs. {b}")
    if a.shape.ndims is None or b.shape.ndims is None or a.shape.ndims != b.shape.ndims:
        return Spec(TensorShape(None), a.dtype)
    dims = [x if x == y else None for x, y in zip(a.shape.as_list(), b.shape.as_list())]
    return Spec(TensorShape(dims), a.dtype)
