"""The seed programs in examples/ run unchanged and print what TF1 prints.

Deterministic outputs are compared line for line. Values drawn from random initializers cannot
equal TF1's (a different random generator), so those runs are checked for what the program
computes: convergence, shapes and the variable names it creates.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, workdir: Path | None = None) -> list[str]:
    """Run examples/NAME in a scratch copy of examples/ (they write checkpoints and logs there)."""
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="gpugraph-example-"))
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, workdir / source.name)
    proc = subprocess.run([sys.executable, name], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert without_numpy_notice(proc.stderr) == "", proc.stderr  # no warnings either
    return proc.stdout.splitlines()


# Where CuPy or a GPU is missing, gpugraph says once that it runs on NumPy: the one expected stderr line.
NUMPY_NOTICE = re.compile(r"^gpugraph: GPU backend off \(.*\); running on NumPy\n", re.MULTILINE)


def without_numpy_notice(stderr: str) -> str:
    return NUMPY_NOTICE.sub("", stderr, count=1)


def array_after(lines: list[str], header: str) -> np.ndarray:
    """Parse the printed NumPy column vector that follows ``header``."""
    start = lines.index(header) + 1
    rows = []
    for line in lines[start:]:
        text = line.strip().strip("[]").strip()
        if not text:
            break
        rows.append(float(text.split()[0]))
        if line.rstrip().endswith("]]"):
            break
    return np.array(rows)


def test_every_example_is_tested() -> None:
    names = {p.name for p in EXAMPLES.glob("seed*.py")}
    tested = {n for n in globals() if n.startswith("test_seed")}
    assert len(tested) >= len(names), f"untested examples: {sorted(names)}"


def test_seed002_create_and_run_graph() -> None:
    assert run_example("seed002_create_and_run_graph.py") == ["42"] * 4


def test_seed002_managing_graphs() -> None:
    assert run_example("seed002_managing_graphs.py") == ["True", "True", "False"]


def test_seed002_node_lifecycle() -> None:
    assert run_example("seed002_node_lifecycle.py") == ["10", "15", "10", "15"]


def test_seed002_normal_equation_matches_least_squares() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from housing import fetch_california_housing
    finally:
        sys.path.pop(0)
    housing = fetch_california_housing()
    X = np.c_[np.ones((len(housing.data), 1)), housing.data]
    expected = np.linalg.lstsq(X, housing.target, rcond=None)[0]
    lines = run_example("seed002_normal_equation.py")
    theta = np.array([float(line.strip(" []")) for line in lines])
    np.testing.assert_allclose(theta, expected, atol=2e-3)


def test_seed002_gradient_descent_three_ways_agree_and_momentum_converges_faster() -> None:
    lines = run_example("seed002_gradient_descent.py")
    assert [line for line in lines if line.startswith("Gradients:")] == [
        "Gradients: manual", "Gradients: autodiff", "Gradients: optimizer", "Gradients: momentum"]
    epochs = [line for line in lines if line.startswith("Epoch")]
    assert len(epochs) == 40
    assert all(line.startswith(f"Epoch {100 * (i % 10)} MSE =  ") for i, line in enumerate(epochs))
    mses = [float(line.split()[-1]) for line in epochs]
    for run in range(4):
        assert mses[run * 10 + 9] < 0.02 < mses[run * 10]
    # same seed, same data: the three ways to get gradients give the same trajectory
    np.testing.assert_allclose(mses[0:10], mses[10:20], rtol=1e-4)
    np.testing.assert_allclose(mses[0:10], mses[20:30], rtol=1e-4)
    assert mses[31] < mses[1]  # momentum 0.9: well ahead after 100 epochs


def test_seed002_placeholders() -> None:
    lines = run_example("seed002_placeholders.py")
    assert lines[:3] == ["[[6. 7. 8.]]", "[[ 9. 10. 11.]", " [12. 13. 14.]]"]
    assert float(lines[-1].split(":")[1]) < 0.02


def scalars(logdir: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_seed002_name_scopes(tmp_path: Path) -> None:
    lines = run_example("seed002_name_scopes.py", tmp_path)
    assert lines[-2:] == ["loss/sub", "loss/mse"]
    assert array_after(lines, "Best theta:").shape == (9,)
    (run_dir,) = (tmp_path / "tf_logs").iterdir()
    curve = scalars(run_dir, "MSE")
    assert [step for step, _ in curve] == [e * 207 + b for e in range(10) for b in range(0, 207, 10)]
    assert curve[-1][1] < curve[0][1] / 10


def test_seed002_tensorboard(tmp_path: Path) -> None:
    lines = run_example("seed002_tensorboard.py", tmp_path)
    assert lines[-3:-1] == ["loss/sub", "loss/mse"]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / lines[-1]))
    acc.Reload()
    assert len(acc.Scalars("MSE")) == 210
    graph = acc.Graph()
    assert {"loss/mse", "predictions", "theta"} <= {node.name for node in graph.node}


def test_seed002_save_restore(tmp_path: Path) -> None:
    lines = run_example("seed002_save_restore.py", tmp_path)
    assert [line.split(" MSE =")[0] for line in lines if line.startswith("Epoch")] == [
        f"Epoch {e}" for e in range(0, 1000, 100)]
    assert lines[-3:] == ["True", "model/weights.ckpt", "[('weights', [9, 1])]"]
    state = (tmp_path / "model" / "tmp" / "checkpoint").read_text()
    assert state.splitlines()[0] == 'model_checkpoint_path: "my_model_final.ckpt"'


def test_seed003_compute_apply_gradients() -> None:
    # What TF prints on the NumPy in use (checked with tensorflow.compat.v1 2.21 on NumPy 2); the seed's
    # "[(9.0, 2.0), (12.0, 3.0)]" and "-1.6" are the same values in NumPy 1.x's shorter scalar repr.
    assert run_example("seed003_compute_apply_gradients.py") == [
        'Tensor("var/mul_1:0", shape=(), dtype=float32)',
        "weight_name: var/w:0",
        "input_name: var/x:0",
        f"[({np.float32(9.0)!r}, {np.float32(2.0)!r}), ({np.float32(12.0)!r}, {np.float32(3.0)!r})]",
        f"[({np.float32(9.0)!r}, {np.float32(2.0)!r}), ({np.float32(10.0)!r}, {np.float32(3.0)!r})]",
        str(final_loss),
    ]


lr = np.float32(0.4)
# one clipped gradient step in float32: w = 2 - 0.4 * 9, x = 3 - 0.4 * 10; loss = w * x * x
final_loss = (np.float32(2.0) - lr * np.float32(9.0)) * (np.float32(3.0) - lr * np.float32(10.0)) ** 2


def test_seed002_modularity_names() -> None:
    lines = run_example("seed002_modularity.py")
    names = ast.literal_eval(lines[-1])
    expected = [f"relu{s}/{v}" for s in ["", "_1", "_2", "_3", "_4"] for v in ("weights", "bias")]
    assert names == expected
    assert lines[0].startswith("[[") and lines[1].endswith("]]")


def test_seed002_sharing_variables(tmp_path: Path) -> None:
    lines = run_example("seed002_sharing_variables.py", tmp_path)
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["relu6", "relu8", "relu9"]
    assert lines[0] == "relu/threshold:0"
    lists = [ast.literal_eval(line) for line in lines if line.startswith("['")]
    assert lists[0] == ["relu/threshold"] + [f"relu_{i}/{v}" for i in range(1, 6) for v in ("weights", "bias")]
    shared = ["relu/threshold"] + [f"relu{s}/{v}" for s in ["", "_1", "_2", "_3", "_4"] for v in ("weights", "bias")]
    assert lists[1] == shared
    assert lists[2] == shared


def test_seed001_variables_and_scopes() -> None:
    lines = run_example("seed001_variables_and_scopes.py")
    assert lines[0] == "[0. 0. 0.]"
    assert lines[1] == "parent_scope can access var: parent_scope/child_scope/child_var:0"
    assert lines[2].startswith("ValueError: Variable scope/var_name does not exist")


def test_seed000_polynomial_regression_learns() -> None:
    lines = run_example("seed000_polynomial_regression.py")
    assert lines[0] == "initial w: [0. 0. 0. 0. 0. 0.]"
    assert float(lines[-1].split(":")[1]) < 0.05
