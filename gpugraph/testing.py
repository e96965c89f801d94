"""Helpers for testing GPU code paths on machines without a GPU.

    with gpugraph.testing.simulated_gpus(2, memory=64 << 20) as gpus:
        sess = tf.Session()          # places on /device:GPU:0 and /device:GPU:1, simulated
        ...
        gpus[0].transfers_to_device  # counted copies, bytes, peak memory

The simulated GPUs hold NumPy arrays behind the GPU backend's interface, with their own memory
budget (out-of-memory raises as a real GPU's would) and counted transfers.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from gpugraph.runtime.backend import Backend
from gpugraph.runtime.device_setup import set_device_provider
from gpugraph.runtime.devices import DeviceTable, GpuFacts, build_device_table
from gpugraph.runtime.memory import MemoryConfig
from gpugraph.runtime.simulated import SimulatedGpuBackend

__all__ = ["simulated_gpus"]


@contextlib.contextmanager
def simulated_gpus(count: int = 1, memory: int = 1 << 30) -> Iterator[list[SimulatedGpuBackend]]:
    """Sessions made inside see ``count`` simulated GPUs of ``memory`` bytes each (budgets per config).

    Yields one backend per physical GPU; every session made inside shares them, as processes share
    a real device.
    """
    if count < 0 or memory <= 0:
        raise ValueError(f"simulated_gpus needs count >= 0 and memory > 0, got {count} and {memory}")
    facts = [GpuFacts(i, f"Simulated GPU {i}", memory, memory) for i in range(count)]
    physical = [SimulatedGpuBackend(i, memory) for i in range(count)]

    def provide(config: Any, memory_config: MemoryConfig) -> tuple[DeviceTable, dict[str, Backend]]:
        table = build_device_table(facts, visible_device_list=memory_config.visible_device_list,
                                   device_count=getattr(config, "device_count", None),
                                   memory_fraction=memory_config.fraction)
        backends: dict[str, Backend] = {}
        for gpu in table.gpus():
            backend = physical[gpu.physical_index or 0]
            backend.memory_budget = gpu.memory_budget or memory  # the session's share of the device
            backend.device = gpu.name
            backends[gpu.name] = backend
        return table, backends

    previous = set_device_provider(provide)
    try:
        yield physical
    finally:
        set_device_provider(previous)
