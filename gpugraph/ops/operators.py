"""Python operators on Tensors, with TF1's op names ('add', 'mul', 'truediv', ...).

As in TF1, ``t + 1`` opens the scope "add" and converts the Python value there as "add/y" (preferring
t's dtype); ``1 - t`` converts it as "sub/x" with t's dtype.
"""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework.tensor import Tensor
from gpugraph.ops import linalg_ops, math_ops, slicing_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import graph_of


def _is_graph_value(v: Any) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_tensor")


def _binary(fn: Callable[..., Tensor], op_name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(self: Tensor, other: Any) -> Any:
        graph = graph_of([self, other])
        with graph.as_default(), graph.name_scope(op_name) as scope:
            if not _is_graph_value(other):
                other = convert_to_tensor(other, preferred_dtype=self.dtype.base_dtype, name="y")
            return fn(self, other, name=scope)

    def reverse(self: Tensor, other: Any) -> Any:
        graph = graph_of([self, other])
        with graph.as_default(), graph.name_scope(op_name) as scope:
            if not _is_graph_value(other):
                other = convert_to_tensor(other, dtype=self.dtype.base_dtype, name="x")
            return fn(other, self, name=scope)
    forward.__name__, reverse.__name__ = f"__{op_name}__", f"__r{op_name}__"
    return forward, reverse


_BINARY: dict[str, tuple[Callable[..., Tensor], str]] = {
    "add": (math_ops.ADD, "add"),
    "sub": (math_ops.SUB, "sub"),
    "mul": (math_ops.MUL, "mul"),
    "truediv": (math_ops.truediv, "truediv"),
    "floordiv": (math_ops.FLOOR_DIV, "floordiv"),
    "mod": (math_ops.FLOOR_MOD, "mod"),
    "pow": (math_ops.POW, "pow"),
    "matmul": (linalg_ops.matmul, "matmul"),
    "and": (math_ops.LOGICAL_AND, "and"),
    "or": (math_ops.LOGICAL_OR, "or"),
    "xor": (math_ops.logical_xor, "xor"),
}

for _dunder, (_fn, _name) in _BINARY.items():
    _f, _r = _binary(_fn, _name)
    setattr(Tensor, f"__{_dunder}__", _f)
    setattr(Tensor, f"__r{_dunder}__", _r)

# Comparisons build their op directly (TF1: 'Less', 'Less/y'); ``==`` stays identity (Tensor.__eq__).
Tensor.__lt__ = lambda self, other: math_ops.LESS(self, other, name="Less")  # type: ignore[assignment]
Tensor.__le__ = lambda self, other: math_ops.LESS_EQUAL(self, other, name="LessEqual")  # type: ignore[assignment]
Tensor.__gt__ = lambda self, other: math_ops.GREATER(self, other, name="Greater")  # type: ignore[assignment]
Tensor.__ge__ = lambda self, other: math_ops.GREATER_EQUAL(self, other, name="GreaterEqual")  # type: ignore[assignment]
Tensor.__neg__ = lambda self: math_ops.NEG(self, name="Neg")  # type: ignore[attr-defined]
Tensor.__abs__ = lambda self: math_ops.ABS(self, name="Abs")  # type: ignore[attr-defined]
Tensor.__invert__ = lambda self: math_ops.LOGICAL_NOT(self, name="LogicalNot")  # type: ignore[attr-defined]
Tensor.__getitem__ = lambda self, spec: slicing_ops.getitem(self, spec)  # type: ignore[attr-defined]
