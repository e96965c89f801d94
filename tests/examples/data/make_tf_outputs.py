"""Write tf_outputs.json: what each TF1-style example of examples/ prints under TensorFlow.

Run with a TensorFlow environment (not a gpugraph dependency; tf_keras for tf.compat.v1.layers):
    TF_USE_LEGACY_KERAS=1 python tests/examples/data/make_tf_outputs.py [EXAMPLE.py ...]
(with names, only those entries are rewritten)
The example tests compare gpugraph's output with these lines: exactly where the values are
deterministic, by what they show (convergence, accuracy) where they come from random draws.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[2] / "examples"
TF_IMPORT = ('import tensorflow.compat.v1 as tf; tf.disable_eager_execution(); '
             'tf.compat = __import__("tensorflow").compat')
# The example scripts and their command lines (as the tests run them).
RUNS = {
    "mnist_deep_cnn.py": [], "mnist_layers_cnn.py": [], "mlp_batch_norm.py": [], "word2vec_basic.py": [],
    "dcgan.py": [], "app_flags_gfile.py": ["--max_steps=120"], "monitored_training.py": [],
    "lstm_mnist.py": [], "lstm_mnist_dynamic.py": [], "stacked_gru.py": [], "bidirectional_rnn.py": [],
    "time_series_rnn.py": [], "char_rnn.py": [], "while_loop_gradient.py": [], "data_pipeline_cnn.py": [],
    "cifar10_queue_training.py": [], "csv_queue_pipeline.py": [], "freeze_graph.py": [], "random_seed_init.py": [],
}
# Scripts run with all of TF1's behaviour: TF 2's tf.layers draw their default initial weights unseeded
# (so they differ from run to run); TF1's v1 initializers take their seeds from tf.set_random_seed.
TF1_BEHAVIOR = {"random_seed_init.py"}
TF1_IMPORT = 'import tensorflow.compat.v1 as tf; tf.disable_v2_behavior(); tf.compat = __import__("tensorflow").compat'


def run_under_tensorflow(name: str, args: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        for source in EXAMPLES.glob("*.py"):
            shutil.copy(source, Path(tmp) / source.name)
        script = Path(tmp) / name
        script.write_text(script.read_text().replace("import gpugraph as tf",
                                                     TF1_IMPORT if name in TF1_BEHAVIOR else TF_IMPORT))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1")
        proc = subprocess.run([sys.executable, name, *args], cwd=tmp, capture_output=True, text=True, env=env,
                              check=True)
    return proc.stdout.splitlines()


def main(names: list[str]) -> None:
    import tensorflow

    path = HERE / "tf_outputs.json"
    outputs = json.loads(path.read_text())["outputs"] if names and path.exists() else {}
    outputs.update({name: run_under_tensorflow(name, args) for name, args in RUNS.items()
                    if not names or name in names})
    out = {"tensorflow": tensorflow.__version__, "outputs": dict(sorted(outputs.items()))}
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
