"""MemoryConfig from ConfigProto-like objects and the environment; how it drives a CuPy memory pool."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.runtime.memory import (
    ENV_ALLOW_GROWTH, ENV_MEMORY_FRACTION, MemoryConfig, memory_config_from,
    out_of_memory_message, pool_limit, release,
)

from fake_cupy import FakeCuda, make_fake_cupy

GiB = 1 << 30


def _config(**gpu_options):
    return SimpleNamespace(gpu_options=SimpleNamespace(**gpu_options))


# --- memory_config_from ---

def test_defaults_without_config_or_environment():
    assert memory_config_from(None, {}) == MemoryConfig(allow_growth=True, fraction=0.0, visible_device_list="")


def test_reads_gpu_options_duck_typed():
    cfg = _config(allow_growth=False, per_process_gpu_memory_fraction=0.25, visible_device_list=" 1,0 ")
    assert memory_config_from(cfg, {}) == MemoryConfig(False, 0.25, "1,0")


def test_config_without_gpu_options_gives_defaults():
    assert memory_config_from(SimpleNamespace(), {}) == MemoryConfig()


def test_partial_gpu_options_keep_other_defaults():
    assert memory_config_from(_config(per_process_gpu_memory_fraction=0.5), {}) == MemoryConfig(True, 0.5, "")


@pytest.mark.parametrize("text, expected", [("1", True), ("0", False), ("true", True), ("FALSE", False),
                                            (" True ", True)])
def test_allow_growth_environment_overrides_config(text, expected):
    cfg = _config(allow_growth=not expected)
    assert memory_config_from(cfg, {ENV_ALLOW_GROWTH: text}).allow_growth is expected


def test_fraction_environment_overrides_config():
    cfg = _config(per_process_gpu_memory_fraction=0.9)
    assert memory_config_from(cfg, {ENV_MEMORY_FRACTION: "0.4"}).fraction == 0.4
    assert memory_config_from(None, {ENV_MEMORY_FRACTION: "1"}).fraction == 1.0


def test_empty_environment_values_count_as_unset():
    cfg = _config(allow_growth=False, per_process_gpu_memory_fraction=0.3)
    assert memory_config_from(cfg, {ENV_ALLOW_GROWTH: "", ENV_MEMORY_FRACTION: " "}) == MemoryConfig(False, 0.3)


@pytest.mark.parametrize("value", ["yes", "2", "maybe"])
def test_bad_allow_growth_environment_names_the_variable(value):
    with pytest.raises(ValueError, match=ENV_ALLOW_GROWTH):
        memory_config_from(None, {ENV_ALLOW_GROWTH: value})


@pytest.mark.parametrize("value", ["0", "-0.5", "1.5", "half", "nan"])
def test_bad_fraction_environment_names_the_variable(value):
    with pytest.raises(ValueError, match=ENV_MEMORY_FRACTION):
        memory_config_from(None, {ENV_MEMORY_FRACTION: value})


@pytest.mark.parametrize("value", [-0.1, 1.5, "lots"])
def test_bad_fraction_in_config_is_a_value_error(value):
    with pytest.raises(ValueError, match="per_process_gpu_memory_fraction"):
        memory_config_from(_config(per_process_gpu_memory_fraction=value), {})


def test_memory_config_rejects_fraction_out_of_range():
    with pytest.raises(ValueError):
        MemoryConfig(fraction=1.01)


def test_reads_the_real_environment_by_default(monkeypatch):
    monkeypatch.setenv(ENV_MEMORY_FRACTION, "0.125")
    monkeypatch.setenv(ENV_ALLOW_GROWTH, "0")
    assert memory_config_from(None) == MemoryConfig(False, 0.125)


# --- release (the process-wide limits and reservations: test_gpu_manager.py) ---

def test_release_frees_the_cached_blocks_of_the_current_device():
    state = FakeCuda(n_devices=2, total_memory=GiB)
    cupy = make_fake_cupy(state)
    pool = cupy.get_default_memory_pool()
    with cupy.cuda.Device(1):
        kept, dropped = pool.malloc(4096), pool.malloc(8192)
        del dropped
        assert (pool.used_bytes(), pool.free_bytes()) == (4096, 8192)
        release(pool)
        assert (pool.used_bytes(), pool.free_bytes()) == (4096, 0)  # arrays in use are never freed
    del kept


def test_pool_limit():
    assert pool_limit(MemoryConfig(), 1000) is None
    assert pool_limit(MemoryConfig(fraction=0.5), 1000) == 500


# --- messages ---

def test_out_of_memory_message_reads_like_tf1():
    msg = out_of_memory_message("dense/MatMul", "MatMul", (1024, 1024), np.dtype(np.float32), "/device:GPU:0",
                                4194304, 123, 456)
    assert msg == ("OOM when allocating tensor with shape[1024,1024] and type float32 on /device:GPU:0 for node "
                   "'dense/MatMul' (op MatMul): requested 4194304 bytes, pool used 123 of limit 456 bytes")


def test_out_of_memory_message_with_unknowns():
    msg = out_of_memory_message("x", "Fill", [None, 3], tf.float64, "/device:GPU:1", None, 7, None)
    assert msg == ("OOM when allocating tensor with shape[?,3] and type float64 on /device:GPU:1 for node 'x' "
                   "(op Fill): requested an unknown number of bytes, pool used 7 bytes (no limit)")
    assert "shape<unknown>" in out_of_memory_message("x", "Fill", None, "int32", "/device:GPU:0", 4, 0, None)


def test_out_of_memory_message_with_a_partly_known_tensor_shape():
    shape = tf.TensorShape([None, 1024])  # what a graph tensor's static shape is
    msg = out_of_memory_message("big", "Tile", shape, tf.float32, "/device:GPU:0", 8, 0, None)
    assert msg.startswith("OOM when allocating tensor with shape[?,1024] and type float32 ")
    assert "shape<unknown>" in out_of_memory_message("x", "Tile", tf.TensorShape(None), "int32", "/device:GPU:0",
                                                     4, 0, None)


def test_reads_tf_config_proto():
    from gpugraph.config import ConfigProto, GPUOptions

    assert memory_config_from(ConfigProto(), {}) == MemoryConfig(allow_growth=False)  # TF1's defaults
    cfg = ConfigProto(gpu_options=GPUOptions(per_process_gpu_memory_fraction=0.4, visible_device_list="1"))
    cfg.gpu_options.allow_growth = True
    assert memory_config_from(cfg, {}) == MemoryConfig(True, 0.4, "1")
    assert memory_config_from(cfg, {ENV_ALLOW_GROWTH: "0"}) == MemoryConfig(False, 0.4, "1")
