"""ConfigProto, GPUOptions, RunOptions, RunMetadata: protobuf-like fields, checked values, Session(config=)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gpugraph as tf
from gpugraph.config import check_session_config


def test_defaults_are_the_protobuf_defaults() -> None:
    config = tf.ConfigProto()
    assert config.gpu_options.allow_growth is False
    assert config.gpu_options.per_process_gpu_memory_fraction == 0.0
    assert config.gpu_options.visible_device_list == ""
    assert (config.allow_soft_placement, config.log_device_placement) == (False, False)
    assert config.device_count == {}
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (0, 0)
    assert config == tf.ConfigProto() and config.gpu_options is not tf.ConfigProto().gpu_options


def test_tf1_usage_patterns() -> None:
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    config.gpu_options.per_process_gpu_memory_fraction = 0.4
    config.gpu_options.visible_device_list = "1, 0"
    config.device_count["GPU"] = 0
    config.allow_soft_placement = True
    assert config.gpu_options.allow_growth is True and config.device_count == {"GPU": 0}

    gpu_options = tf.GPUOptions(per_process_gpu_memory_fraction=0.333)
    other = tf.ConfigProto(gpu_options=gpu_options, log_device_placement=True, device_count={"CPU": 2},
                           intra_op_parallelism_threads=4, inter_op_parallelism_threads=2)
    assert other.gpu_options.per_process_gpu_memory_fraction == pytest.approx(0.333)
    assert other.device_count["CPU"] == 2 and other.intra_op_parallelism_threads == 4
    opts = tf.GraphOptions(optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0))
    assert tf.ConfigProto(graph_options=opts).graph_options.optimizer_options.opt_level == -1


def test_unknown_fields_are_refused_with_their_name() -> None:
    config = tf.ConfigProto()
    with pytest.raises(AttributeError, match='no field "allow_grwoth"'):
        config.gpu_options.allow_grwoth = True
    with pytest.raises(AttributeError, match="log_placement"):
        config.log_placement = True
    with pytest.raises(AttributeError, match="nothing"):
        _ = config.nothing
    with pytest.raises(TypeError, match="allow_growth_typo"):
        tf.GPUOptions(allow_growth_typo=True)


@pytest.mark.parametrize("field, value, error", [
    ("per_process_gpu_memory_fraction", -0.1, ValueError),
    ("per_process_gpu_memory_fraction", 1.5, ValueError),
    ("per_process_gpu_memory_fraction", math.nan, ValueError),
    ("per_process_gpu_memory_fraction", "0.5", TypeError),
    ("per_process_gpu_memory_fraction", True, TypeError),
    ("allow_growth", 1, TypeError),
    ("allow_growth", "yes", TypeError),
    ("visible_device_list", 0, TypeError),
    ("visible_device_list", ["0"], TypeError),
    ("visible_device_list", "0,a", ValueError),
    ("visible_device_list", "1,1", ValueError),
    ("visible_device_list", "-1", ValueError),
])
def test_gpu_options_values_are_checked(field: str, value, error: type) -> None:
    options = tf.GPUOptions()
    with pytest.raises(error, match=f"GPUOptions.{field}"):
        setattr(options, field, value)
    with pytest.raises(error, match=field):
        tf.GPUOptions(**{field: value})
    assert options == tf.GPUOptions()  # a refused value leaves the field as it was


@pytest.mark.parametrize("field, value, error", [
    ("intra_op_parallelism_threads", -1, ValueError),
    ("inter_op_parallelism_threads", -2, ValueError),
    ("inter_op_parallelism_threads", 2.0, TypeError),
    ("intra_op_parallelism_threads", True, TypeError),
    ("allow_soft_placement", "true", TypeError),
    ("log_device_placement", 0, TypeError),
    ("device_count", [("GPU", 1)], TypeError),
    ("device_count", {"GPU": -1}, ValueError),
    ("device_count", {"GPU": 1.0}, TypeError),
    ("device_count", {0: 1}, TypeError),
    ("gpu_options", {"allow_growth": True}, TypeError),
    ("device_filters", "/cpu:0", TypeError),
])
def test_config_values_are_checked(field: str, value, error: type) -> None:
    with pytest.raises(error, match=field):
        setattr(tf.ConfigProto(), field, value)


def test_visible_device_list_accepts_empty_and_id_lists() -> None:
    for value in ("", "0", "0,1", " 2 , 0 "):
        assert tf.GPUOptions(visible_device_list=value).visible_device_list == value


def test_zero_fraction_means_unset_and_one_is_the_whole_device() -> None:
    assert tf.GPUOptions(per_process_gpu_memory_fraction=0).per_process_gpu_memory_fraction == 0.0
    assert tf.GPUOptions(per_process_gpu_memory_fraction=1).per_process_gpu_memory_fraction == 1.0


@given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True))
def test_any_fraction_in_unit_interval_is_kept(fraction: float) -> None:
    config = tf.ConfigProto()
    config.gpu_options.per_process_gpu_memory_fraction = fraction
    assert config.gpu_options.per_process_gpu_memory_fraction == fraction


@given(st.one_of(st.floats(max_value=0.0, exclude_max=True), st.floats(min_value=1.0, exclude_min=True)))
def test_any_fraction_outside_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="per_process_gpu_memory_fraction"):
        tf.GPUOptions(per_process_gpu_memory_fraction=fraction)


def test_device_count_map_checks_in_place_changes() -> None:
    config = tf.ConfigProto()
    with pytest.raises(ValueError, match="device_count"):
        config.device_count["GPU"] = -1
    with pytest.raises(TypeError, match="device_count"):
        config.device_count.update({"CPU": "2"})
    config.device_count.setdefault("CPU", 3)
    assert config.device_count == {"CPU": 3}


def test_session_validates_and_keeps_its_config() -> None:
    config = tf.ConfigProto(allow_soft_placement=True)
    config.gpu_options.allow_growth = True
    with tf.Session(graph=tf.Graph(), config=config) as sess:
        assert sess._config is config
    assert tf.Session(graph=tf.Graph())._config is None
    with pytest.raises(TypeError, match="config must be a tf.ConfigProto"):
        tf.Session(graph=tf.Graph(), config={"allow_soft_placement": True})


def test_a_config_broken_in_place_fails_before_the_session_exists() -> None:
    config = tf.ConfigProto()
    config.device_filters.append(3)  # a list changed in place is not seen by assignment checks
    with pytest.raises(TypeError, match=r"ConfigProto.device_filters\[0\]"):
        check_session_config(config)
    with pytest.raises(TypeError, match="device_filters"):
        tf.InteractiveSession(graph=tf.Graph(), config=config)
    assert tf.get_default_session() is None  # the failed session did not install itself


def test_copy_from_makes_an_independent_copy() -> None:
    a = tf.ConfigProto(device_count={"GPU": 1})
    a.gpu_options.allow_growth = True
    b = tf.ConfigProto()
    b.CopyFrom(a)
    assert b == a
    b.gpu_options.allow_growth = False
    b.device_count["GPU"] = 2
    assert a.gpu_options.allow_growth is True and a.device_count == {"GPU": 1}
    with pytest.raises(TypeError, match="same class"):
        b.CopyFrom(tf.GPUOptions())


def test_run_options_and_metadata_are_accepted_by_session_run() -> None:
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, timeout_in_ms=1000)
    metadata = tf.RunMetadata()
    with pytest.raises(ValueError, match="trace_level"):
        tf.RunOptions(trace_level=7)
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(2.0) * 3.0
    with tf.Session(graph=g) as sess:
        assert sess.run(x, options=options, run_metadata=metadata) == 6.0
    assert metadata.partition_graphs == []
