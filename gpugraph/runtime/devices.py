"""The device table a session places ops on: the host CPU plus the GPUs it may use, with budgets.

Built from what the driver reports (``GpuFacts``) and the session's ConfigProto options, or
simulated for tests. Pure data: nothing here touches a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from gpugraph.framework.device import DeviceSpec

# TF1 names local devices "/job:localhost/replica:0/task:0/device:GPU:0"; specs may name that prefix.
_LOCAL_JOB = "localhost"


@dataclass(frozen=True)
class Device:
    name: str  # canonical: "/device:CPU:0", "/device:GPU:1"
    kind: str  # "CPU" or "GPU"
    index: int  # the session's index (GPU:0 is the first visible GPU)
    memory_budget: int | None  # bytes this session may use on it; None: unbounded (the host)
    physical_index: int | None = None  # the driver's GPU id (differs under visible_device_list)

    @property
    def full_name(self) -> str:
        """TF1's fully qualified name, as ``log_device_placement`` prints it."""
        return f"/job:{_LOCAL_JOB}/replica:0/task:0{self.name}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class GpuFacts:
    """What the driver (pynvml or cupy) reports for one physical GPU."""

    index: int
    name: str
    total_memory: int
    free_memory: int
    compute_capability: tuple[int, int] | None = None


def _parse_spec(spec: str) -> DeviceSpec | None:
    try:
        return DeviceSpec.from_string(spec)
    except ValueError:
        return None


def _spec_matches(spec: DeviceSpec, device: Device) -> bool:
    if spec.job is not None and spec.job != _LOCAL_JOB:
        return False
    if spec.replica not in (None, 0) or spec.task not in (None, 0):
        return False
    if spec.device_type is not None and spec.device_type != device.kind:
        return False
    return spec.device_index is None or spec.device_index == device.index


@dataclass(frozen=True)
class DeviceTable:
    """The devices of one session: CPU:0 first, then GPU:0, GPU:1, ... in the session's numbering."""

    devices: tuple[Device, ...]

    def __post_init__(self) -> None:
        if not any(d.kind == "CPU" for d in self.devices):
            raise ValueError("A device table needs a CPU device")
        names = [d.name for d in self.devices]
        if len(set(names)) != len(names):
            raise ValueError(f"Duplicate device names in device table: {names}")

    def cpu(self) -> Device:
        return next(d for d in self.devices if d.kind == "CPU")

    def gpus(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.kind == "GPU")

    def get(self, name: str) -> Device:
        """The device called ``name`` (any spelling of one fully specified device: "/gpu:0")."""
        for d in self.devices:
            if d.name == name:
                return d
        spec = _parse_spec(name)
        if spec is not None and spec.device_type is not None and spec.device_index is not None:
            found = [d for d in self.devices if _spec_matches(spec, d)]
            if found:
                return found[0]
        raise KeyError(f"Device '{name}' is not in this session's devices: {self.names()}")

    def matching(self, spec: str) -> list[Device]:
        """Devices a (partial) spec allows, in table order: "/gpu:0", "/device:GPU:*", "" (all)."""
        if not spec:
            return list(self.devices)
        parsed = _parse_spec(spec)
        if parsed is None:
            return []
        return [d for d in self.devices if _spec_matches(parsed, d)]

    def names(self) -> list[str]:
        return [d.name for d in self.devices]


def _visible_ids(visible_device_list: str, physical: Sequence[int]) -> list[int]:
    text = visible_device_list.strip()
    if not text:
        return list(physical)
    ids: list[int] = []
    for part in text.split(","):
        item = part.strip()
        try:
            gpu_id = int(item)
        except ValueError:
            raise ValueError(f"Invalid GPU id '{item}' in visible_device_list '{visible_device_list}'") from None
        if gpu_id not in physical:
            raise ValueError(f"visible_device_list '{visible_device_list}' listed an invalid GPU id '{gpu_id}'; "
                             f"physical GPUs: {list(physical)}")
        if gpu_id in ids:
            raise ValueError(f"visible_device_list '{visible_device_list}' contains GPU id '{gpu_id}' twice")
        ids.append(gpu_id)
    return ids


def _gpu_count(device_count: Mapping[str, int] | None) -> int | None:
    if not device_count:
        return None
    for key, value in device_count.items():
        if str(key).upper() == "GPU":
            if int(value) < 0:
                raise ValueError(f"device_count['{key}'] must be >= 0, got {value}")
            return int(value)
    return None


def build_device_table(gpus: Sequence[GpuFacts], *, visible_device_list: str = "",
                       device_count: Mapping[str, int] | None = None,
                       memory_fraction: float = 0.0) -> DeviceTable:
    """The session's devices from the driver's GPUs and ConfigProto options, as TF1 reads them.

    ``visible_device_list`` "1,0" makes physical GPU 1 the session's GPU:0; ``device_count``
    {"GPU": n} keeps the first n of those (0 hides them all; only one CPU device is modelled);
    Each GPU's budget is the memory the driver reports free, capped by ``memory_fraction``
    (per_process_gpu_memory_fraction) in (0, 1] of its total memory: what another process holds
    cannot be planned for. allow_growth only changes when memory is taken, not how much may be, so it
    has no part here.
    """
    by_index = {g.index: g for g in gpus}
    visible = _visible_ids(visible_device_list, [g.index for g in gpus])
    limit = _gpu_count(device_count)
    if limit is not None:
        visible = visible[:limit]
    fraction = float(memory_fraction)
    devices = [Device("/device:CPU:0", "CPU", 0, None)]
    for i, physical in enumerate(visible):
        facts = by_index[physical]
        free = min(int(facts.free_memory), int(facts.total_memory))
        budget = min(int(fraction * facts.total_memory), free) if 0.0 < fraction <= 1.0 else free
        devices.append(Device(f"/device:GPU:{i}", "GPU", i, budget, physical))
    return DeviceTable(tuple(devices))


def simulated_table(n_gpus: int, memory_per_gpu: int) -> DeviceTable:
    """CPU:0 and ``n_gpus`` GPUs of ``memory_per_gpu`` bytes each, for tests and the simulated backend."""
    facts = [GpuFacts(i, f"Simulated GPU {i}", memory_per_gpu, memory_per_gpu) for i in range(n_gpus)]
    return build_device_table(facts)
