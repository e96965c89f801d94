"""GPU facts from NVML, else CUDA, over the pynvml and CuPy stand-ins: never an exception, always a reason."""

from __future__ import annotations

import sys

import pytest
from fake_cupy import FakeCuda, make_fake_cupy
from fake_nvml import (
    NVML_ERROR_DRIVER_NOT_LOADED,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NvmlGpu,
    make_pynvml,
)

from gpugraph.runtime import backend
from gpugraph.runtime.device_facts import GpuReport, GpuSurvey, gpu_facts, gpu_reports, survey_gpus
from gpugraph.runtime.devices import GpuFacts

GiB = 1 << 30
H100 = "NVIDIA H100 80GB HBM3"
NO_CUDA_DEVICE = 100  # cudaErrorNoDevice
INSUFFICIENT_DRIVER = 35  # cudaErrorInsufficientDriver: also CUDA's answer when there is no driver at all


def uuid(i: int) -> str:
    return f"GPU-{i}f3c1a2b-77e4-4d0c-9a51-00000000000{i}"


def gpu(i: int, name: str = H100, capability: tuple[int, int] | None = (9, 0), utilization: int | None = 12,
        lost: bool = False) -> NvmlGpu:
    """NVML's GPU ``i``: 80 GiB with (70 - i) GiB free, so each index is told apart by its free memory."""
    return NvmlGpu(name, uuid(i), 80 * GiB, used=(10 + i) * GiB, capability=capability, utilization=utilization,
                   lost=lost)


def cuda(n_devices: int = 1, capability: tuple[int, int] = (8, 6), runtime_error: int | None = None):
    """CUDA with ``n_devices`` of 24 GiB; other processes leave device i (i + 1) GiB free."""
    state = FakeCuda(n_devices=n_devices, total_memory=24 * GiB)
    state.capability = capability
    state.runtime_error = runtime_error
    state.held_elsewhere = {i: (23 - i) * GiB for i in range(n_devices)}
    return make_fake_cupy(state)


@pytest.fixture
def modules(monkeypatch):
    def install(pynvml=None, cupy=None):
        monkeypatch.setitem(sys.modules, "pynvml", pynvml)  # None: import fails
        monkeypatch.setitem(sys.modules, "cupy", cupy)
    return install


def test_nvml_answers_first(modules):
    nvml = make_pynvml([gpu(0), gpu(1, utilization=None, capability=None)], driver="550.54.15")
    modules(nvml, cuda(n_devices=5))
    survey = survey_gpus({})
    assert survey.source == "nvml" and survey.note == "" and survey.driver_version == "550.54.15"
    assert survey.reports == (
        GpuReport(GpuFacts(0, H100, 80 * GiB, 70 * GiB, (9, 0)), 12),
        GpuReport(GpuFacts(1, H100, 80 * GiB, 69 * GiB, None), None),  # NotSupported: left out
    )
    assert nvml.calls == ["init", "shutdown"] and nvml.init_count == 0


def test_nvml_strings_as_bytes_are_decoded(modules):
    """Older nvidia-ml-py releases return bytes for names, UUIDs and the driver version."""
    nvml = make_pynvml([gpu(0), gpu(1, name="Tesla T4", capability=(7, 5))], driver="470.256.02",
                       strings_as_bytes=True)
    modules(nvml, None)
    survey = survey_gpus({"CUDA_VISIBLE_DEVICES": uuid(1)[:12]})
    assert survey.driver_version == "470.256.02"
    assert [r.facts for r in survey.reports] == [GpuFacts(0, "Tesla T4", 80 * GiB, 69 * GiB, (7, 5))]


@pytest.mark.parametrize("visible, expected", [
    ("1", [1]), ("2,0", [2, 0]), ("0,7,1", [0]), (uuid(1)[:12], [1]), (uuid(2), [2]), ("GPU-", []),
    (f"0,{uuid(2)[:8]}", [0, 2]), ("", []), ("1,1", [1]), ("bogus,1", []),
])
def test_cuda_visible_devices_renumbers_nvml_devices(modules, visible, expected):
    modules(make_pynvml([gpu(0), gpu(1), gpu(2)]), None)
    facts = gpu_facts({"CUDA_VISIBLE_DEVICES": visible})
    assert [f.index for f in facts] == list(range(len(expected)))
    assert [f.free_memory for f in facts] == [(70 - i) * GiB for i in expected]


def test_everything_hidden_says_so(modules):
    nvml = make_pynvml([gpu(0)])
    modules(nvml, None)
    survey = survey_gpus({"CUDA_VISIBLE_DEVICES": ""})
    assert survey.reports == () and survey.source == "nvml" and survey.note == "CUDA_VISIBLE_DEVICES hides every GPU"
    assert nvml.init_count == 0


def test_mig_devices_fall_back_to_cuda(modules):
    nvml = make_pynvml([gpu(0)])
    modules(nvml, cuda(n_devices=1, capability=(9, 0)))
    survey = survey_gpus({"CUDA_VISIBLE_DEVICES": "MIG-5c3e1f0a-2b7d-5a1e-8f00-3c9d2e4b6a10"})
    assert survey.source == "cuda" and survey.driver_version is None
    assert survey.reports == (GpuReport(GpuFacts(0, "Fake GPU 0", 24 * GiB, 1 * GiB, (9, 0)), None),)
    assert nvml.calls == ["init", "shutdown"] and nvml.init_count == 0


def test_cuda_answers_when_nvml_cannot_start(modules):
    nvml = make_pynvml([gpu(0)], init_error=NVML_ERROR_DRIVER_NOT_LOADED)
    modules(nvml, cuda(n_devices=2, capability=(12, 0)))
    survey = survey_gpus({})
    assert survey.source == "cuda" and survey.driver_version is None and survey.note == ""
    assert survey.reports == (  # each device's memory asked with that device current
        GpuReport(GpuFacts(0, "Fake GPU 0", 24 * GiB, 1 * GiB, (12, 0)), None),
        GpuReport(GpuFacts(1, "Fake GPU 1", 24 * GiB, 2 * GiB, (12, 0)), None),
    )
    assert nvml.calls == ["init"]  # nothing to shut down: pynvml raises Uninitialized there


def test_cuda_answers_when_pynvml_is_missing(modules):
    modules(None, cuda(n_devices=1))
    assert gpu_facts({}) == [GpuFacts(0, "Fake GPU 0", 24 * GiB, GiB, (8, 6))]


@pytest.mark.parametrize("capability", [(7, 5), (8, 6), (9, 0), (10, 0), (12, 0), (12, 1)])
def test_cuda_capability_strings_are_read_as_major_minor(modules, capability):
    """CuPy gives "75", "100", "121": the last digit is the minor version."""
    modules(None, cuda(n_devices=1, capability=capability))
    assert gpu_facts({})[0].compute_capability == capability


def test_nothing_found_explains_both_attempts(modules):
    modules(None, None)
    survey = survey_gpus({})
    assert survey == GpuSurvey((), "", "pynvml is not installed (pip install nvidia-ml-py); cupy is not installed")
    assert gpu_reports({}) == [] and gpu_facts({}) == []


def test_no_driver_anywhere(modules):
    modules(make_pynvml([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND), cuda(runtime_error=NO_CUDA_DEVICE))
    survey = survey_gpus({})
    assert survey == GpuSurvey((), "", "NVML could not start: NVML Shared Library Not Found; "
                                       "no CUDA device: cudaErrorNoDevice: no CUDA-capable device is detected")


def test_nvml_with_no_gpus_and_no_cupy(modules):
    modules(make_pynvml([]), None)
    survey = survey_gpus({})
    assert survey.reports == () and survey.source == "nvml" and survey.note == "NVML reports no GPU"


def test_nvml_with_no_gpus_lets_cuda_answer(modules):
    modules(make_pynvml([]), cuda(n_devices=1))
    survey = survey_gpus({})
    assert survey.source == "cuda" and [r.facts.name for r in survey.reports] == ["Fake GPU 0"]


def test_a_failing_nvml_query_never_raises(modules):
    nvml = make_pynvml([gpu(0), gpu(1, lost=True)])
    modules(nvml, None)
    survey = survey_gpus({})
    assert survey.reports == () and survey.source == ""
    assert survey.note == "NVML query failed: GPU is lost; cupy is not installed"
    assert nvml.calls == ["init", "shutdown"] and nvml.init_count == 0


def test_reads_the_process_environment_by_default(modules, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    modules(make_pynvml([gpu(0), gpu(1)]), None)
    assert [f.free_memory for f in gpu_facts()] == [69 * GiB]


def test_no_driver_installed_says_no_driver_not_an_old_one(modules, monkeypatch):
    monkeypatch.setattr(backend, "nvidia_driver_present", lambda: False)
    modules(make_pynvml([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND), cuda(runtime_error=INSUFFICIENT_DRIVER))
    note = survey_gpus({}).note
    assert "no NVIDIA driver found" in note and "insufficient" not in note
    assert "no NVIDIA driver found" in backend.cupy_available()[1]


def test_an_old_driver_keeps_cudas_words(modules, monkeypatch):
    monkeypatch.setattr(backend, "nvidia_driver_present", lambda: True)
    modules(make_pynvml([gpu(0)], init_error=NVML_ERROR_LIB_RM_VERSION_MISMATCH),
            cuda(runtime_error=INSUFFICIENT_DRIVER))
    assert survey_gpus({}).note == ("NVML could not start: RM has detected an NVML/RM version mismatch.; "
                                    "no CUDA device: cudaErrorInsufficientDriver: CUDA driver version is "
                                    "insufficient for CUDA runtime version")
