"""GPU facts from a fake pynvml, else a fake cupy; never an exception, always a reason when none."""

from __future__ import annotations

import sys
import types

import pytest

from gpugraph.runtime.device_facts import GpuReport, GpuSurvey, gpu_facts, gpu_reports, survey_gpus
from gpugraph.runtime.devices import GpuFacts

GiB = 1 << 30


class NVMLError(Exception):
    pass


def make_pynvml(gpus, *, init_error=None, driver="550.54.15", name_bytes=False):
    """A pynvml module over ``gpus``: dicts with name, uuid, total, free, cc (or None), util (or None)."""
    nvml = types.ModuleType("pynvml")
    nvml.calls = []

    def init():
        nvml.calls.append("init")
        if init_error:
            raise NVMLError(init_error)

    def need(value, what):
        if value is None:
            raise NVMLError(f"{what}: Not Supported")
        return value

    nvml.NVMLError = NVMLError
    nvml.nvmlInit = init
    nvml.nvmlShutdown = lambda: nvml.calls.append("shutdown")
    nvml.nvmlDeviceGetCount = lambda: len(gpus)
    nvml.nvmlDeviceGetHandleByIndex = lambda i: gpus[i]
    nvml.nvmlDeviceGetName = lambda h: h["name"].encode() if name_bytes else h["name"]
    nvml.nvmlDeviceGetUUID = lambda h: h["uuid"]
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=h["total"], free=h["free"],
                                                                      used=h["total"] - h["free"])
    nvml.nvmlDeviceGetCudaComputeCapability = lambda h: need(h["cc"], "capability")
    nvml.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=need(h["util"], "util"), memory=3)
    nvml.nvmlSystemGetDriverVersion = lambda: driver
    return nvml


def gpu(i, name="NVIDIA H100 80GB HBM3", cc=(9, 0), util=12):
    return {"name": name, "uuid": f"GPU-{i}abc-{i}", "total": 80 * GiB, "free": (70 - i) * GiB, "cc": cc,
            "util": util}


def make_cupy(n=1, cc="86", error=None):
    cupy = types.ModuleType("cupy")
    current = [0]

    class Device:
        def __init__(self, i):
            self.id = i
            self.compute_capability = cc

        def __enter__(self):
            current.append(self.id)

        def __exit__(self, *exc):
            current.pop()

    def count():
        if error:
            raise RuntimeError(error)
        return n

    cupy.cuda = types.SimpleNamespace(Device=Device, runtime=types.SimpleNamespace(
        getDeviceCount=count,
        getDeviceProperties=lambda i: {"name": f"NVIDIA RTX {i}".encode(), "major": 8, "minor": 6},
        memGetInfo=lambda: ((current[-1] + 1) * GiB, 24 * GiB),
    ))
    return cupy


@pytest.fixture
def modules(monkeypatch):
    def install(pynvml=None, cupy=None):
        monkeypatch.setitem(sys.modules, "pynvml", pynvml)  # None: import fails
        monkeypatch.setitem(sys.modules, "cupy", cupy)
    return install


def test_nvml_answers_first(modules):
    nvml = make_pynvml([gpu(0), gpu(1, util=None, cc=None)])
    modules(nvml, make_cupy(n=5))
    survey = survey_gpus({})
    assert survey.source == "nvml" and survey.note == "" and survey.driver_version == "550.54.15"
    assert survey.reports == (
        GpuReport(GpuFacts(0, "NVIDIA H100 80GB HBM3", 80 * GiB, 70 * GiB, (9, 0)), 12),
        GpuReport(GpuFacts(1, "NVIDIA H100 80GB HBM3", 80 * GiB, 69 * GiB, None), None),
    )
    assert nvml.calls == ["init", "shutdown"]


def test_nvml_names_as_bytes_are_decoded(modules):
    modules(make_pynvml([gpu(0, name="Tesla T4", cc=(7, 5))], name_bytes=True), None)
    assert gpu_facts({}) == [GpuFacts(0, "Tesla T4", 80 * GiB, 70 * GiB, (7, 5))]


@pytest.mark.parametrize("visible, expected", [
    ("1", [1]), ("2,0", [2, 0]), ("0,7,1", [0]), ("GPU-1abc", [1]), ("", []), ("1,1", [1]), ("bogus,1", []),
])
def test_cuda_visible_devices_renumbers_nvml_devices(modules, visible, expected):
    modules(make_pynvml([gpu(0), gpu(1), gpu(2)]), None)
    facts = gpu_facts({"CUDA_VISIBLE_DEVICES": visible})
    assert [f.index for f in facts] == list(range(len(expected)))
    assert [f.free_memory for f in facts] == [(70 - i) * GiB for i in expected]


def test_everything_hidden_says_so(modules):
    modules(make_pynvml([gpu(0)]), None)
    survey = survey_gpus({"CUDA_VISIBLE_DEVICES": ""})
    assert survey.reports == () and "hides every GPU" in survey.note


def test_mig_devices_fall_back_to_cuda(modules):
    modules(make_pynvml([gpu(0)]), make_cupy(n=1, cc="90"))
    survey = survey_gpus({"CUDA_VISIBLE_DEVICES": "MIG-1234"})
    assert survey.source == "cuda" and survey.reports[0].facts.compute_capability == (9, 0)


def test_cuda_answers_when_nvml_cannot_start(modules):
    modules(make_pynvml([gpu(0)], init_error="Driver Not Loaded"), make_cupy(n=2, cc="120"))
    survey = survey_gpus({})
    assert survey.source == "cuda" and survey.driver_version is None
    assert survey.reports == (
        GpuReport(GpuFacts(0, "NVIDIA RTX 0", 24 * GiB, 1 * GiB, (12, 0)), None),
        GpuReport(GpuFacts(1, "NVIDIA RTX 1", 24 * GiB, 2 * GiB, (12, 0)), None),
    )


def test_cuda_answers_when_pynvml_is_missing(modules):
    modules(None, make_cupy(n=1))
    assert gpu_facts({}) == [GpuFacts(0, "NVIDIA RTX 0", 24 * GiB, GiB, (8, 6))]


def test_nothing_found_explains_both_attempts(modules):
    modules(None, None)
    survey = survey_gpus({})
    assert survey == GpuSurvey((), "", "pynvml is not installed (pip install nvidia-ml-py); cupy is not installed")
    assert gpu_reports({}) == [] and gpu_facts({}) == []


def test_no_driver_anywhere(modules):
    modules(make_pynvml([], init_error="NVML Shared Library Not Found"), make_cupy(error="no CUDA-capable device"))
    survey = survey_gpus({})
    assert survey.reports == ()
    assert survey.note == ("NVML could not start: NVML Shared Library Not Found; "
                           "no CUDA device: no CUDA-capable device")


def test_nvml_with_no_gpus_and_no_cupy(modules):
    modules(make_pynvml([]), None)
    survey = survey_gpus({})
    assert survey.reports == () and survey.source == "nvml" and survey.note == "NVML reports no GPU"


def test_a_failing_nvml_query_never_raises(modules):
    nvml = make_pynvml([gpu(0)])

    def broken(handle):
        raise NVMLError("GPU is lost")
    nvml.nvmlDeviceGetMemoryInfo = broken
    modules(nvml, None)
    survey = survey_gpus({})
    assert survey.reports == () and "NVML query failed: GPU is lost" in survey.note
    assert nvml.calls == ["init", "shutdown"]


def test_unparseable_capability_from_cuda_is_none(modules):
    modules(None, make_cupy(n=1, cc="x"))
    assert gpu_facts({})[0].compute_capability is None


def test_reads_the_process_environment_by_default(modules, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    modules(make_pynvml([gpu(0), gpu(1)]), None)
    assert [f.free_memory for f in gpu_facts()] == [69 * GiB]


class CUDARuntimeError(RuntimeError):
    """As cupy_backends.cuda.api.runtime.CUDARuntimeError: ``status`` is the cudaError_t code."""

    def __init__(self, status, name, text):
        self.status = status
        super().__init__(f"{name}: {text}")


def _cupy_without_driver():
    cupy = make_cupy()

    def count():  # what CUDA's runtime answers when libcuda.so.1 is missing, as when it is too old
        raise CUDARuntimeError(35, "cudaErrorInsufficientDriver", "CUDA driver version is insufficient for CUDA "
                                                                  "runtime version")
    cupy.cuda.runtime.getDeviceCount = count
    return cupy


def test_no_driver_installed_says_no_driver_not_an_old_one(modules, monkeypatch):
    from gpugraph.runtime import backend

    monkeypatch.setattr(backend, "nvidia_driver_present", lambda: False)
    modules(make_pynvml([], init_error="NVML Shared Library Not Found"), _cupy_without_driver())
    note = survey_gpus({}).note
    assert "no NVIDIA driver found" in note and "insufficient" not in note
    assert "no NVIDIA driver found" in backend.cupy_available()[1]


def test_an_old_driver_keeps_cudas_words(modules, monkeypatch):
    from gpugraph.runtime import backend

    monkeypatch.setattr(backend, "nvidia_driver_present", lambda: True)
    modules(make_pynvml([gpu(0)], init_error="Driver/library version mismatch"), _cupy_without_driver())
    assert "CUDA driver version is insufficient" in survey_gpus({}).note
