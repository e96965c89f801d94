"""Write nn_extra_reference.json: the tf.nn functions of nn_extra_cases.py computed by TensorFlow (float64).

Each case stores its inputs, the upstream gradient g of the chosen output, TensorFlow's output,
tf.gradients of sum(output * g) with respect to every float input (None where TF has none), and
the name of the output and the names/types of the ops the call made.

Run with a TensorFlow environment (not a gpugraph dependency):
    TF_USE_LEGACY_KERAS=1 python tests/ops/data/make_nn_extra_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from nn_extra_cases import CASES, make_inputs, resolve  # noqa: E402


def _rounded(a: Any) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 10).tolist()


def run_case(tf: Any, name: str, case: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    arrays = make_inputs(name, case)
    graph = tf.Graph()
    with graph.as_default():
        dtype = np.float32 if case.get("float32") else None  # some TF CPU kernels are float32 only
        tensors = {k: tf.constant(v if dtype is None or v.dtype.kind != "f" else v.astype(dtype), name=k)
                   for k, v in arrays.items()}
        before = {op.name for op in graph.get_operations()}
        out = resolve(tf, case["fn"])(**tensors, **case.get("kwargs", {}))
        made = [[op.name, op.type] for op in graph.get_operations() if op.name not in before and op.type != "Const"]
        y = out[case["out"]] if "out" in case else out
        floats = {k: t for k, t in tensors.items() if t.dtype.is_floating}
        entry: dict[str, Any] = {"output_name": y.name, "ops": made}
        if y.dtype.is_floating and case.get("grad", True):
            g = (rng.integers(-4, 5, y.shape.as_list()) / 2).astype(y.dtype.as_numpy_dtype)
            grads = tf.gradients(y, list(floats.values()), grad_ys=tf.constant(g))
            fetch = [y] + [t for t in grads if t is not None]
        else:
            g, grads, fetch = None, [], [y]
        with tf.Session() as sess:
            values = sess.run(fetch)
    entry["output"] = _rounded(values[0]) if y.dtype.is_floating else np.asarray(values[0]).tolist()
    entry["g"] = None if g is None else g.tolist()
    got = iter(values[1:])
    entry["grads"] = {k: (None if t is None else _rounded(next(got))) for k, t in zip(floats, grads)}
    return entry


def main() -> None:
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    rng = np.random.default_rng(20240611)
    out = {name: run_case(tf, name, case, rng) for name, case in CASES.items()}
    path = HERE / "nn_extra_reference.json"
    path.write_text(json.dumps({"tensorflow": tf.__version__, "cases": out}, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(out)} cases, {path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
