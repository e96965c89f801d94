"""Write graph_def_reference.json: GraphDefs TensorFlow writes for graph_def_cases.build, and their values.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/framework/data/make_graph_def_reference.py
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from graph_def_cases import FEED, FETCHES, LAYOUT_NODES, build  # noqa: E402

tf.disable_v2_behavior()  # TF1 graph mode with ref variables (VariableV2, Assign)


def _layout(graph_def) -> dict:
    """Per node: op type, inputs, attr keys TF checks (no '_' ones) and the type attrs' DataType numbers."""
    out = {}
    for node in graph_def.node:
        if node.name in LAYOUT_NODES:
            keys = sorted(k for k in node.attr if not k.startswith("_"))
            types = {k: node.attr[k].type for k in keys if node.attr[k].WhichOneof("value") == "type"}
            out[node.name] = {"op": node.op, "input": list(node.input), "attr_keys": keys, "types": types}
    return out


def main() -> None:
    graph = tf.Graph()
    with graph.as_default():
        build(tf)
    graph_def = graph.as_graph_def()
    with tf.Session(graph=graph) as sess:
        sess.run("init")
        sess.run("double_w")
        values = sess.run(FETCHES, {"x:0": FEED})
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph_def, ["probs", "total"])
        frozen_values = sess.run(["probs:0", "total:0"], {"x:0": FEED})
    out = {
        "tensorflow": tf.__version__,
        "graph_def": base64.b64encode(graph_def.SerializeToString()).decode("ascii"),
        "values": {name: v.tolist() for name, v in zip(FETCHES, values)},
        "layout": _layout(graph_def),
        "frozen_graph_def": base64.b64encode(frozen.SerializeToString()).decode("ascii"),
        "frozen_nodes": [[n.name, n.op] for n in frozen.node],
        "frozen_values": {"probs:0": frozen_values[0].tolist(), "total:0": frozen_values[1].tolist()},
    }
    path = HERE / "graph_def_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
