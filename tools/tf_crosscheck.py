"""Run each example under gpugraph and under tensorflow.compat.v1, and diff what they print.

    /path/to/env-with-tensorflow/bin/python tools/tf_crosscheck.py

TensorFlow is never a dependency of gpugraph; this only needs an environment that has it. Lines
that come from random initial values differ (another random generator), and float32 results may
differ in the last digits; names, shapes and deterministic values must not.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TF_IMPORT = ('import tensorflow.compat.v1 as tf; tf.disable_eager_execution(); '
             'tf.compat = __import__("tensorflow").compat')


def run(script: Path, cwd: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, script.name], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)
    return proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for helper in EXAMPLES.glob("*.py"):
            if not helper.name.startswith("seed"):
                (tmpdir / helper.name).write_text(helper.read_text())
        for script in sorted(EXAMPLES.glob("seed*.py")):
            as_tf = tmpdir / script.name
            as_tf.write_text(script.read_text().replace("import gpugraph as tf", TF_IMPORT))
            ours, theirs = run(script, EXAMPLES), run(as_tf, tmpdir)
            diff = list(difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "tensorflow", "gpugraph",
                                             lineterm="", n=0))
            print(f"== {script.name}: {'same output' if not diff else f'{len(diff) - 2} diff lines'}")
            print("\n".join(diff[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
