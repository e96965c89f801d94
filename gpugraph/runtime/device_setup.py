"""Which devices a new Session gets: the device table and one backend per device.

The host (NumPy) is always there. GPUs come from CuPy and pynvml, filtered and budgeted by the
session's config; ``GPUGRAPH_DEVICE`` = ``cpu`` forces the host, ``gpu`` requires a GPU. Tests
and CPU-only CI install a provider of simulated GPUs (``gpugraph.testing.simulated_gpus``) to drive
the GPU code path end to end without one.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from gpugraph.runtime.backend import NUMPY, Backend, cupy_available, note_numpy_fallback
from gpugraph.runtime.devices import Device, DeviceTable, build_device_table
from gpugraph.runtime.gpu_manager import GpuLease, gpu_manager
from gpugraph.runtime.memory import MemoryConfig, memory_config_from

DEVICE_MODES = ("auto", "cpu", "gpu")


@dataclass
class SessionDevices:
    table: DeviceTable
    backends: dict[str, Backend]  # device name -> backend; the host is NUMPY
    memory: MemoryConfig
    leases: tuple[GpuLease, ...] = ()  # real GPUs: the session's holds on the process-wide backends

    @property
    def has_gpu(self) -> bool:
        return bool(self.table.gpus())

    def backend_of(self, device: str) -> Backend:
        return self.backends[device]

    def release(self) -> None:
        """At session close: real GPUs go back to the manager (shared with other sessions), other
        backends (the host, simulated GPUs) are the session's own and free their memory."""
        leased = {id(lease.backend) for lease in self.leases}
        for lease in self.leases:
            gpu_manager().give_back(lease)
        self.leases = ()
        for backend in self.backends.values():
            if id(backend) not in leased:
                backend.release_memory()


# A provider builds the GPU part for a config: (table, {device name: backend}); None = real GPUs.
Provider = Callable[[Any, MemoryConfig], tuple[DeviceTable, dict[str, Backend]]]
_provider: list[Provider | None] = [None]
_provider_lock = threading.Lock()


def set_device_provider(provider: Provider | None) -> Provider | None:
    """Install ``provider`` for sessions made from now on; returns the previous one."""
    with _provider_lock:
        previous, _provider[0] = _provider[0], provider
    return previous


def device_mode(environ: Any = os.environ) -> str:
    mode = environ.get("GPUGRAPH_DEVICE", "auto").strip().lower() or "auto"
    if mode not in DEVICE_MODES:
        raise ValueError(f"GPUGRAPH_DEVICE must be one of {', '.join(DEVICE_MODES)}, got {mode!r}")
    return mode


def _gpu_count_allowed(config: Any) -> bool:
    counts = getattr(config, "device_count", None) or {}
    return counts.get("GPU", 1) != 0


def _host_only(memory: MemoryConfig) -> SessionDevices:
    return SessionDevices(build_device_table([]), {NUMPY.device: NUMPY}, memory)


def _real_gpus(config: Any, memory: MemoryConfig) -> tuple[DeviceTable, dict[str, Backend], tuple[GpuLease, ...]] | str:
    """The machine's GPUs for a session: the table from NVML's facts, leases on the shared backends."""
    ok, why = cupy_available()
    if not ok:
        return why
    from gpugraph.runtime.device_facts import gpu_facts

    facts = gpu_facts()
    if not facts:
        return "no GPU reported by pynvml or CUDA"
    manager = gpu_manager()
    for i, fact in enumerate(facts):  # blocks cached by this process's pool are free for this session too
        backend = manager.backend(fact.index)
        if backend is not None:
            with backend.activate():
                cached = int(backend.pool.free_bytes())
            facts[i] = dataclasses.replace(fact, free_memory=fact.free_memory + cached)
    table = build_device_table(facts, visible_device_list=memory.visible_device_list,
                               device_count=getattr(config, "device_count", None),
                               memory_fraction=memory.fraction)
    leases: list[GpuLease] = []
    try:
        for gpu in table.gpus():
            leases.append(manager.lease(gpu.physical_index, gpu.name, memory))
    except BaseException:
        for lease in leases:
            manager.give_back(lease)
        raise
    return table, {lease.device_name: lease.backend for lease in leases}, tuple(leases)


def session_devices(config: Any) -> SessionDevices:
    """The devices of a new Session with ``config`` (a ConfigProto or None)."""
    memory = memory_config_from(config)
    mode = device_mode()
    if mode == "cpu" or not _gpu_count_allowed(config):
        return _host_only(memory)
    provider = _provider[0]
    found = provider(config, memory) if provider is not None else _real_gpus(config, memory)
    if isinstance(found, str):
        if mode == "gpu":
            raise RuntimeError(f"GPUGRAPH_DEVICE=gpu requires a GPU, but the GPU backend is off: {found}")
        note_numpy_fallback(found)
        return _host_only(memory)
    table, backends, *leases = found
    backends = {NUMPY.device: NUMPY, **backends}
    return SessionDevices(table, backends, memory, leases[0] if leases else ())


def host_device(table: DeviceTable) -> Device:
    return table.cpu()
