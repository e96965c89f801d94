"""Writes reader_pipeline_reference.json: the batches TensorFlow's queue pipeline of
reader_pipeline_cases.py reads (run in the TF venv):

    TF_USE_LEGACY_KERAS=1 python tests/io/data/make_reader_pipeline_reference.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import tensorflow.compat.v1 as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reader_pipeline_cases import CASES, read_batches, write_files  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    out = {"tensorflow": tf.__version__, "cases": {}}
    for name, case in CASES.items():
        with tempfile.TemporaryDirectory() as tmp, tf.Graph().as_default():
            batches = read_batches(tf, write_files(tmp), **case)
        out["cases"][name] = [[[k.replace(tmp, "{dir}") for k in keys], *rest] for keys, *rest in batches]
    (HERE / "reader_pipeline_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
