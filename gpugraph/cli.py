"""The ``gpugraph`` command. ``gpugraph info``: versions, the backend in use, and the GPUs found."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

import numpy as np

MIB = 1 << 20


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _cuda_version(number: int) -> str:
    """CUDA encodes versions as 1000 * major + 10 * minor (12040 is 12.4)."""
    return f"{number // 1000}.{number % 1000 // 10}"


def _cupy_versions() -> tuple[str, str, str]:
    """(CuPy version, CUDA runtime version, CUDA driver version); "n/a" where unknown."""
    try:
        import cupy
    except Exception:
        return "not installed", "n/a", "n/a"
    version = str(getattr(cupy, "__version__", "unknown"))
    runtime, driver = "n/a", "n/a"
    try:
        runtime = _cuda_version(int(cupy.cuda.runtime.runtimeGetVersion()))
    except Exception:
        pass
    try:
        driver = _cuda_version(int(cupy.cuda.runtime.driverGetVersion()))
    except Exception:
        pass
    return version, runtime, driver


def _gpu_line(report: Any) -> str:
    f = report.facts
    cc = f"{f.compute_capability[0]}.{f.compute_capability[1]}" if f.compute_capability else "unknown"
    util = f"{report.utilization_percent}%" if report.utilization_percent is not None else "n/a"
    return (f"GPU {f.index}: {f.name}, memory {f.total_memory // MIB} MiB total, {f.free_memory // MIB} MiB free, "
            f"compute capability {cc}, utilization {util}")


def info_lines() -> list[str]:
    import gpugraph
    from gpugraph.runtime.backend import cupy_available
    from gpugraph.runtime.device_facts import survey_gpus

    ok, why = cupy_available()
    cupy_version, runtime, driver = _cupy_versions()
    survey = survey_gpus()
    lines = [f"gpugraph {gpugraph.__version__}",
             "backend: cupy" if ok else f"backend: numpy (GPU backend off: {why})",
             f"NumPy {np.__version__}; CuPy {cupy_version}; CUDA runtime {runtime}, driver {driver}"
             + (f"; NVIDIA driver {survey.driver_version}" if survey.driver_version else "")]
    if survey.reports:
        lines.append(f"GPUs ({len(survey.reports)}, from {survey.source.upper()}):")
        lines.extend("  " + _gpu_line(r) for r in survey.reports)
    else:
        lines.append(f"GPUs: none found ({survey.note})")
    return lines


def _info(args: argparse.Namespace) -> int:
    print("\n".join(info_lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gpugraph", description="gpugraph: TensorFlow 1.x graph mode on CuPy or NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    info = commands.add_parser("info", help="versions, the backend in use and the GPUs found")
    info.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # one line, not a traceback
        print(f"gpugraph {args.command}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
