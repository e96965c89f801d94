"""Data-parallel training with Horovod's TF1 API: ``import gpugraph.horovod as hvd``.

Launch N copies of a script with ``mpiexec -n N`` (or ``gpugraph run -n N``); each calls ``hvd.init()``, wraps
its optimizer in ``hvd.DistributedOptimizer`` and broadcasts the initial variables from rank 0. Host tensors
travel through MPI (mpi4py), GPU tensors through NCCL (CuPy).
"""

from __future__ import annotations

from gpugraph.horovod.basics import (
    ccl_built, cross_rank, cross_size, cuda_built, ddl_built, gloo_built, gloo_enabled, init, is_homogeneous,
    is_initialized, local_rank, local_size, mpi_built, mpi_enabled, mpi_threads_supported, nccl_built, rank,
    rocm_built, shutdown, size,
)
from gpugraph.horovod.collectives import (
    Adasum, Average, Max, Min, Product, Sum, allgather, allreduce, broadcast, grouped_allreduce,
    handle_average_backwards_compatibility,
)
from gpugraph.horovod.compression import Compression
from gpugraph.horovod.optimizer import (
    BroadcastGlobalVariablesHook, DistributedOptimizer, broadcast_global_variables, broadcast_variables,
)

__all__ = ["init", "shutdown", "is_initialized", "size", "rank", "local_size", "local_rank", "cross_size",
           "cross_rank", "is_homogeneous", "mpi_threads_supported", "mpi_enabled", "mpi_built", "gloo_enabled",
           "gloo_built", "nccl_built", "ddl_built", "ccl_built", "cuda_built", "rocm_built",
           "Average", "Sum", "Adasum", "Min", "Max", "Product", "allreduce", "grouped_allreduce", "allgather",
           "broadcast", "handle_average_backwards_compatibility", "Compression", "DistributedOptimizer",
           "broadcast_variables", "broadcast_global_variables", "BroadcastGlobalVariablesHook"]
