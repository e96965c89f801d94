"""tools/gpu_check.sh: fails fast without a GPU, covers every example, and compares GPU with host output."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "gpu_check.sh"


def load_gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def test_without_a_cuda_device_it_fails_within_seconds(tmp_path: Path) -> None:
    # An empty CUDA_VISIBLE_DEVICES hides any GPU, so this holds on GPU machines too.
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}
    start = time.monotonic()
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, timeout=60)
    assert time.monotonic() - start < 15
    assert proc.returncode != 0
    assert "no CUDA device found" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing ran, no report claims otherwise


def test_the_parts_cover_every_example_program() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "parts"], capture_output=True,
                          text=True, timeout=60, check=True)
    parts = proc.stdout.split()
    examples = ROOT / "examples"
    programs = {p.name for p in examples.glob("*.py") if "import gpugraph as tf" in p.read_text()}
    assert {p.removeprefix("examples/") for p in parts if p.startswith("examples/")} == programs
    assert {"gpu_tests", "bench", "train", "memory"} <= set(parts)
    # the rest of examples/ are data helpers that gpugraph never runs
    assert {p.name for p in examples.glob("*.py")} - programs == {"cifar10_data.py", "housing.py", "mnist_data.py",
                                                                  "text_corpus.py"}
    # the programs are found in the directory, not listed in the tools
    sources = SCRIPT.read_text() + (ROOT / "tools" / "gpu_check.py").read_text()
    assert not [name for name in programs if name in sources]


def test_deterministic_programs_must_print_the_same() -> None:
    compare = load_gpu_check().compare_outputs
    host = ["loss 0.5", "saved logs/run-20260101120000"]
    assert compare(host, ["loss 0.5", "saved logs/run-20260101120007"], None)[0]  # only the time stamp differs
    ok, why = compare(host, ["loss 0.50001", "saved logs/run-20260101120000"], None)
    assert not ok and "line 1" in why
    assert not compare(host, host[:1], None)[0]


def test_random_lines_are_skipped_only_where_tensorflow_shows_them_random() -> None:
    compare = load_gpu_check().compare_outputs
    tensorflow = ["x: shape=(None, 3)", "step 0, loss 2.31", "accuracy 0.97"]
    host = ["x: shape=(?, 3)", "step 0, loss 2.29", "accuracy 0.96"]
    assert compare(host, ["x: shape=(?, 3)", "step 0, loss 2.35", "accuracy 0.95"], tensorflow)[0]
    ok, why = compare(host, ["x: shape=(?, 4)", "step 0, loss 2.29", "accuracy 0.96"], tensorflow)
    assert not ok and "line 1" in why
    assert not compare(host, host + ["extra"], tensorflow)[0]


def test_reports_give_each_part_status_duration_and_figures(tmp_path: Path) -> None:
    gpu_check = load_gpu_check()
    results = [gpu_check.PartResult("bench", "pass", 12.5, {"speedup": 30.1}),
               gpu_check.PartResult("memory", "fail", 3.0, {"checks": {"memory_given_back_on_close": False}})]
    gpu_check.write_reports(tmp_path, "NVIDIA H200", results)
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["status"] == "fail"
    assert [(p["name"], p["status"], p["duration_s"]) for p in report["parts"]] == [("bench", "pass", 12.5),
                                                                                     ("memory", "fail", 3.0)]
    markdown = (tmp_path / "gpu_check.md").read_text()
    assert "| bench | pass | 12.5 | speedup=30.1 |" in markdown
    assert "memory_given_back_on_close" in markdown
