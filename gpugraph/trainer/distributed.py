"""The trainer on several ranks (``gpugraph train --np N`` or ``mpiexec -n N gpugraph train``).

When gpugraph.horovod is initialised with more than one rank, every rank builds the same graph; the optimizer
is wrapped in ``hvd.DistributedOptimizer``; rank 0's initial (or restored) variables are broadcast to all;
each global batch is split into N shards, one per rank, so the averaged gradient is the full batch's and N
ranks follow the path one process would (exactly when N divides the batch). Only rank 0 restores and writes
checkpoints, writes TensorBoard logs and prints; each rank takes GPU ``local_rank`` of the visible ones, as
Horovod's TF1 guide does with ``config.gpu_options.visible_device_list``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpugraph.launch import ENV_RANK_MARK

# Variables MPI launchers set in the processes they start (MPICH's Hydra, Open MPI, Slurm's PMI).
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


@dataclass(frozen=True)
class Ranks:
    hvd: Any  # the gpugraph.horovod module
    rank: int
    size: int
    local_rank: int

    @property
    def chief(self) -> bool:
        return self.rank == 0


def launched_on_several_ranks() -> bool:
    """True in a process an MPI launcher started as one of several."""
    for name in (ENV_RANK_MARK, *_LAUNCHER_SIZE_VARIABLES):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def init_if_launched() -> None:
    """hvd.init() in a process started as one of several ranks; nothing otherwise."""
    if launched_on_several_ranks():
        import gpugraph.horovod as hvd

        hvd.init()


def current_ranks() -> Ranks | None:
    """The ranks when gpugraph.horovod is initialised with more than one, else None (a single process)."""
    try:
        import gpugraph.horovod as hvd
    except ImportError:
        return None
    if not hvd.is_initialized() or hvd.size() < 2:
        return None
    return Ranks(hvd, hvd.rank(), hvd.size(), hvd.local_rank())


def place_on_local_gpu(config: Any, ranks: Ranks) -> Any:
    """The session config with GPU ``local_rank`` of the visible ones (all GPUs when none are listed)."""
    if config.device_count.get("GPU", None) == 0:
        return config  # a CPU run: no GPU to choose
    listed = [item.strip() for item in config.gpu_options.visible_device_list.split(",") if item.strip()]
    if listed and ranks.local_rank >= len(listed):
        raise ValueError(f"rank {ranks.rank} is local rank {ranks.local_rank} of its host, but [session] "
                         f"visible_devices lists only {len(listed)} GPU(s): {','.join(listed)}")
    if listed or _gpu_count() > ranks.local_rank:
        config.gpu_options.visible_device_list = listed[ranks.local_rank] if listed else str(ranks.local_rank)
    return config


def _gpu_count() -> int:
    from gpugraph.runtime.device_facts import survey_gpus

    return len(survey_gpus().reports)


def shard(rows: np.ndarray, ranks: Ranks | None) -> np.ndarray:
    """This rank's part of a batch's row indices: contiguous, sizes differing by at most one."""
    if ranks is None:
        return rows
    return np.array_split(rows, ranks.size)[ranks.rank]


def wrap_optimizer(optimizer: Any, ranks: Ranks | None) -> Any:
    return optimizer if ranks is None else ranks.hvd.DistributedOptimizer(optimizer)


@dataclass
class StepAgreement:
    """Per step, one allreduce of (this rank's loss, whether it was asked to stop): every rank sees the global
    batch's loss, and all stop after the same step when any of them got Ctrl-C or SIGTERM."""

    stop: Any  # float32 placeholder fed 1.0 once this rank was asked to stop
    summed: Any  # [sum of the ranks' losses, number of ranks asked to stop]
    size: int

    @classmethod
    def build(cls, loss: Any, ranks: Ranks) -> StepAgreement:
        import gpugraph as tf

        stop = tf.placeholder_with_default(tf.constant(0.0), [], name="stop_requested")
        packed = tf.stack([tf.cast(loss, tf.float32), stop])
        summed = ranks.hvd.allreduce(packed, op=ranks.hvd.Sum, name="HorovodAllreduce_loss_and_stop")
        return cls(stop, summed, ranks.size)

    def read(self, summed: np.ndarray) -> tuple[float, bool]:
        """(the mean loss over the ranks, whether any rank asked to stop)."""
        return float(summed[0]) / self.size, bool(summed[1] > 0)
