"""Several ranks of one command: ``gpugraph run -n N`` and ``gpugraph train --np N`` start N copies under mpiexec.

mpiexec comes from the ``[mpi]`` extra (the mpich wheel puts it beside the interpreter), so that it matches the
MPI library mpi4py loads. Each copy is ``python -m gpugraph run|train ...`` without the rank count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Sequence

ENV_RANK_MARK = "GPUGRAPH_LAUNCHED_RANKS"  # set in the copies: they run their command instead of launching


class LaunchError(RuntimeError):
    """The ranks cannot be started; the message is one line meant for the user."""


def mpiexec_path() -> str:
    """The mpiexec of the [mpi] extra (this interpreter's scripts folder), else the first on PATH."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "mpiexec"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("mpiexec")
    if found:
        return found
    raise LaunchError("several ranks need mpiexec and mpi4py: pip install 'gpugraph[mpi]'")


def inside_launch() -> bool:
    return bool(os.environ.get(ENV_RANK_MARK))


def mpiexec_command(ranks: int, gpugraph_args: Sequence[str], hostfile: str | None = None,
                    hosts: str | None = None) -> list[str]:
    """mpiexec (MPICH's Hydra) with N copies of ``python -m gpugraph ARGS``.

    ``-disable-auto-cleanup``: Hydra's own cleanup kills the other ranks the moment one exits, before they can
    say which rank was lost, and reports success when the lost rank happened to exit 0; gpugraph.horovod's
    liveness check names the lost rank and ends the job itself.
    """
    command = [mpiexec_path(), "-disable-auto-cleanup", "-n", str(ranks)]
    if hostfile is not None:
        if not os.path.isfile(hostfile):
            raise LaunchError(f"hostfile not found: {hostfile}")
        command += ["-f", hostfile]
    if hosts is not None:
        command += ["-hosts", hosts]
    command += ["-genv", ENV_RANK_MARK, str(ranks)]
    if hostfile is None and hosts is None:
        command += [part for name, value in blas_threads(ranks).items() for part in ("-genv", name, value)]
    return command + [sys.executable, "-m", "gpugraph", *gpugraph_args]


def blas_threads(ranks: int) -> dict[str, str]:
    """Thread counts that share this host's cores among the ranks, for the variables the user has not set.

    Each rank's BLAS would otherwise start a thread per core, and N ranks' threads fight over the cores
    (2 ranks on 2 cores: an MLP step 17 times slower than with one thread each).
    """
    share = str(max(1, (os.cpu_count() or 1) // ranks))
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {name: share for name in names if name not in os.environ}


def run_ranks(command: Sequence[str]) -> int:
    """Run mpiexec; its exit code (non-zero when any rank failed) is the command's."""
    try:
        return subprocess.run(list(command)).returncode
    except KeyboardInterrupt:  # mpiexec forwards Ctrl-C to the ranks; wait for them to go
        return 130

