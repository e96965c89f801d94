"""``gpugraph info``: versions, backend and why, one line per GPU; one-line errors with non-zero exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import gpugraph
import gpugraph as tf
from gpugraph import cli

GiB = 1 << 30


def _no_gpu_stack(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "pynvml", None)


def test_info_without_gpu_says_numpy_and_why(monkeypatch, capsys):
    _no_gpu_stack(monkeypatch)
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"gpugraph {gpugraph.__version__}",
        "backend: numpy (GPU backend off: cupy is not installed)",
        f"NumPy {np.__version__}; CuPy not installed; CUDA runtime n/a, driver n/a",
        "GPUs: none found (pynvml is not installed (pip install nvidia-ml-py); cupy is not installed)",
    ]


def _fake_pynvml():
    nvml = types.ModuleType("pynvml")
    gpus = [("NVIDIA H100 80GB HBM3", 80 * GiB, 79 * GiB, (9, 0), 37), ("Tesla T4", 15 * GiB, 15 * GiB, (7, 5), None)]
    nvml.nvmlInit = nvml.nvmlShutdown = lambda: None
    nvml.nvmlDeviceGetCount = lambda: len(gpus)
    nvml.nvmlDeviceGetHandleByIndex = lambda i: gpus[i]
    nvml.nvmlDeviceGetName = lambda h: h[0]
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=h[1], free=h[2])
    nvml.nvmlDeviceGetCudaComputeCapability = lambda h: h[3]

    def util(h):
        if h[4] is None:
            raise RuntimeError("Not Supported")
        return types.SimpleNamespace(gpu=h[4], memory=0)
    nvml.nvmlDeviceGetUtilizationRates = util
    nvml.nvmlSystemGetDriverVersion = lambda: b"550.54.15"
    return nvml


def _fake_cupy():
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "13.3.0"
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 2, runtimeGetVersion=lambda: 12040, driverGetVersion=lambda: 12060))
    return cupy


def test_info_with_gpus(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml())
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "backend: cupy"
    assert out[2] == f"NumPy {np.__version__}; CuPy 13.3.0; CUDA runtime 12.4, driver 12.6; NVIDIA driver 550.54.15"
    assert out[3:] == [
        "GPUs (2, from NVML):",
        "  GPU 0: NVIDIA H100 80GB HBM3, memory 81920 MiB total, 80896 MiB free, compute capability 9.0, "
        "utilization 37%",
        "  GPU 1: Tesla T4, memory 15360 MiB total, 15360 MiB free, compute capability 7.5, utilization n/a",
    ]


def test_cupy_without_cuda_versions(monkeypatch, capsys):
    cupy = _fake_cupy()

    def fail():
        raise RuntimeError("no driver")
    cupy.cuda.runtime.getDeviceCount = cupy.cuda.runtime.runtimeGetVersion = fail
    cupy.cuda.runtime.driverGetVersion = fail
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "backend: numpy (GPU backend off: no CUDA device: no driver)"
    assert out[2].endswith("CuPy 13.3.0; CUDA runtime n/a, driver n/a")


def test_failures_are_one_line_with_exit_code_1(monkeypatch, capsys):
    def boom():
        raise OSError("disk on fire")
    monkeypatch.setattr(cli, "info_lines", boom)
    assert cli.main(["info"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "gpugraph info: error: OSError: disk on fire\n"


@pytest.mark.parametrize("argv", [[], ["bogus"], ["info", "--nope"]])
def test_usage_errors_are_one_line_with_exit_code_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gpugraph: error: ")


def test_help_lists_info(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "info" in capsys.readouterr().out


def test_module_runs_as_a_command():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-m", "gpugraph.cli", "info"], capture_output=True, text=True,
                          timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"gpugraph {gpugraph.__version__}"
    assert lines[1] == "backend: cupy" or lines[1].startswith("backend: numpy (GPU backend off: ")
    assert lines[2].startswith(f"NumPy {np.__version__}; CuPy ")


# --- gpugraph run ---
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CONFIGS = ROOT / "configs"


@pytest.fixture
def clean_state(monkeypatch):
    """Each command starts from a fresh default graph, no default session config and no GPUGRAPH_* variables."""
    from gpugraph.runtime.default_config import get_default_config

    for name in list(os.environ):
        if name.startswith("GPUGRAPH_"):
            monkeypatch.delenv(name)
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
    assert get_default_config() is None and "GPUGRAPH_DEVICE" not in os.environ  # the command cleaned up


def script(tmp_path: Path, body: str, name: str = "job.py") -> str:
    path = tmp_path / name
    path.write_text("import sys\nimport gpugraph as tf\n" + textwrap.dedent(body))
    return str(path)


def command(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPUGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "gpugraph.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=env)


def test_run_an_example_in_process(clean_state, capsys):
    assert cli.main(["run", str(EXAMPLES / "seed002_node_lifecycle.py")]) == 0
    assert capsys.readouterr().out == "10\n15\n10\n15\n"


def test_run_an_example_as_a_command():
    done = command("run", "seed002_node_lifecycle.py", cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "10\n15\n10\n15\n"


SHOW_CONFIG = """
import os
config = tf.Session()._config
if config is None:
    print("no default config")
else:
    print(config.gpu_options.allow_growth, config.allow_soft_placement, config.log_device_placement,
          dict(config.device_count), os.environ.get("GPUGRAPH_DEVICE"))
"""


def test_run_with_config_sets_every_sessions_defaults(clean_state, tmp_path, capsys):
    job = script(tmp_path, SHOW_CONFIG)
    assert cli.main(["run", job]) == 0
    assert capsys.readouterr().out == "no default config\n"  # as under plain `python job.py`
    assert cli.main(["run", "--config", str(CONFIGS / "default.toml"), job]) == 0
    assert capsys.readouterr().out == "True True False {} None\n"
    assert cli.main(["run", job, "--log-device-placement", f"--config={CONFIGS / 'cpu.toml'}"]) == 0
    assert capsys.readouterr().out == "False False True {'GPU': 0} cpu\n"


def test_explicit_config_in_the_script_wins(clean_state, tmp_path, capsys):
    job = script(tmp_path, "print(tf.Session(config=tf.ConfigProto())._config.gpu_options.allow_growth)\n")
    assert cli.main(["run", "--config", str(CONFIGS / "default.toml"), job]) == 0
    captured = capsys.readouterr()
    assert captured.out == "False\n"
    assert "a Session was given config=...; it is used instead of the default config" in captured.err


def test_run_cpu_flag_and_environment(clean_state, tmp_path, capsys, monkeypatch):
    job = script(tmp_path, SHOW_CONFIG)
    assert cli.main(["run", "--cpu", job]) == 0
    assert capsys.readouterr().out == "False False False {'GPU': 0} cpu\n"
    monkeypatch.setenv("GPUGRAPH_SOFT_PLACEMENT", "1")
    monkeypatch.setenv("GPUGRAPH_ALLOW_GROWTH", "true")
    assert cli.main(["run", "--config", str(CONFIGS / "cpu.toml"), job]) == 0
    assert capsys.readouterr().out == "True True False {'GPU': 0} cpu\n"


def test_run_passes_arguments_path_and_main(clean_state, tmp_path, capsys):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    job = script(tmp_path, """
        import helper
        print(__name__, sys.argv, helper.VALUE, tf.Session()._config.allow_soft_placement)
    """)
    argv = ["run", job, "a", "--config", str(CONFIGS / "default.toml"), "b", "--", "--cpu", "--config"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == f"__main__ {[job, 'a', 'b', '--cpu', '--config']} 42 True\n"
    assert "helper" not in sys.argv and str(tmp_path) not in sys.path  # restored
    sys.modules.pop("helper", None)


@pytest.mark.parametrize("body, code, err", [
    ("print('done')\n", 0, ""),
    ("sys.exit(3)\n", 3, ""),
    ("sys.exit()\n", 0, ""),
    ("raise SystemExit('bye')\n", 1, "bye\n"),
])
def test_run_propagates_exit_codes(clean_state, tmp_path, capsys, body, code, err):
    assert cli.main(["run", script(tmp_path, body)]) == code
    lines = capsys.readouterr().err.splitlines(keepends=True)
    assert "".join(line for line in lines if not line.startswith("gpugraph: ")) == err  # not the library's notes


def test_run_shows_the_scripts_traceback(clean_state, tmp_path, capsys):
    job = script(tmp_path, "def f():\n    raise ValueError('boom')\n\nf()\n")
    assert cli.main(["run", job]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{job}", line 6, in <module>' in err and "in f\n" in err and err.endswith("ValueError: boom\n")
    assert "runpy" not in err and "cli.py" not in err
    assert cli.main(["run", "--debug", job]) == 1
    assert "runpy" in capsys.readouterr().err


def test_run_syntax_error(clean_state, tmp_path, capsys):
    assert cli.main(["run", script(tmp_path, "x = (\n")]) == 1
    assert "SyntaxError" in capsys.readouterr().err


def test_run_errors_before_the_script_starts(clean_state, tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.py")]) == 1
    assert capsys.readouterr().err == f"gpugraph run: error: script not found: {tmp_path / 'nope.py'}\n"
    bad = tmp_path / "bad.toml"
    bad.write_text("[session]\nalow_growth = true\n")
    job = script(tmp_path, "print('ran')\n")
    assert cli.main(["run", "--config", str(bad), job]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"gpugraph run: error: unknown key 'alow_growth' in [session] ({bad} line 2); "
                            f"did you mean 'allow_growth'?\n")


@pytest.mark.parametrize("subcommand", ["run", "train"])
def test_required_gpu_missing_is_one_line(clean_state, tmp_path, capsys, monkeypatch, subcommand):
    from gpugraph.runtime import backend

    monkeypatch.setattr(backend, "cupy_available", lambda: (False, "cupy is not installed"))
    config = tmp_path / "gpu.toml"
    config.write_text('[session]\ndevice = "gpu"\n[model]\ntype = "linear_regression"\n')
    args = ["run", "--config", str(config), script(tmp_path, "print('ran')\n")] if subcommand == "run" else \
        ["train", str(config)]
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f'gpugraph {subcommand}: error: device = "gpu" ({config} line 2) but no GPU backend is '
                            f"available: cupy is not installed\n")


# --- gpugraph train ---
@pytest.mark.parametrize("name", ["linear-regression.toml", "polynomial.toml", "logistic-digits.toml",
                                  "mlp-digits.toml"])
def test_train_each_config_briefly(clean_state, tmp_path, capsys, name):
    out_dir = tmp_path / "out"
    argv = ["train", str(CONFIGS / name), "--steps", "20", "--logdir", str(out_dir), "--checkpoint-dir",
            str(out_dir)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("model: ") and "20 steps" in out[2]
    names = [line.split(":")[0] for line in out[-4:]]
    assert names[1] in ("train accuracy", "train R^2") and names[3] in ("test accuracy", "test R^2")
    assert tf.train.latest_checkpoint(str(out_dir)) == f"{out_dir}/model.ckpt-20"
    assert (out_dir / "train").is_dir() and (out_dir / "test").is_dir()


def test_train_as_a_command(tmp_path):
    done = command("train", str(CONFIGS / "linear-regression.toml"), "--steps", "30", "--logdir", "",
                   "--checkpoint-dir", str(tmp_path), "--cpu")
    assert done.returncode == 0, done.stderr
    assert "device: numpy (/device:CPU:0)" in done.stdout and "test R^2: " in done.stdout
    assert done.stderr.splitlines()[-1].startswith("step 30/30: loss ")


@pytest.mark.parametrize("text, message", [
    ('[session]\nallow_growth = true\nalow_growth = true\n', "unknown key 'alow_growth' in [session] ({path} line 3); "
                                                             "did you mean 'allow_growth'?"),
    ('[model]\ntype = "mlp_classifier"\nhidden_sizes = 64\n', "[model] hidden_sizes must be a non-empty array of "
                                                              "integers, got 64 (int) ({path} line 3)"),
    ('[model]\ntype = "linear_regression"\n[data]\npath = "missing.npz"\n', "data file not found: {dir}/missing.npz"),
    ('[model]\ntype = "linear_regression"\n[train]\nsteps = 5\n[trian]\nseed = 1\n',
     "unknown section [trian] ({path} line 5); did you mean [train]?"),
])
def test_bad_configs_fail_with_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    done = command("train", str(path))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "gpugraph train: error: " + message.format(path=path, dir=tmp_path) + "\n"


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\ntype = "linear_regression"\n[data]\npath = "missing.npz"\n')
    done = command("train", str(path), "--debug")
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert done.stderr.rstrip().endswith(f"DataError: data file not found: {tmp_path}/missing.npz")


@pytest.mark.parametrize("argv", [["train"], ["train", "x.toml", "--steps", "0"], ["run"]])
def test_train_and_run_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and capsys.readouterr().err.count("\n") == 1


# --- gpugraph bench ---
def test_bench_prints_the_table(capsys):
    assert cli.main(["bench"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("machine: ")
    assert "| benchmark | µs per call |" in out and "| ratio Session.run / NumPy |" in out


def test_bench_without_the_repository(monkeypatch, capsys):
    monkeypatch.setattr(cli, "bench_script", lambda: None)
    assert cli.main(["bench"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gpugraph bench: error: the benchmarks live in the gpugraph "
                                                   "source repository (bench/run.py)")


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("info", "run", "train", "bench"))
