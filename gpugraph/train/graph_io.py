"""tf.train.write_graph: a GraphDef to a text or binary protobuf file."""

from __future__ import annotations

import os
from typing import Any

from gpugraph.framework.graph import Graph

__all__ = ["write_graph"]


def write_graph(graph_or_graph_def: Any, logdir: str, name: str, as_text: bool = True) -> str:
    """Write the GraphDef of a Graph (or a GraphDef) to ``logdir/name``, creating ``logdir``; returns the path.
    ``as_text`` writes the protobuf text format, else the binary wire format."""
    from google.protobuf import text_format  # protobuf comes with tensorboardX; loaded when first needed

    graph_def = graph_or_graph_def.as_graph_def() if isinstance(graph_or_graph_def, Graph) else graph_or_graph_def
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(graph_def).encode("utf-8") if as_text else graph_def.SerializeToString()
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:  # written whole, then renamed: a reader never sees half a graph
        f.write(data)
    os.replace(tmp, path)
    return path
