"""The device table: building it from GPU facts and ConfigProto options, and matching specs."""

from __future__ import annotations

import dataclasses

import pytest

from gpugraph.runtime.devices import Device, DeviceTable, GpuFacts, build_device_table, simulated_table

GIB = 1 << 30
TWO = [GpuFacts(0, "GPU A", 16 * GIB, 15 * GIB, (8, 0)), GpuFacts(1, "GPU B", 8 * GIB, 7 * GIB, (9, 0))]


def _summary(table: DeviceTable) -> list[tuple[str, str, int, int | None, int | None]]:
    return [(d.name, d.kind, d.index, d.memory_budget, d.physical_index) for d in table.devices]


def test_all_gpus_in_driver_order_with_their_free_memory() -> None:
    table = build_device_table(TWO)
    assert _summary(table) == [("/device:CPU:0", "CPU", 0, None, None),
                               ("/device:GPU:0", "GPU", 0, 15 * GIB, 0),
                               ("/device:GPU:1", "GPU", 1, 7 * GIB, 1)]
    assert table.cpu().name == "/device:CPU:0"
    assert [d.name for d in table.gpus()] == ["/device:GPU:0", "/device:GPU:1"]


def test_no_gpus_leaves_the_cpu() -> None:
    table = build_device_table([])
    assert _summary(table) == [("/device:CPU:0", "CPU", 0, None, None)]
    assert table.gpus() == ()


def test_visible_device_list_reorders_and_renumbers() -> None:
    table = build_device_table(TWO, visible_device_list="1,0")
    # as in TF1: the session's GPU:0 is the first listed physical GPU
    assert _summary(table)[1:] == [("/device:GPU:0", "GPU", 0, 7 * GIB, 1), ("/device:GPU:1", "GPU", 1, 15 * GIB, 0)]
    table = build_device_table(TWO, visible_device_list=" 1 ")
    assert _summary(table)[1:] == [("/device:GPU:0", "GPU", 0, 7 * GIB, 1)]


@pytest.mark.parametrize("visible, bad", [("2", "2"), ("0,5", "5"), ("0,0", "0"), ("0,x", "x"), ("-1", "-1")])
def test_invalid_visible_device_list(visible: str, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        build_device_table(TWO, visible_device_list=visible)
    assert "visible_device_list" in str(info.value)
    assert f"'{bad}'" in str(info.value)


def test_device_count_limits_or_hides_gpus() -> None:
    assert build_device_table(TWO, device_count={"GPU": 0}).gpus() == ()
    assert [d.physical_index for d in build_device_table(TWO, device_count={"GPU": 1}).gpus()] == [0]
    assert len(build_device_table(TWO, device_count={"gpu": 5}).gpus()) == 2
    assert len(build_device_table(TWO, device_count={"CPU": 4}).gpus()) == 2  # one CPU device is modelled
    limited = build_device_table(TWO, visible_device_list="1,0", device_count={"GPU": 1})
    assert [d.physical_index for d in limited.gpus()] == [1]
    with pytest.raises(ValueError, match="device_count"):
        build_device_table(TWO, device_count={"GPU": -1})


# the budget is the free memory (15 and 7 GiB) capped by the fraction of the total (16 and 8 GiB)
@pytest.mark.parametrize("fraction, expected", [(0.5, [8 * GIB, 4 * GIB]), (1.0, [15 * GIB, 7 * GIB]),
                                                (0.0, [15 * GIB, 7 * GIB]), (1.5, [15 * GIB, 7 * GIB]),
                                                (-0.2, [15 * GIB, 7 * GIB]), (0.25, [4 * GIB, 2 * GIB]),
                                                (0.95, [15 * GIB, 7 * GIB])])
def test_memory_fraction_caps_the_free_memory_budget(fraction: float, expected: list[int]) -> None:
    table = build_device_table(TWO, memory_fraction=fraction)
    assert [d.memory_budget for d in table.gpus()] == expected
    assert table.cpu().memory_budget is None


def test_budget_follows_the_physical_gpu_under_reordering() -> None:
    table = build_device_table(TWO, visible_device_list="1,0", memory_fraction=0.5)
    assert [d.memory_budget for d in table.gpus()] == [4 * GIB, 8 * GIB]


def test_simulated_table() -> None:
    assert _summary(simulated_table(0, 1024)) == [("/device:CPU:0", "CPU", 0, None, None)]
    table = simulated_table(2, 1024)
    assert [(d.name, d.memory_budget) for d in table.gpus()] == [("/device:GPU:0", 1024), ("/device:GPU:1", 1024)]


def test_get_by_any_spelling_of_one_device() -> None:
    table = simulated_table(2, 1024)
    gpu1 = table.gpus()[1]
    assert table.get("/device:GPU:1") is gpu1
    assert table.get("/gpu:1") is gpu1
    assert table.get("/job:localhost/replica:0/task:0/device:GPU:1") is gpu1
    assert table.get("/cpu:0") is table.cpu()
    for missing in ("/device:GPU:2", "/gpu:*", "/job:worker/device:GPU:0", "nonsense:"):
        with pytest.raises(KeyError) as info:
            table.get(missing)
        assert missing in str(info.value)


@pytest.mark.parametrize("spec, expected", [
    ("", ["/device:CPU:0", "/device:GPU:0", "/device:GPU:1"]),
    ("/gpu:0", ["/device:GPU:0"]),
    ("/GPU:1", ["/device:GPU:1"]),
    ("/device:GPU:*", ["/device:GPU:0", "/device:GPU:1"]),
    ("/gpu:*", ["/device:GPU:0", "/device:GPU:1"]),
    ("/cpu:0", ["/device:CPU:0"]),
    ("/device:CPU:*", ["/device:CPU:0"]),
    ("/cpu:1", []),
    ("/gpu:2", []),
    ("/device:TPU:0", []),
    ("/job:localhost/replica:0/task:0/device:GPU:0", ["/device:GPU:0"]),
    ("/job:localhost", ["/device:CPU:0", "/device:GPU:0", "/device:GPU:1"]),
    ("/job:localhost/task:0/device:GPU:*", ["/device:GPU:0", "/device:GPU:1"]),
    ("/job:worker/device:GPU:0", []),
    ("/replica:1/device:GPU:0", []),
    ("/task:3", []),
    ("/bogus:1", []),
])
def test_matching_partial_specs(spec: str, expected: list[str]) -> None:
    assert [d.name for d in simulated_table(2, 1024).matching(spec)] == expected


def test_records_are_frozen_and_hashable() -> None:
    table = simulated_table(1, 1024)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.cpu().memory_budget = 5  # type: ignore[misc]
    assert len({*table.devices, *simulated_table(1, 1024).devices}) == 2
    assert table.gpus()[0].full_name == "/job:localhost/replica:0/task:0/device:GPU:0"


def test_a_table_needs_a_cpu_and_unique_names() -> None:
    gpu = Device("/device:GPU:0", "GPU", 0, 10)
    with pytest.raises(ValueError, match="CPU"):
        DeviceTable((gpu,))
    with pytest.raises(ValueError, match="Duplicate"):
        DeviceTable((Device("/device:CPU:0", "CPU", 0, None), gpu, gpu))
