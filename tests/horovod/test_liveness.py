"""Lost ranks under mpiexec: the surviving ranks name the lost one and the collective, within the deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

from gpugraph import errors
from gpugraph.horovod import liveness
from gpugraph.launch import mpiexec_path

WORKER = Path(__file__).parent / "workers" / "liveness_worker.py"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 3.0  # GPUGRAPH_HOROVOD_TIMEOUT for the jobs: a lost rank is declared after 1.5 s of silence


def launch(mode: str, ranks: int) -> tuple[int, str, float]:
    env = dict(os.environ, GPUGRAPH_HOROVOD_TIMEOUT=str(TIMEOUT), GPUGRAPH_HOROVOD_HEARTBEAT="0.2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    command = [mpiexec_path(), "-disable-auto-cleanup", "-n", str(ranks), sys.executable, str(WORKER), mode]
    began = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - began


@pytest.mark.parametrize("mode", ["die", "stop"])
def test_a_dead_or_stopped_rank_is_named_by_every_survivor(mode):
    code, output, seconds = launch(mode, ranks=3)
    assert code != 0, output
    message = "rank 1 stopped responding (no heartbeat for 1.5 s) while this rank waited in HorovodAllreduce_step3"
    for survivor in (0, 2):
        assert f"gpugraph.horovod [rank {survivor}]: {message}" in output, output
    assert "CAUGHT UnavailableError" in output  # TF1's class for a lost peer reaches the user's code
    assert "finished" not in output
    assert seconds < TIMEOUT + 6, (seconds, output)  # found by silence, before the stall deadline


def test_a_rank_that_never_joins_is_named_at_the_deadline():
    code, output, seconds = launch("hang", ranks=2)  # rank 1 sleeps: alive, heartbeating, not joining
    assert code != 0, output
    assert ("gpugraph.horovod [rank 0]: HorovodAllreduce_step3 did not complete within 3 s "
            "(GPUGRAPH_HOROVOD_TIMEOUT): rank 1 did not join it") in output, output
    assert TIMEOUT <= seconds < TIMEOUT + 6, (seconds, output)  # and the sleeping rank is torn down with the job


def test_a_rank_that_left_is_named_at_once():
    code, output, seconds = launch("leave", ranks=2)
    assert code != 0, output
    assert "gpugraph.horovod [rank 0]: rank 1 shut down before joining HorovodAllreduce_step3" in output, output
    assert seconds < TIMEOUT + 3, (seconds, output)


def test_healthy_collectives_are_correct_and_not_slowed():
    code, output, _ = launch("ok", ranks=2)
    assert code == 0, output
    line = next(x for x in output.splitlines() if x.startswith("TIMES "))
    with_liveness, with_waitall = (float(v) for v in line.split()[1:])
    # 300 allreduces: the polling wait may cost at most 1 ms a collective more than MPI's own Waitall
    assert with_liveness - with_waitall < 0.3, line


# --- in one process (a single rank): no launcher needed ---
def test_complete_waits_for_the_requests():
    send, out = np.arange(4.0), np.zeros(4)
    liveness.complete([MPI.COMM_SELF.Iallreduce(send, out)], "HorovodAllreduce_x")
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0, 3.0])
    liveness.complete([], "nothing")


@pytest.mark.parametrize("text", ["soon", "-1"])
def test_a_bad_timeout_setting_names_the_variable(monkeypatch, text):
    monkeypatch.setenv("GPUGRAPH_HOROVOD_TIMEOUT", text)
    with pytest.raises(ValueError, match="GPUGRAPH_HOROVOD_TIMEOUT"):
        liveness.timeout()


def test_timeout_default_and_zero(monkeypatch):
    monkeypatch.delenv("GPUGRAPH_HOROVOD_TIMEOUT", raising=False)
    assert liveness.timeout() == 60.0
    monkeypatch.setenv("GPUGRAPH_HOROVOD_TIMEOUT", "0")
    assert liveness.timeout() == 0.0


def test_after_a_fault_every_collective_fails_at_once(monkeypatch):
    monkeypatch.setattr(liveness, "_fault", "rank 1 stopped responding")
    send, out = np.ones(2), np.zeros(2)
    request = MPI.COMM_SELF.Iallreduce(send, out)
    with pytest.raises(errors.UnavailableError, match="HorovodBroadcast_w.*cannot go on.*rank 1 stopped"):
        liveness.complete([request], "HorovodBroadcast_w")
    request.Wait()
