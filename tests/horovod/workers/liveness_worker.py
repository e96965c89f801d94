"""Ranks allreduce in a loop through liveness.complete; one rank misbehaves at step 3 as argv[1] says.

ok: nobody misbehaves; rank 0 prints the seconds complete() and Waitall took for the same collectives.
die: rank 1 vanishes (os._exit(0), no MPI_Finalize). stop: rank 1 is stopped (SIGSTOP: alive, silent).
hang: rank 1 sleeps without joining (its heartbeat goes on). leave: rank 1 shuts down cleanly and exits.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
from mpi4py import MPI

from gpugraph import errors
from gpugraph.horovod import liveness

mode = sys.argv[1]
comm = MPI.COMM_WORLD
rank = comm.Get_rank()


def allreduce(step: int) -> np.ndarray:
    send = np.full(1024, rank + step, np.float64)
    out = np.empty_like(send)
    liveness.complete([comm.Iallreduce(send, out)], f"HorovodAllreduce_step{step}")
    return out


if mode == "ok":
    rounds = 300
    allreduce(0)  # starts the heartbeat
    comm.Barrier()
    began = time.perf_counter()
    for step in range(rounds):
        out = allreduce(step)
        assert out[0] == sum(r + step for r in range(comm.Get_size())), out[0]
    with_liveness = time.perf_counter() - began
    comm.Barrier()
    began = time.perf_counter()
    for step in range(rounds):
        send = np.full(1024, rank + step, np.float64)
        out = np.empty_like(send)
        MPI.Request.Waitall([comm.Iallreduce(send, out)])
    with_waitall = time.perf_counter() - began
    if rank == 0:
        print(f"TIMES {with_liveness:.6f} {with_waitall:.6f}", flush=True)
    sys.exit(0)

try:
    for step in range(10):
        if rank == 1 and step == 3:
            if mode == "die":
                os._exit(0)
            if mode == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            if mode == "hang":
                time.sleep(600)
            if mode == "leave":
                liveness.stop()
                sys.exit(0)
        allreduce(step)
except errors.UnavailableError as e:
    print(f"CAUGHT {type(e).__name__}: {e}", flush=True)
    raise
print(f"rank {rank} finished", flush=True)
