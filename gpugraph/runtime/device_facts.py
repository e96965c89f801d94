"""What the machine's GPUs are: name, memory, compute capability, load. Never raises.

NVML (package ``nvidia-ml-py``, module ``pynvml``) is asked first: it needs no CUDA context, so asking
costs no device memory. Without it, CuPy's CUDA runtime answers (one context per device queried).
Indices are CUDA's, the ones CuPy and the device table use: NVML lists every GPU in PCI order, so a
``CUDA_VISIBLE_DEVICES`` list is applied to its answer (on machines mixing GPU models, set
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` so CUDA numbers them in that order too, as TensorFlow advises).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from gpugraph.runtime.backend import cuda_error_text, cupy_available
from gpugraph.runtime.devices import GpuFacts


@dataclass(frozen=True)
class GpuReport:
    """One GPU as ``gpugraph info`` shows it: the facts the placer uses plus its current load."""

    facts: GpuFacts
    utilization_percent: int | None = None  # None: not reported (NVML missing, MIG slice...)


@dataclass(frozen=True)
class GpuSurvey:
    """The GPUs found, where the answer came from ("nvml", "cuda" or ""), and why none were found."""

    reports: tuple[GpuReport, ...]
    source: str
    note: str = ""
    driver_version: str | None = None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _optional(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # NotSupported on some boards and MIG slices: leave the fact out
        return None


def _cuda_order(uuids: list[str], visible: str | None) -> list[int] | None:
    """NVML indices in CUDA's order under CUDA_VISIBLE_DEVICES; None when an entry cannot be matched."""
    if visible is None:
        return list(range(len(uuids)))
    order: list[int] = []
    for entry in (e.strip() for e in visible.split(",")):
        if entry.isdigit():
            index = int(entry)
            if index >= len(uuids):
                break  # CUDA: devices from the first invalid entry on are hidden
        elif entry.startswith("GPU-"):
            matches = [i for i, u in enumerate(uuids) if u.startswith(entry)]
            if len(matches) != 1:
                break
            index = matches[0]
        elif entry.startswith("MIG-"):
            return None  # a MIG slice: NVML's per-GPU numbers do not describe it
        else:
            break
        if index in order:
            break
        order.append(index)
    return order


def _nvml_survey(environ: Mapping[str, str]) -> tuple[GpuSurvey | None, str]:
    try:
        import pynvml
    except ImportError:
        return None, "pynvml is not installed (pip install nvidia-ml-py)"
    except Exception as e:
        return None, f"pynvml failed to import: {e}"
    try:
        pynvml.nvmlInit()
    except Exception as e:  # no driver on this machine
        return None, f"NVML could not start: {e}"
    try:
        count = int(pynvml.nvmlDeviceGetCount())
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        visible = environ.get("CUDA_VISIBLE_DEVICES")
        uuids = [_text(_optional(pynvml.nvmlDeviceGetUUID, h) or "") for h in handles] if visible else []
        order = _cuda_order(uuids, visible) if visible is not None else list(range(count))
        if order is None:
            return None, "NVML cannot describe the MIG devices named in CUDA_VISIBLE_DEVICES"
        reports = []
        for cuda_index, nvml_index in enumerate(order):
            handle = handles[nvml_index]
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            capability = _optional(pynvml.nvmlDeviceGetCudaComputeCapability, handle)
            rates = _optional(pynvml.nvmlDeviceGetUtilizationRates, handle)
            facts = GpuFacts(cuda_index, _text(pynvml.nvmlDeviceGetName(handle)), int(mem.total), int(mem.free),
                             (int(capability[0]), int(capability[1])) if capability else None)
            reports.append(GpuReport(facts, int(rates.gpu) if rates is not None else None))
        driver = _optional(pynvml.nvmlSystemGetDriverVersion)
        note = "" if reports else ("NVML reports no GPU" if count == 0 else "CUDA_VISIBLE_DEVICES hides every GPU")
        return GpuSurvey(tuple(reports), "nvml", note, _text(driver) if driver else None), ""
    except Exception as e:
        return None, f"NVML query failed: {e}"
    finally:
        _optional(pynvml.nvmlShutdown)


def _capability(text: Any) -> tuple[int, int] | None:
    """CuPy's ``Device.compute_capability`` is a string such as "86" (8.6) or "100" (10.0)."""
    digits = _text(text)
    if len(digits) < 2 or not digits.isdigit():
        return None
    return int(digits[:-1]), int(digits[-1])


def _cuda_survey() -> tuple[GpuSurvey | None, str]:
    ok, why = cupy_available()
    if not ok:
        return None, why
    try:
        import cupy

        runtime = cupy.cuda.runtime
        reports = []
        for i in range(int(runtime.getDeviceCount())):
            device = cupy.cuda.Device(i)
            with device:
                free, total = runtime.memGetInfo()
            name = _text(runtime.getDeviceProperties(i)["name"])
            reports.append(GpuReport(GpuFacts(i, name, int(total), int(free), _capability(device.compute_capability))))
        return GpuSurvey(tuple(reports), "cuda", "" if reports else "CUDA reports no GPU"), ""
    except Exception as e:
        return None, f"CUDA query failed: {cuda_error_text(e)}"


def survey_gpus(environ: Mapping[str, str] | None = None) -> GpuSurvey:
    """Ask NVML, then CUDA; the survey's ``note`` says why no GPU was found."""
    env = os.environ if environ is None else environ
    survey, nvml_why = _nvml_survey(env)
    if survey is not None and survey.reports:
        return survey
    cuda_survey, cuda_why = _cuda_survey()
    if cuda_survey is not None and (cuda_survey.reports or survey is None):
        return cuda_survey
    if survey is not None:
        return survey
    return GpuSurvey((), "", f"{nvml_why}; {cuda_why}")


def gpu_reports(environ: Mapping[str, str] | None = None) -> list[GpuReport]:
    return list(survey_gpus(environ).reports)


def gpu_facts(environ: Mapping[str, str] | None = None) -> list[GpuFacts]:
    """The GPUs this process can use, CUDA-numbered; [] when there are none (``survey_gpus`` says why)."""
    return [r.facts for r in survey_gpus(environ).reports]
