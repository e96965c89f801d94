"""Nested structures of tensors (tuples, lists, namedtuples such as LSTMStateTuple), as TF1's nest sees them."""

from __future__ import annotations

from typing import Any, Callable

__all__: list[str] = []


def is_nested(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure``, depth first."""
    if not is_nested(structure):
        return [structure]
    leaves: list[Any] = []
    for item in structure:
        leaves.extend(flatten(item))
    return leaves


def _rebuild(like: Any, items: list[Any]) -> Any:
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items)


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """``flat_sequence`` in the shape of ``structure``."""
    flat = list(flat_sequence)
    if len(flat) != len(flatten(structure)):
        raise ValueError(f"Could not pack sequence. Structure had {len(flatten(structure))} elements, but "
                         f"flat_sequence had {len(flat)} elements. Structure: {structure}")
    position = 0

    def pack(like: Any) -> Any:
        nonlocal position
        if not is_nested(like):
            position += 1
            return flat[position - 1]
        return _rebuild(like, [pack(item) for item in like])

    return pack(structure)


def assert_same_structure(first: Any, second: Any) -> None:
    if is_nested(first) != is_nested(second):
        raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: {first}"
                         f"\n\nSecond structure: {second}")
    if is_nested(first):
        if len(first) != len(second):
            raise ValueError(f"The two structures don't have the same sequence length. Input structure has "
                             f"length {len(first)}, while shallow structure has length {len(second)}.")
        for a, b in zip(first, second):
            assert_same_structure(a, b)


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])


def map_structure_up_to(shallow: Any, fn: Callable[..., Any], *structures: Any) -> Any:
    """``fn`` over the sub-structures of ``structures`` at the leaves of ``shallow``."""
    if not is_nested(shallow):
        return fn(*structures)
    for s in structures:
        if not is_nested(s) or len(s) != len(shallow):
            raise ValueError(f"The two structures don't have the same nested structure: {shallow} and {s}")
    return _rebuild(shallow, [map_structure_up_to(sub, fn, *(s[i] for s in structures))
                              for i, sub in enumerate(shallow)])
