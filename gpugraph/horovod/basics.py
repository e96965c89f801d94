"""hvd.init / size / rank: the process's place among the ranks, from MPI (mpi4py, imported when first needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["init", "shutdown", "is_initialized", "size", "rank", "local_size", "local_rank", "cross_size",
           "cross_rank", "is_homogeneous", "mpi_threads_supported", "mpi_enabled", "mpi_built", "gloo_enabled",
           "gloo_built", "nccl_built", "ddl_built", "ccl_built", "cuda_built", "rocm_built", "fusion_threshold",
           "mpi_comm"]

NOT_INITIALIZED = "Horovod has not been initialized; use hvd.init()."
# Horovod's default fusion buffer: 64 MiB; HOROVOD_FUSION_THRESHOLD=0 turns fusion off.
DEFAULT_FUSION_THRESHOLD = 64 * 1024 * 1024


@dataclass
class _State:
    comm: Any  # the ranks' communicator (a duplicate: our traffic never mixes with the user's)
    local_comm: Any  # the ranks on this node (MPI's shared-memory split)
    cross_comm: Any  # the ranks with this process's local rank, one per node
    fusion_threshold: int


_state: _State | None = None


def import_mpi() -> Any:
    """mpi4py's MPI module, or an ImportError that says how to get it."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("gpugraph.horovod needs mpi4py and an MPI library: pip install 'gpugraph[mpi]' "
                          f"(mpi4py and the mpich wheel) ({e})") from e
    return MPI


def _fusion_threshold_from_env() -> int:
    text = os.environ.get("HOROVOD_FUSION_THRESHOLD", "")
    if not text.strip():
        return DEFAULT_FUSION_THRESHOLD
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"HOROVOD_FUSION_THRESHOLD must be a number of bytes, got {text!r}") from None
    return max(value, 0)


def init(comm: Any = None) -> None:
    """Start Horovod on MPI's world (or on ``comm``: an mpi4py communicator or a list of world ranks).

    Calling it again does nothing, as in Horovod.
    """
    global _state
    if _state is not None:
        return
    MPI = import_mpi()  # noqa: N806 - the module's own name
    if comm is None:
        base = MPI.COMM_WORLD
    elif isinstance(comm, (list, tuple)):
        group = MPI.COMM_WORLD.Get_group().Incl(list(comm))
        base = MPI.COMM_WORLD.Create(group)
        if base == MPI.COMM_NULL:
            raise ValueError(f"this process (world rank {MPI.COMM_WORLD.Get_rank()}) is not in ranks {list(comm)}")
    else:
        base = comm
    world = base.Dup()
    local = world.Split_type(MPI.COMM_TYPE_SHARED, key=world.Get_rank())
    cross = world.Split(color=local.Get_rank(), key=world.Get_rank())
    _state = _State(world, local, cross, _fusion_threshold_from_env())
    try:
        from gpugraph.horovod import liveness
    except ImportError:  # without it collectives wait plainly, with no deadline
        return
    liveness.start(world)  # heartbeats among exactly the ranks the collectives run on


def shutdown() -> None:
    """Release Horovod's communicators (and any NCCL communicator); hvd.init() may be called again."""
    global _state
    if _state is None:
        return
    from gpugraph.horovod import engine

    engine.release()
    state, _state = _state, None
    for c in (state.cross_comm, state.local_comm, state.comm):
        c.Free()


def is_initialized() -> bool:
    return _state is not None


def _get() -> _State:
    if _state is None:
        raise ValueError(NOT_INITIALIZED)
    return _state


def mpi_comm() -> Any:
    """The communicator the collectives run on (a duplicate of the one hvd.init was given)."""
    return _get().comm


def size() -> int:
    """The number of Horovod processes."""
    return _get().comm.Get_size()


def rank() -> int:
    """This process's rank, 0 .. size() - 1."""
    return _get().comm.Get_rank()


def local_size() -> int:
    """The number of Horovod processes on this node."""
    return _get().local_comm.Get_size()


def local_rank() -> int:
    """This process's rank among those on its node: the GPU it should take."""
    return _get().local_comm.Get_rank()


def cross_size() -> int:
    """The number of nodes that have a process with this local rank."""
    return _get().cross_comm.Get_size()


def cross_rank() -> int:
    return _get().cross_comm.Get_rank()


def is_homogeneous() -> bool:
    """True when every node runs the same number of processes."""
    state = _get()
    sizes = state.comm.allgather(state.local_comm.Get_size())
    return len(set(sizes)) == 1


def fusion_threshold() -> int:
    """Bytes per fused collective (HOROVOD_FUSION_THRESHOLD when hvd.init ran); 0: no fusion."""
    return _get().fusion_threshold


def mpi_threads_supported() -> bool:
    """True when MPI runs with MPI_THREAD_MULTIPLE."""
    _get()
    MPI = import_mpi()  # noqa: N806
    return MPI.Query_thread() == MPI.THREAD_MULTIPLE


def mpi_enabled() -> bool:
    return True


def mpi_built() -> bool:
    return True


def gloo_enabled() -> bool:
    return False


def gloo_built() -> bool:
    return False


def nccl_built() -> bool:
    """True when CuPy with NCCL is importable: GPU tensors are then reduced by NCCL on the device."""
    try:
        from cupy.cuda import nccl
    except Exception:  # no CuPy, or CuPy without its NCCL binding
        return False
    return bool(getattr(nccl, "available", True))


def cuda_built() -> bool:
    return nccl_built()


def ddl_built() -> bool:
    return False


def ccl_built() -> bool:
    return False


def rocm_built() -> bool:
    return False
