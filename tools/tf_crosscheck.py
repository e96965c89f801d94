"""Run each example under gpugraph and under tensorflow.compat.v1, and diff what they print.

    /path/to/env-with-tensorflow/bin/python tools/tf_crosscheck.py [EXAMPLE.py ...]

The gpugraph side runs with the project's own environment (``.venv/bin/python`` at the repository's
root, or the interpreter named by GPUGRAPH_PYTHON), which has gpugraph's dependencies; the TensorFlow
environment needs none of them.

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


def gpugraph_python() -> str:
    named = os.environ.get("GPUGRAPH_PYTHON")
    if named:
        return named
    venv = EXAMPLES.parent / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run(script: Path, cwd: Path, python: str = sys.executable) -> str:
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent), TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1")
    proc = subprocess.run([python, script.name], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)
    return proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr


IMPORT_LINE = "import gpugraph as tf"
# Scripts run with all of TF1's behaviour: TF 2's tf.layers draw their default initial weights unseeded.
TF1_BEHAVIOR = {"random_seed_init.py"}
TF1_IMPORT = 'import tensorflow.compat.v1 as tf; tf.disable_v2_behavior(); tf.compat = __import__("tensorflow").compat'


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
            as_tf.write_text(script.read_text().replace(
                IMPORT_LINE, TF1_IMPORT if script.name in TF1_BEHAVIOR else TF_IMPORT))
            ours = run(ours_dir / script.name, ours_dir, gpugraph_python())
            theirs = tf1_shapes(run(as_tf, tmpdir))
            diff = list(difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "tensorflow", "gpugraph",
                                             lineterm="", n=0))
            print(f"== {script.name}: {'same output' if not diff else f'{len(diff) - 2} diff lines'}")
            print("\n".join(diff[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
