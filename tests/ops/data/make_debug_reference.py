"""Write debug_reference.json: TensorFlow's text for tf.Assert / tf.Print / tf.print of debug_cases.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_debug_reference.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from debug_cases import SUMMARIZE, VALUES, feed_value  # noqa: E402

tf.disable_v2_behavior()


def captured(fd: int, fn) -> str:
    """What ``fn`` writes to file descriptor ``fd`` (TF's kernels write there from C++)."""
    with tempfile.TemporaryFile() as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(fd)
        os.dup2(tmp.fileno(), fd)
        try:
            fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode()


def main() -> None:
    out: dict[str, dict[str, str]] = {}
    for name, (_, dtype) in VALUES.items():
        tf_dtype = tf.string if dtype == "string" else tf.as_dtype(dtype)
        for summarize in SUMMARIZE:
            key = f"{name}/{summarize}"
            graph = tf.Graph()
            with graph.as_default():
                p = tf.placeholder(tf_dtype, name="p")
                check = tf.Assert(tf.constant(False), ["note", p], summarize=summarize)
                printed = tf.Print(tf.constant(0), [p, "x"], message="msg: ", summarize=summarize)
                v2 = tf.print("v2:", p, {"k": p}, summarize=summarize, output_stream=sys.stdout)
                with tf.Session(graph=graph) as sess:
                    feed = {p: feed_value(name)}
                    try:
                        sess.run(check, feed)
                        message = ""
                    except tf.errors.InvalidArgumentError as e:
                        message = next(line for line in e.message.split("\n") if line.startswith("assertion failed"))
                    print_text = captured(2, lambda: sess.run(printed, feed))
                    print_v2 = captured(1, lambda: sess.run(v2, feed))
            out[key] = {"assert": message, "Print": print_text, "print": print_v2}
    path = HERE / "debug_reference.json"
    path.write_text(json.dumps({"tensorflow": tf.__version__, "cases": out}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(out)} cases)")


if __name__ == "__main__":
    main()
