"""Verify a machine with an NVIDIA GPU: GPU tests, the GPU benchmark, a training run, every example on the
GPU against the host, and a memory scenario. Called by tools/gpu_check.sh; writes OUTDIR/gpu_check.md and
OUTDIR/gpu_check.json.

    python tools/gpu_check.py probe          # exit 0 if CuPy sees a CUDA device, else say why (exit 2)
    python tools/gpu_check.py parts          # the parts and the examples they cover, one a line
    python tools/gpu_check.py run OUTDIR     # every part; exit 0 only if all pass
    python tools/gpu_check.py memory         # the memory scenario alone, as JSON (run in its own process)

Each part runs in a child process with a timeout, so a crash or hang in one leaves the others and the
report intact; the timeouts add up to under 8 minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TF_OUTPUTS = ROOT / "tests" / "examples" / "data" / "tf_outputs.json"
NO_DEVICE_MESSAGE = "no CUDA device found"
TOTAL_BUDGET_S = 450.0  # leaves start-up and report writing well inside 8 minutes
PART_TIMEOUTS_S = {"gpu_tests": 100.0, "bench": 60.0, "train": 60.0, "examples": 200.0, "memory": 30.0}
MIB = 1 << 20
TIMESTAMPED = re.compile(r"run-\d{14}")  # the TensorBoard example's time-stamped log directory


@dataclass
class PartResult:
    name: str
    status: str = "fail"  # "pass" or "fail"
    duration_s: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


def probe() -> tuple[bool, str]:
    """(True, device name) when CuPy imports and sees at least one CUDA device; else (False, why)."""
    try:
        import cupy
    except Exception as e:  # missing, or a broken install
        return False, f"{NO_DEVICE_MESSAGE}: CuPy is not importable ({type(e).__name__}: {e})"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # no driver, or no device
        return False, f"{NO_DEVICE_MESSAGE}: {type(e).__name__}: {e}"
    if count <= 0:
        return False, f"{NO_DEVICE_MESSAGE}: CuPy sees 0 devices"
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return True, name.decode() if isinstance(name, bytes) else str(name)


def discover_examples(examples: Path = EXAMPLES) -> list[str]:
    """The runnable programs of examples/ (those that import gpugraph as tf; the rest are data helpers)."""
    return sorted(p.name for p in examples.glob("*.py") if "import gpugraph as tf" in p.read_text().splitlines())


def part_names(examples: Path = EXAMPLES) -> list[str]:
    return ["gpu_tests", "bench", "train"] + [f"examples/{name}" for name in discover_examples(examples)] + ["memory"]


def _run(command: list[str], timeout: float, cwd: Path = ROOT,
         env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); exit code 124 on timeout, as timeout(1) gives."""
    try:
        proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 124, out, f"timed out after {timeout:.0f} s"
    return proc.returncode, proc.stdout, proc.stderr


def _env(device: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if device:
        env["GPUGRAPH_DEVICE"] = device
    return env


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- the parts ---
def part_gpu_tests(timeout: float, outdir: Path) -> PartResult:
    rc, out, err = _run([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider"], timeout,
                        env=_env())
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", out)}
    ok = rc == 0 and counts.get("passed", 0) > 0 and not counts.get("skipped")  # skipped: the GPU went unseen
    return PartResult("gpu_tests", "pass" if ok else "fail", figures={"exit_code": rc, **counts},
                      detail="" if ok else _tail(out + "\n" + err))


def part_bench(timeout: float, outdir: Path) -> PartResult:
    rc, out, err = _run([sys.executable, "bench/gpu.py"], timeout, env=_env())
    figures: dict[str, Any] = {"exit_code": rc}
    gpu = re.search(r"CuPy on .*?\| ([\d.]+) \|", out)
    cpu = re.search(r"NumPy on the host \| ([\d.]+) \|", out)
    ratio = re.search(r"ratio NumPy / CuPy \| ([\d.]+)x", out)
    if gpu and cpu and ratio:
        figures.update(gpu_ms_per_step=float(gpu.group(1)), cpu_ms_per_step=float(cpu.group(1)),
                       speedup=float(ratio.group(1)))
    ok = rc == 0 and "speedup" in figures
    return PartResult("bench", "pass" if ok else "fail", figures=figures, detail=_tail(out + "\n" + err, 8))


def part_train(timeout: float, outdir: Path) -> PartResult:
    scratch = outdir / "train"
    shutil.rmtree(scratch, ignore_errors=True)
    figures: dict[str, Any] = {}
    try:
        import sklearn

        figures["scikit_learn"] = sklearn.__version__
    except Exception:
        figures["scikit_learn"] = "not installed (the digits data set needs it)"
    rc, out, err = _run([sys.executable, "-m", "gpugraph.cli", "train", "configs/mlp-digits.toml", "--quiet",
                         "--logdir", str(scratch), "--checkpoint-dir", str(scratch)], timeout, env=_env("gpu"))
    figures["exit_code"] = rc
    for key, value in re.findall(r"^(train|test) accuracy: ([\d.]+)$", out, re.MULTILINE):
        figures[f"{key}_accuracy"] = float(value)
    ok = rc == 0 and figures.get("test_accuracy", 0.0) > 0.9  # the config reaches over 0.95 on the host
    return PartResult("train", "pass" if ok else "fail", figures=figures, detail=_tail(out + "\n" + err, 8))


def tf1_shapes(line: str) -> str:
    """TF 2 prints an unknown dimension as None where TF1 (and gpugraph) print "?"."""
    return re.sub(r"(?<=[(, ])None(?=[,)])", "?", line) if "shape=(" in line else line


def compare_outputs(host: list[str], gpu: list[str], reference: list[str] | None) -> tuple[bool, str]:
    """Whether the GPU run printed what the host run did: every line, or, for a program with TensorFlow's
    recorded output (some of its lines come from unseeded random draws), the same number of lines and the
    same text on each line where the host run equals TensorFlow's."""
    host = [TIMESTAMPED.sub("run-*", line) for line in host]
    gpu = [TIMESTAMPED.sub("run-*", line) for line in gpu]
    if host == gpu:
        return True, f"same {len(host)} lines"
    if reference is None:
        diff = next(i for i in range(max(len(host), len(gpu))) if i >= min(len(host), len(gpu)) or host[i] != gpu[i])
        return False, (f"line {diff + 1} differs: host {host[diff] if diff < len(host) else '<none>'!r}, "
                       f"GPU {gpu[diff] if diff < len(gpu) else '<none>'!r}")
    if len(host) != len(gpu):
        return False, f"host printed {len(host)} lines, GPU {len(gpu)}"
    fixed = [i for i, line in enumerate(host) if i < len(reference) and line == tf1_shapes(reference[i])]
    for i in fixed:
        if gpu[i] != host[i]:
            return False, f"deterministic line {i + 1} differs: host {host[i]!r}, GPU {gpu[i]!r}"
    return True, f"same {len(fixed)} deterministic lines of {len(host)}; the others come from random draws"


def _run_example(name: str, device: str, timeout: float) -> tuple[int, list[str], str]:
    """Run examples/NAME in a scratch copy of examples/ (they write checkpoints and logs beside themselves)."""
    with tempfile.TemporaryDirectory(prefix=f"gpu-check-{device}-") as workdir:
        for source in EXAMPLES.glob("*.py"):
            shutil.copy(source, Path(workdir) / source.name)
        env = _env(device)
        for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(threads, "2")  # many runs share the CPUs
        rc, out, err = _run([sys.executable, name], timeout, cwd=Path(workdir), env=env)
    return rc, out.splitlines(), err


def example_results(timeout: float) -> list[PartResult]:
    """Every example on the host and on the GPU, all runs side by side (each with a few BLAS threads)."""
    references = json.loads(TF_OUTPUTS.read_text())["outputs"] if TF_OUTPUTS.exists() else {}
    names = discover_examples()
    deadline = time.monotonic() + timeout

    def one_run(job: tuple[str, str]) -> tuple[int, list[str], str, float]:
        start = time.monotonic()
        rc, lines, err = _run_example(job[0], job[1], deadline - start)
        return rc, lines, err, time.monotonic() - start

    jobs = [(name, device) for name in names for device in ("cpu", "gpu")]
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) // 2)) as pool:
        runs = dict(zip(jobs, pool.map(one_run, jobs)))
    results = []
    for name in names:
        host, gpu = runs[(name, "cpu")], runs[(name, "gpu")]
        result = PartResult(f"examples/{name}", duration_s=round(max(host[3], gpu[3]), 1),
                            figures={"host_exit_code": host[0], "gpu_exit_code": gpu[0], "lines": len(gpu[1]),
                                     "host_s": round(host[3], 1), "gpu_s": round(gpu[3], 1)})
        if host[0] or gpu[0]:
            result.detail = _tail(gpu[2] if gpu[0] else host[2], 6)
        else:
            ok, result.detail = compare_outputs(host[1], gpu[1], references.get(name))
            result.status = "pass" if ok else "fail"
        results.append(result)
    return results


def part_memory(timeout: float, outdir: Path) -> PartResult:
    rc, out, err = _run([sys.executable, str(Path(__file__).resolve()), "memory"], timeout, env=_env())
    try:
        figures = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return PartResult("memory", figures={"exit_code": rc}, detail=_tail(out + "\n" + err, 8))
    ok = rc == 0 and all(figures.get("checks", {}).values())
    return PartResult("memory", "pass" if ok else "fail", figures=figures, detail=_tail(err, 4) if rc else "")


# --- the memory scenario (in its own process: the pool and the device start clean) ---
def _nvidia_smi_used_total() -> dict[str, Any]:
    rc, out, _ = _run(["nvidia-smi", "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits",
                       "--id=0"], 10) if shutil.which("nvidia-smi") else (1, "", "")
    if rc or "," not in out:
        return {"nvidia_smi": "unavailable"}
    used, total = (int(v) for v in out.strip().splitlines()[0].split(","))
    return {"nvidia_smi_used_mib": used, "nvidia_smi_total_mib": total}


def memory_snapshot(session: Any = None) -> dict[str, Any]:
    """The CuPy pool's bytes (through the session's GPU backend when one is given), NVML and nvidia-smi."""
    import cupy

    from gpugraph.runtime.device_facts import survey_gpus

    pool = cupy.get_default_memory_pool()
    snap: dict[str, Any] = {"pool_used_bytes": int(pool.used_bytes()), "pool_total_bytes": int(pool.total_bytes()),
                            "pool_limit_bytes": int(pool.get_limit())}
    if session is not None:
        try:
            snap["session_stats"] = session.backend_of("/device:GPU:0").memory_stats()
        except Exception as e:  # the figure is optional; the pool's own are above
            snap["session_stats"] = f"unavailable ({type(e).__name__})"
    survey = survey_gpus()
    if survey.reports:
        facts = survey.reports[0].facts
        snap.update(device_total_bytes=int(facts.total_memory), device_free_bytes=int(facts.free_memory),
                    device_source=survey.source)
    snap.update(_nvidia_smi_used_total())
    return snap


def memory_scenario() -> dict[str, Any]:
    """Two sessions with per_process_gpu_memory_fraction 0.3 (the first reserves up front, the second has
    allow_growth) sharing GPU 0's backend, a run in each, then closed one after the other."""
    import gpugraph as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.random_normal((2048, 2048), seed=1)
        total = tf.reduce_sum(tf.matmul(x, x))
    configs = []
    for growth in (False, True):
        config = tf.ConfigProto()
        config.gpu_options.per_process_gpu_memory_fraction = 0.3
        config.gpu_options.allow_growth = growth
        configs.append(config)
    figures: dict[str, Any] = {"before": memory_snapshot()}
    reserved = tf.Session(graph=graph, config=configs[0])
    reserved.run(total)
    figures["first_session_open"] = memory_snapshot(reserved)
    growing = tf.Session(graph=graph, config=configs[1])
    growing.run(total)
    figures["both_sessions_open"] = memory_snapshot(growing)
    reserved.close()
    figures["first_session_closed"] = memory_snapshot(growing)
    growing.close()
    figures["after_close"] = memory_snapshot()
    device_total = figures["before"].get("device_total_bytes") or 0
    share = int(0.3 * device_total)
    figures["checks"] = {
        # TF1 takes the whole fraction up front without allow_growth
        "reserved_fraction_up_front": figures["first_session_open"]["pool_total_bytes"] >= 0.25 * device_total > 0,
        # one pool per GPU for the process: its limit is the sum of the open sessions' shares
        "limit_is_the_sum_of_shares": figures["both_sessions_open"]["pool_limit_bytes"] == 2 * share,
        "pool_within_shares": figures["both_sessions_open"]["pool_total_bytes"] <= 2 * share + 64 * MIB,
        "limit_follows_the_open_sessions": figures["first_session_closed"]["pool_limit_bytes"] == share,
        "limit_restored_after_the_last": figures["after_close"]["pool_limit_bytes"]
        == figures["before"]["pool_limit_bytes"],
        "memory_given_back_on_close": figures["after_close"]["pool_total_bytes"]
        <= figures["before"]["pool_total_bytes"] + 64 * MIB,
    }
    return figures


# --- the whole check ---
def run_all(outdir: Path) -> list[PartResult]:
    outdir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + TOTAL_BUDGET_S
    parts: list[tuple[str, Callable[[float, Path], PartResult]]] = [
        ("gpu_tests", part_gpu_tests), ("bench", part_bench), ("train", part_train), ("memory", part_memory)]
    results: list[PartResult] = []
    for name, part in parts[:3]:
        results.append(_timed(name, part, min(PART_TIMEOUTS_S[name], deadline - time.monotonic()), outdir))
        print(f"{name}: {results[-1].status} ({results[-1].duration_s} s)", flush=True)
    start = time.monotonic()
    examples = example_results(min(PART_TIMEOUTS_S["examples"], deadline - start))
    failed = [r.name for r in examples if r.status != "pass"]
    results.append(PartResult("examples", "fail" if failed or not examples else "pass",
                              round(time.monotonic() - start, 1), {"programs": len(examples), "failed": failed}))
    print(f"examples: {results[-1].status} ({results[-1].duration_s} s)", flush=True)
    results.append(_timed("memory", part_memory, min(PART_TIMEOUTS_S["memory"], deadline - time.monotonic()),
                          outdir))
    print(f"memory: {results[-1].status} ({results[-1].duration_s} s)", flush=True)
    return results + examples


def _timed(name: str, part: Callable[[float, Path], PartResult], timeout: float, outdir: Path) -> PartResult:
    start = time.monotonic()
    if timeout < 1:
        return PartResult(name, detail="not run: the time budget was spent")
    result = part(timeout, outdir)
    result.duration_s = round(time.monotonic() - start, 1)
    return result


def write_reports(outdir: Path, device: str, results: list[PartResult]) -> None:
    summary = [r for r in results if not r.name.startswith("examples/")]
    ok = all(r.status == "pass" for r in summary)
    (outdir / "gpu_check.json").write_text(json.dumps(
        {"device": device, "status": "pass" if ok else "fail", "parts": [asdict(r) for r in results]}, indent=2))
    lines = [f"# GPU check: {'pass' if ok else 'FAIL'}", "", f"Device: {device}", "",
             "| part | status | seconds | figures |", "|---|---|---|---|"]
    for r in results:
        figures = ", ".join(f"{k}={v}" for k, v in r.figures.items() if not isinstance(v, dict))
        lines.append(f"| {r.name} | {r.status} | {r.duration_s} | {figures} |")
    for r in results:
        if r.detail or any(isinstance(v, dict) for v in r.figures.values()):
            lines += ["", f"## {r.name}", ""]
            lines += [f"- {k}: `{json.dumps(v)}`" for k, v in r.figures.items() if isinstance(v, dict)]
            if r.detail:
                lines += ["", "```", r.detail, "```"]
    (outdir / "gpu_check.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "parts":
        print("\n".join(part_names()))
        return 0
    if command == "memory":
        print(json.dumps(memory_scenario()))
        return 0
    if command not in ("probe", "run") or (command == "run" and len(argv) != 2):
        print(__doc__, file=sys.stderr)
        return 2
    found, device = probe()
    if not found:
        print(f"gpu_check: {device}", file=sys.stderr)
        return 2
    if command == "probe":
        print(device)
        return 0
    outdir = Path(argv[1]).resolve()
    results = run_all(outdir)
    write_reports(outdir, device, results)
    print(f"reports: {outdir / 'gpu_check.md'}, {outdir / 'gpu_check.json'}")
    return 0 if all(r.status == "pass" for r in results if not r.name.startswith("examples/")) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
