"""Operation and Tensor: immutable graph nodes and their outputs, with TF1 names and reprs."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.tensor_shape import TensorShape, as_shape

if TYPE_CHECKING:
    from gpugraph.framework.graph import Graph
    from gpugraph.ops.registry import OpDef

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frame() -> tuple[str, int, str] | None:
    """(file, line, function) of the first caller outside gpugraph: where the user made an op."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return filename, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


class Operation:
    """A node: an OpDef applied to input Tensors with attributes, producing output Tensors."""

    def __init__(
        self,
        graph: Graph,
        name: str,
        opdef: OpDef,
        inputs: Sequence[Tensor],
        attrs: dict[str, Any],
        output_specs: Sequence[tuple[TensorShape, dtypes.DType]],
        control_inputs: Sequence[Operation],
        device: str,
    ):
        self._graph = graph
        self._name = name
        self._opdef = opdef
        self._inputs = tuple(inputs)
        self._attrs = dict(attrs)
        self._control_inputs = list(control_inputs)
        self._device = device
        self._id = graph._next_id()
        self._defined_at = _user_frame()  # named by run-time errors, as TF1's "defined at"
        self._outputs = [Tensor(self, i, dtype, shape) for i, (shape, dtype) in enumerate(output_specs)]
        self._consumers: list[Operation] = []
        for t in self._inputs:
            t.op._consumers.append(self)

    # --- TF1 properties ---
    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._opdef.name

    @property
    def opdef(self) -> OpDef:
        return self._opdef

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        return self._inputs

    @property
    def outputs(self) -> list[Tensor]:
        return list(self._outputs)

    @property
    def control_inputs(self) -> list[Operation]:
        return list(self._control_inputs)

    @property
    def device(self) -> str:
        return self._device

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self._attrs)

    def get_attr(self, name: str) -> Any:
        if name not in self._attrs:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.")
        return self._attrs[name]

    def values(self) -> tuple[Tensor, ...]:
        return tuple(self._outputs)

    def _add_control_input(self, op: Operation) -> None:
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def run(self, feed_dict: Any = None, session: Any = None) -> None:
        """Runs this operation in ``session`` (default: the default session)."""
        from gpugraph.framework.default_session import session_for as _session_for

        _session_for(session, self._graph, f"Operation '{self._name}'").run(self, feed_dict)

    @property
    def node_def(self) -> Any:
        """This op as a ``tf.NodeDef`` protobuf; ``str()`` of it is the text proto TF1 prints."""
        from gpugraph.framework.node_def import node_def_of

        return node_def_of(self)

    def __str__(self) -> str:
        return str(self.node_def)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self._name}' type={self.type}>"


class Tensor:
    """One output of an Operation: a symbolic value with a static shape and dtype."""

    # NumPy arrays on the left of an operator defer to us (``np_array + tensor``).
    __array_priority__ = 100

    def __init__(self, op: Operation, value_index: int, dtype: dtypes.DType, shape: TensorShape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = as_shape(shape)
        self._name = f"{op.name}:{value_index}"

    @property
    def op(self) -> Operation:
        return self._op

    @property
    def value_index(self) -> int:
        return self._value_index

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def graph(self) -> Graph:
        return self._op.graph

    @property
    def device(self) -> str:
        return self._op.device

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refines the static shape; ``ValueError`` when it contradicts what is known."""
        try:
            self._shape = self._shape.merge_with(as_shape(shape))
        except ValueError:
            raise ValueError(
                f"Tensor '{self._name}': shape {self._shape} is not compatible with {as_shape(shape)}"
            ) from None

    def consumers(self) -> list[Operation]:
        return [op for op in self._op._consumers if self in op.inputs]

    def eval(self, feed_dict: Any = None, session: Any = None) -> Any:
        """Computes this tensor in ``session`` (default: the default session)."""
        from gpugraph.framework.default_session import session_for as _session_for

        return _session_for(session, self.graph, f"Tensor '{self._name}'").run(self, feed_dict)

    # Tensors compare and hash by identity, as in TF1 graph mode.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __bool__(self) -> bool:
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
            "instead of `if t:` to test if a tensor is defined."
        )

    def __iter__(self) -> Iterator[Tensor]:
        # TF1 graph mode refuses iteration (OperatorNotAllowedInGraphError is a TypeError)
        raise TypeError("iterating over `tf.Tensor` is not allowed in Graph execution. Use Eager "
                        "execution or decorate this function with @tf.function.")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Cannot convert a symbolic Tensor ({self._name}) to a numpy array.")

    def __len__(self) -> int:
        raise TypeError(
            f"len is not well defined for symbolic Tensors ('{self._name}'). "
            "Use tf.shape or Tensor.get_shape()."
        )

    def __str__(self) -> str:
        # TF1 leaves out an unknown-rank shape and adds the device when one is set
        shape = f", shape={self._shape}" if self._shape.ndims is not None else ""
        device = f", device={self.device}" if self.device else ""
        return f'Tensor("{self._name}"{shape}, dtype={self._dtype.name}{device})'

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self._name}' shape={self._shape} dtype={self._dtype.name}>"
