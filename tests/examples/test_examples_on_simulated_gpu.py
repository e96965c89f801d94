"""Every seed example prints the same on a (simulated) GPU as on the host.

The GPU run goes through the whole device path: placement, copies of feeds and constants to the
device, variables resident there, fetches copied back. Only the time-stamped log directory of the
TensorBoard example may differ.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_seed_examples import EXAMPLES, run_example

RUNNER = """
import runpy, sys
import gpugraph as tf
from gpugraph.runtime.default_config import set_default_config
from gpugraph.testing import simulated_gpus

set_default_config(tf.ConfigProto(allow_soft_placement=True))
with simulated_gpus(1, memory=512 << 20) as (gpu,):
    script = sys.argv[1]
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")
print("transfers to the simulated GPU:", gpu.transfers_to_device, file=sys.stderr)
"""

TIMESTAMPED = re.compile(r"run-\d{14}")
# Their graphs are all constants, folded when the plan is built (or they never run a session):
# nothing is left for a device to do.
NO_DEVICE_WORK = {"seed002_managing_graphs.py", "seed002_node_lifecycle.py", "seed002_normal_equation.py"}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("seed*.py")))
def test_example_prints_the_same_on_a_simulated_gpu(name: str, tmp_path: Path) -> None:
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    host = run_example(name, host_dir)
    gpu_dir = tmp_path / "gpu"
    gpu_dir.mkdir()
    for source in EXAMPLES.glob("*.py"):
        (gpu_dir / source.name).write_text(source.read_text())
    (gpu_dir / "simulated_gpu_runner.py").write_text(RUNNER)
    proc = subprocess.run([sys.executable, "simulated_gpu_runner.py", name], cwd=gpu_dir, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    gpu = proc.stdout.splitlines()
    assert [TIMESTAMPED.sub("run-*", line) for line in gpu] == [TIMESTAMPED.sub("run-*", line) for line in host]
    transfers = int(proc.stderr.strip().splitlines()[-1].rsplit(" ", 1)[1])
    assert (transfers == 0) == (name in NO_DEVICE_WORK)  # elsewhere the device path really ran
