"""A stand-in for the ``pynvml`` module of nvidia-ml-py, with its calling rules and error classes.

As in nvidia-ml-py: every query before ``nvmlInit`` (or after the matching ``nvmlShutdown``) raises
``NVMLError_Uninitialized``; ``NVMLError(code)`` builds the subclass for ``code`` and reads as NVML's
error string; names, UUIDs and the driver version are ``str``; memory info has ``total``, ``free`` and
``used``; a bad index raises ``NVMLError_InvalidArgument``; an unsupported query ``NVMLError_NotSupported``;
every query on a GPU that fell off the bus ``NVMLError_GpuIsLost``. ``strings_as_bytes`` gives the ``bytes``
that older nvidia-ml-py releases returned for names, UUIDs and the driver version.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18

_STRINGS = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_LIB_RM_VERSION_MISMATCH: "RM has detected an NVML/RM version mismatch.",
}


class NVMLError(Exception):
    """``NVMLError(code)`` is an instance of the subclass registered for ``code``, as in pynvml."""

    _classes: dict[int, type[NVMLError]] = {}

    def __new__(cls, value: int) -> NVMLError:
        if cls is NVMLError:
            cls = NVMLError._classes.get(value, NVMLError)
        error = Exception.__new__(cls)
        error.value = value
        return error

    def __init__(self, value: int):
        super().__init__(value)

    def __str__(self) -> str:
        return _STRINGS.get(self.value, "Unknown Error")


def _subclass(name: str, code: int) -> type[NVMLError]:
    cls = type(f"NVMLError_{name}", (NVMLError,), {})
    NVMLError._classes[code] = cls
    return cls


NVMLError_Uninitialized = _subclass("Uninitialized", NVML_ERROR_UNINITIALIZED)
NVMLError_InvalidArgument = _subclass("InvalidArgument", NVML_ERROR_INVALID_ARGUMENT)
NVMLError_NotSupported = _subclass("NotSupported", NVML_ERROR_NOT_SUPPORTED)
NVMLError_DriverNotLoaded = _subclass("DriverNotLoaded", NVML_ERROR_DRIVER_NOT_LOADED)
NVMLError_LibraryNotFound = _subclass("LibraryNotFound", NVML_ERROR_LIBRARY_NOT_FOUND)
NVMLError_GpuIsLost = _subclass("GpuIsLost", NVML_ERROR_GPU_IS_LOST)
NVMLError_LibRmVersionMismatch = _subclass("LibRmVersionMismatch", NVML_ERROR_LIB_RM_VERSION_MISMATCH)


@dataclass
class NvmlGpu:
    name: str
    uuid: str
    total: int
    used: int = 0
    capability: tuple[int, int] | None = (9, 0)
    utilization: int | None = 0
    lost: bool = False  # fallen off the bus: every query on it raises NVMLError_GpuIsLost


def make_pynvml(gpus: list[NvmlGpu], init_error: int | None = None, driver: str = "570.124.06",
                strings_as_bytes: bool = False) -> Any:
    nvml = types.ModuleType("pynvml")
    for name, value in list(globals().items()):
        if name.startswith(("NVMLError", "NVML_ERROR_")):
            setattr(nvml, name, value)
    nvml.init_count = 0
    nvml.calls = []

    def ready() -> None:
        if nvml.init_count <= 0:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)

    def handle(index: int) -> NvmlGpu:
        ready()
        if not 0 <= index < len(gpus):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return on_bus(gpus[index])

    def on_bus(gpu: NvmlGpu) -> NvmlGpu:
        ready()
        if gpu.lost:
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        return gpu

    def text(value: str) -> str | bytes:
        return value.encode() if strings_as_bytes else value

    def nvmlInit() -> None:
        nvml.calls.append("init")
        if init_error is not None:
            raise NVMLError(init_error)
        nvml.init_count += 1

    def nvmlShutdown() -> None:
        nvml.calls.append("shutdown")
        ready()
        nvml.init_count -= 1

    def nvmlDeviceGetCount() -> int:
        ready()
        return len(gpus)

    def memory(gpu: NvmlGpu) -> Any:
        on_bus(gpu)
        return types.SimpleNamespace(total=gpu.total, free=gpu.total - gpu.used, used=gpu.used)

    def supported(gpu: NvmlGpu, value: Any) -> Any:
        on_bus(gpu)
        if value is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return value

    nvml.nvmlInit = nvmlInit
    nvml.nvmlShutdown = nvmlShutdown
    nvml.nvmlDeviceGetCount = nvmlDeviceGetCount
    nvml.nvmlDeviceGetHandleByIndex = handle
    nvml.nvmlDeviceGetMemoryInfo = memory
    nvml.nvmlDeviceGetName = lambda gpu: text(on_bus(gpu).name)
    nvml.nvmlDeviceGetUUID = lambda gpu: text(on_bus(gpu).uuid)
    nvml.nvmlDeviceGetCudaComputeCapability = lambda gpu: supported(gpu, gpu.capability)
    nvml.nvmlDeviceGetUtilizationRates = lambda gpu: types.SimpleNamespace(gpu=supported(gpu, gpu.utilization),
                                                                            memory=0)
    nvml.nvmlSystemGetDriverVersion = lambda: (ready(), text(driver))[1]
    return nvml
