"""The kernel loader (header parsing, CuPy kernel cache) and the agreement of .cu files, twins and ops."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from gpugraph import kernels
from gpugraph.kernels import KernelSourceError, parse
from gpugraph.kernels.twins import TWINS
from gpugraph.ops.training_ops import APPLY_OPS

ROOT = Path(__file__).resolve().parents[2]


# --- parsing ---
def test_parse_reads_header_and_body() -> None:
    src = parse(textwrap.dedent("""\
        // name: scaled_add
        // A free comment line.
        // in: T a, T x, bool flag
        // inout: T y
        // out: T z

        y += a * x;  // comments inside the body stay
        z = flag ? y : x;
        """))
    assert src.name == "scaled_add"
    assert src.in_params == "T a, T x, bool flag"
    assert src.out_params == "T y, T z"
    assert src.operation == "y += a * x;  // comments inside the body stay\nz = flag ? y : x;"
    assert src.line == 7
    assert src.as_tuple() == (src.in_params, src.out_params, src.operation, "scaled_add")


@pytest.mark.parametrize("text, message", [
    ("// in: T a\n// inout: T y\ny = a;", "name"),
    ("// name: 3bad\n// inout: T y\ny = 1;", "name"),
    ("// name: k\n// in: T\n// inout: T y\ny = 1;", "bad parameter"),
    ("// name: k\n// in: T a b\n// inout: T y\ny = 1;", "bad parameter"),
    ("// name: k\n// in: T i\n// inout: T y\ny = i;", "reserved"),
    ("// name: k\n// in: T _x\n// inout: T y\ny = 1;", "bad parameter"),
    ("// name: k\n// in: T a\n// inout: T a\na = 1;", "declared twice"),
    ("// name: k\n// name: j\n// inout: T y\ny = 1;", "given twice"),
    ("// name: k\n// in: T a\ny = a;", "inout"),
    ("// name: k\n// inout: T y\n// only comments\n", "empty kernel body"),
    ("// name: k\ny = 1;\n// inout: T y\n", "after the body"),
])
def test_parse_rejects_bad_sources(text: str, message: str) -> None:
    with pytest.raises(KernelSourceError, match=message):
        parse(text, "k.cu")


def test_load_checks_the_name_and_missing_files() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_kernel"):
        kernels.load("no_such_kernel")
    for name in kernels.available():
        assert kernels.load(name).name == name


def test_kernel_sources_live_in_the_top_level_kernels_folder() -> None:
    assert not list((ROOT / "gpugraph" / "kernels").glob("*.cu"))
    assert kernels.source_dir() == ROOT / "kernels"
    assert {p.stem for p in (ROOT / "kernels").glob("*.cu")} == set(kernels.available())


def test_the_wheel_maps_the_kernels_folder_into_the_package() -> None:
    text = (ROOT / "setup.py").read_text()
    assert 'package_dir={"gpugraph.kernels.cuda": "kernels"}' in text
    assert 'package_data={"gpugraph.kernels.cuda": ["*.cu"]}' in text
    assert '"gpugraph.kernels.cuda"]' in text  # listed among the packages


def test_source_dir_prefers_the_installed_copy_then_the_checkout(tmp_path: Path) -> None:
    package = tmp_path / "site" / "gpugraph" / "kernels"
    package.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no kernel sources"):
        kernels.source_dir(package)
    (tmp_path / "site" / "kernels").mkdir()  # a checkout's layout: <root>/gpugraph/kernels, <root>/kernels
    assert kernels.source_dir(package) == tmp_path / "site" / "kernels"
    (package / "cuda").mkdir()  # a wheel's layout: gpugraph/kernels/cuda
    assert kernels.source_dir(package) == package / "cuda"


# --- building CuPy kernels (with a stand-in module: the loader only calls ElementwiseKernel) ---
class _FakeKernel:
    def __init__(self, in_params: str, out_params: str, operation: str, name: str, options: tuple = ()):
        self.args = (in_params, out_params, operation, name)
        self.options = options
        self.names = [p.split()[1] for p in (in_params + ", " + out_params).split(", ")]

    def __call__(self, *args: Any) -> Any:
        # run the twin with the arguments matched to the kernel's parameter names
        assert len(args) == len(self.names)
        return TWINS[self.args[3]](np, **dict(zip(self.names, args)))


def _fake_cupy() -> Any:
    return SimpleNamespace(ElementwiseKernel=_FakeKernel)


def test_elementwise_kernel_builds_once_per_source_and_dtypes() -> None:
    cp = _fake_cupy()
    k1 = kernels.elementwise_kernel("apply_adam", (np.float32,), cupy=cp)
    assert k1.args == kernels.load("apply_adam").as_tuple()
    assert k1.options == kernels.KERNEL_OPTIONS == ("--fmad=false",)
    assert kernels.elementwise_kernel("apply_adam", (np.dtype("float32"),), cupy=cp) is k1
    assert kernels.elementwise_kernel("apply_adam", (np.float64,), cupy=cp) is not k1
    assert kernels.elementwise_kernel("apply_adagrad", (np.float32,), cupy=cp) is not k1


def test_importing_gpugraph_does_not_import_cupy(tmp_path: Path) -> None:
    fake = tmp_path / "cupy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('cupy imported at import time')\n")
    code = ("import sys, gpugraph, gpugraph.kernels, gpugraph.ops.training_ops, gpugraph.train\n"
            "assert 'cupy' not in sys.modules\n"
            "try:\n    gpugraph.kernels.elementwise_kernel('apply_adam')\nexcept ImportError as e:\n"
            "    print('lazy:', e)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "lazy: cupy imported at import time" in run.stdout


# --- .cu files, twins and Apply ops agree ---
@pytest.mark.parametrize("opdef", APPLY_OPS, ids=lambda o: o.name)
def test_every_apply_op_has_its_kernel_and_twin(opdef: Any) -> None:
    name = opdef.extra["kernel"]
    src = kernels.load(name)  # the .cu file exists and parses
    refs = list(opdef.input_names[:opdef.ref_input])
    others = list(opdef.input_names[opdef.ref_input:]) + list(opdef.extra["kernel_attrs"])
    assert [p.name for p in src.inouts] == refs
    assert [p.name for p in src.inputs] == others
    assert not src.outputs
    twin_params = list(inspect.signature(TWINS[name]).parameters)
    assert twin_params == ["xp"] + refs + others


def test_every_kernel_belongs_to_an_op() -> None:
    # the random draws' kernels (their NumPy counterpart is gpugraph.ops.philox) launch from philox.py
    draws = [n for n in kernels.available() if n.startswith("philox_")]
    philox_py = (ROOT / "gpugraph" / "ops" / "philox.py").read_text()
    assert draws and all(f'"{n}"' in philox_py for n in draws)
    updates = sorted(set(kernels.available()) - set(draws))
    assert updates == sorted(o.extra["kernel"] for o in APPLY_OPS) == sorted(TWINS)


def test_apply_step_calls_the_cuda_kernel_where_xp_is_cupy() -> None:
    """With a CuPy-like xp the step calls kernel(*inputs, *attrs, *refs); the stand-in kernel runs
    the twin by parameter name, so a wrong argument order gives wrong numbers."""
    tf.reset_default_graph()
    var = tf.Variable(np.zeros(3, np.float32), name="theta")
    grad = tf.placeholder(tf.float32, [3])
    tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True).apply_gradients([(grad, var)])
    apply_op = tf.get_default_graph().get_operation_by_name("Momentum/update_theta/ApplyMomentum")
    xp = SimpleNamespace(ElementwiseKernel=_FakeKernel)
    values = {apply_op.inputs[0].op: np.array([1.0, 2.0, 3.0], np.float32),
              apply_op.inputs[1].op: np.array([0.5, -0.5, 0.0], np.float32)}
    ctx = SimpleNamespace(backend=SimpleNamespace(xp=xp), cell=lambda v: SimpleNamespace(value=values[v]))
    step = apply_op.opdef.bind(apply_op, ctx)
    g = np.array([1.0, 1.0, -2.0], np.float32)
    out = step(np.float32(0.1), g, np.float32(0.9))
    acc = 0.9 * np.array([0.5, -0.5, 0.0]) + g
    expected = np.array([1.0, 2.0, 3.0]) - (0.1 * g + 0.9 * acc * 0.1)
    assert out is values[apply_op.inputs[0].op]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_allclose(values[apply_op.inputs[1].op], acc, rtol=1e-6)
