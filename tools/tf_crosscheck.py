"""Run each example under gpugraph and under tensorflow.compat.v1, and diff what they print.

    /path/to/env-with-tensorflow/bin/python tools/tf_crosscheck.py [EXAMPLE.py ...]

With no names, every example script (each file of examples/ with the line `import gpugraph as tf`)
is checked; the other files there are the scripts' data helpers. tf.compat.v1.layers needs the
`tf_keras` package in that environment (selected by TF_USE_LEGACY_KERAS=1, set here).

TensorFlow is never a dependency of gpugraph; this only needs an environment that has it. Lines
that come from random initial values differ (another random generator), and float32 results may
differ in the last digits; names, shapes and deterministic values must not.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TF_IMPORT = ('import tensorflow.compat.v1 as tf; tf.disable_eager_execution(); '
             'tf.compat = __import__("tensorflow").compat')


def tf1_shapes(text: str) -> str:
    """TF1 printed an unknown dimension as "?" (as gpugraph does); TF 2's TensorShape prints "None"."""
    return re.sub(r"(?<=[(, ])None(?=[,)])(?=[^\n]*dtype=)", "?", text)


def run(script: Path, cwd: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent), TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1")
    proc = subprocess.run([sys.executable, script.name], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)
    return proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr


IMPORT_LINE = "import gpugraph as tf"


def is_script(path: Path) -> bool:
    return IMPORT_LINE in path.read_text().splitlines()


def main(names: list[str]) -> int:
    scripts = sorted(p for p in EXAMPLES.glob("*.py") if is_script(p))
    if names:
        scripts = [p for p in scripts if p.name in names]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as ours_tmp:
        # Both sides run in copies of examples/ (with the files some examples read): nothing is written here.
        tmpdir, ours_dir = Path(tmp) / "examples", Path(ours_tmp) / "examples"
        shutil.copytree(EXAMPLES, tmpdir, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(EXAMPLES, ours_dir, ignore=shutil.ignore_patterns("__pycache__"))
        for script in scripts:
            as_tf = tmpdir / script.name
            as_tf.write_text(script.read_text().replace(IMPORT_LINE, TF_IMPORT))
            ours = run(ours_dir / script.name, ours_dir)
            theirs = tf1_shapes(run(as_tf, tmpdir))
            diff = list(difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "tensorflow", "gpugraph",
                                             lineterm="", n=0))
            print(f"== {script.name}: {'same output' if not diff else f'{len(diff) - 2} diff lines'}")
            print("\n".join(diff[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
