"""The host allocator setting: glibc's malloc keeps freed buffers for the next step, unless turned off."""

from __future__ import annotations

import ctypes
import os
import types

import pytest

from gpugraph.runtime import host_memory


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


@pytest.mark.parametrize("off", ["0", "false", "OFF"])
def test_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setenv(host_memory.ENV_KEEP_HOST_MEMORY, off)
    monkeypatch.setattr(ctypes, "CDLL", lambda *_: calls.append((0, 0)))
    assert host_memory._apply() is False
    assert calls == []  # the allocator is not touched at all


def test_sets_fixed_thresholds_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(host_memory.ENV_KEEP_HOST_MEMORY, raising=False)
    seen: dict[int, int] = {}

    def mallopt(param: int, value: int) -> int:
        seen[param] = value
        return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda *_: types.SimpleNamespace(mallopt=mallopt))
    assert host_memory._apply() is _glibc()
    if _glibc():  # M_MMAP_THRESHOLD -3, M_TRIM_THRESHOLD -1, M_TOP_PAD -2 (malloc.h)
        assert seen == {-3: 32 << 20, -1: 128 << 20, -2: 16 << 20}


def test_applied_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(host_memory, "_applied", None)
    monkeypatch.setattr(host_memory, "_apply", lambda: calls.append(1) or True)
    assert host_memory.keep_freed_host_memory() and host_memory.keep_freed_host_memory()
    assert calls == [1]
