"""Launch a worker script on N ranks with the mpiexec of the [mpi] extra; collect each rank's JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from gpugraph.launch import mpiexec_path

WORKERS = Path(__file__).resolve().parent / "workers"
ROOT = Path(__file__).resolve().parents[2]


def run_ranks(n: int, worker: str, out_dir: Path, env: dict[str, str] | None = None,
              timeout: float = 60) -> list[dict[str, Any]]:
    """Run workers/<worker> on ``n`` ranks; each writes rank<r>.json into ``out_dir``; returns them by rank."""
    base = {k: v for k, v in os.environ.items() if k != "HOROVOD_FUSION_THRESHOLD"}
    full_env = {**base, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                "GPUGRAPH_HOROVOD_TIMEOUT": "30", "GPUGRAPH_DEVICE": "cpu", **(env or {})}
    cmd = [mpiexec_path(), "-n", str(n), sys.executable, str(WORKERS / worker), str(out_dir)]
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(n)]
