"""Python operators on Tensors, with TF1's op names ('add', 'mul', 'truediv', ...)."""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework.tensor import Tensor
from gpugraph.ops import array_ops, linalg_ops, math_ops


def _binary(fn: Callable[..., Tensor], name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(self: Tensor, other: Any) -> Any:
        return fn(self, other, name=name)

    def reverse(self: Tensor, other: Any) -> Any:
        return fn(other, self, name=name)
    return forward, reverse


def _truediv(x: Any, y: Any, name: str) -> Tensor:
    return math_ops.truediv(x, y, name=name)


def _matmul(x: Any, y: Any, name: str) -> Tensor:
    return linalg_ops.matmul(x, y, name=name)


_BINARY = {
    "add": (math_ops.ADD, "add"),
    "sub": (math_ops.SUB, "sub"),
    "mul": (math_ops.MUL, "mul"),
    "truediv": (_truediv, "truediv"),
    "floordiv": (math_ops.FLOOR_DIV, "floordiv"),
    "mod": (math_ops.FLOOR_MOD, "mod"),
    "pow": (math_ops.POW, "pow"),
    "matmul": (_matmul, "matmul"),
    "and": (math_ops.LOGICAL_AND, "and"),
    "or": (math_ops.LOGICAL_OR, "or"),
}

for _dunder, (_fn, _name) in _BINARY.items():
    _f, _r = _binary(_fn, _name)
    setattr(Tensor, f"__{_dunder}__", _f)
    setattr(Tensor, f"__r{_dunder}__", _r)

Tensor.__xor__ = lambda self, other: math_ops.logical_xor(self, other)  # type: ignore[attr-defined]
Tensor.__lt__ = lambda self, other: math_ops.LESS(self, other, name="Less")  # type: ignore[assignment]
Tensor.__le__ = lambda self, other: math_ops.LESS_EQUAL(self, other, name="LessEqual")  # type: ignore[assignment]
Tensor.__gt__ = lambda self, other: math_ops.GREATER(self, other, name="Greater")  # type: ignore[assignment]
Tensor.__ge__ = lambda self, other: math_ops.GREATER_EQUAL(self, other, name="GreaterEqual")  # type: ignore[assignment]
Tensor.__neg__ = lambda self: math_ops.NEG(self, name="Neg")  # type: ignore[attr-defined]
Tensor.__abs__ = lambda self: math_ops.ABS(self, name="Abs")  # type: ignore[attr-defined]
Tensor.__invert__ = lambda self: math_ops.LOGICAL_NOT(self, name="LogicalNot")  # type: ignore[attr-defined]
Tensor.__getitem__ = lambda self, spec: array_ops.strided_slice(self, spec)  # type: ignore[attr-defined]
