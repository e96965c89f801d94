"""``tf.NodeDef``: the NodeDef protobuf (tensorboardX's generated class), and an Operation's NodeDef.

The protobuf module is imported on first use, so ``import gpugraph`` stays fast: ``tf.NodeDef`` is a
stand-in whose calls, attributes and isinstance checks go to the real class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpugraph.framework.tensor import Operation

__all__ = ["NodeDef", "node_def_of"]


def _proto_class() -> type:
    from tensorboardX.proto import node_def_pb2

    return node_def_pb2.NodeDef


class _ProtoStandIn(type):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return _proto_class()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(_proto_class(), name)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _proto_class())

    def __repr__(cls) -> str:
        return repr(_proto_class())


class NodeDef(metaclass=_ProtoStandIn):
    """``tf.NodeDef(name=..., op=..., input=[...], device=..., attr={...})``: one node of a GraphDef."""


def node_def_of(op: Operation, add_shapes: bool = False) -> Any:
    """``op`` as a NodeDef: name, op type, inputs ("x", "x:1", "^ctrl"), device and attrs.

    Attrs are those that map onto AttrValue (types, shapes, numbers, strings, constant values); ops
    without a "T" or "dtype" attr get "T" from their first input, and ``add_shapes`` adds
    ``_output_shapes``, as TensorBoard draws them.
    """
    from tensorboardX.proto import attr_value_pb2

    from gpugraph.summary.graph_def import attr_value, dtype_enum, input_name, shape_proto

    node = _proto_class()(name=op.name, op=op.type, device=op.device)
    node.input.extend(input_name(t) for t in op.inputs)
    node.input.extend(f"^{c.name}" for c in op.control_inputs)
    for key, value in sorted(op.attrs.items()):
        attr = attr_value(value)
        if attr is not None:
            node.attr[key].CopyFrom(attr)
    if "T" not in node.attr and "dtype" not in node.attr and op.inputs:
        node.attr["T"].type = dtype_enum(op.inputs[0].dtype.base_dtype)
    if add_shapes and op.outputs:
        shapes = attr_value_pb2.AttrValue.ListValue(shape=[shape_proto(t.shape) for t in op.outputs])
        node.attr["_output_shapes"].list.CopyFrom(shapes)
    return node
