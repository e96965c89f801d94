"""``gpugraph info``: versions, backend and why, one line per GPU; one-line errors with non-zero exits."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest

import gpugraph
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
