"""TF1's session configuration messages (``tf.ConfigProto``, ``tf.GPUOptions``, ``tf.RunOptions``...).

Plain dataclasses that behave like the protobuf messages for what user code does with them: keyword
construction, attribute reads and assignments (``config.gpu_options.allow_growth = True``), the
``device_count`` map, equality. Unlike protobuf, a value is checked when it is set, so a wrong type or
an out-of-range value fails at the line that set it, with the field's name in the message.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar

__all__ = ["ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions", "RunMetadata",
           "check_session_config"]

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1

Check = Callable[[str, Any], Any]


# --- value checks: each takes the qualified field name and the value, returns the stored value ---
def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy.bool_ too
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {value!r} of type {type(value).__name__}")


def _int(low: int = 0, high: int = _INT32_MAX) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
        if not low <= int(value) <= high:
            raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
        return int(value)
    return check


def _enum(*allowed: int) -> Check:
    def check(name: str, value: Any) -> int:
        value = _int(-_INT32_MAX, _INT32_MAX)(name, value)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value}")
        return value
    return check


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r} of type {type(value).__name__}")
    return value


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float, got {value!r} of type {type(value).__name__}")
    value = float(value)
    # TF1 reads 0 as "not set" (the default); a share of device memory is otherwise in (0, 1].
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in (0, 1] (0 means unset), got {value}")
    return value


def _visible_device_list(name: str, value: Any) -> str:
    value = _str(name, value)
    ids: list[int] = []
    for item in value.split(",") if value.strip() else []:
        item = item.strip()
        if not item.isdigit():
            raise ValueError(f"{name} must be comma-separated GPU ids like '0,1', got {value!r} "
                             f"(bad entry {item!r})")
        if int(item) in ids:
            raise ValueError(f"{name} {value!r} contains the GPU id {item} twice")
        ids.append(int(item))
    return value


def _str_list(name: str, value: Any) -> list[str]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of str, got {value!r}")
    return [_str(f"{name}[{i}]", v) for i, v in enumerate(value)]


def _message(cls: type) -> Check:
    def check(name: str, value: Any) -> Any:
        if not isinstance(value, cls):
            raise TypeError(f"{name} must be a {cls.__name__}, got {value!r} of type {type(value).__name__}")
        return value
    return check


class _DeviceCount(dict):
    """``device_count``: device type ('CPU', 'GPU') -> how many devices of it the session may use."""

    def __init__(self, items: Any = ()):
        super().__init__()
        self.update(items)

    def __setitem__(self, key: Any, value: Any) -> None:
        _str("ConfigProto.device_count key", key)
        super().__setitem__(key, _int()(f"ConfigProto.device_count[{key!r}]", value))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = 0) -> Any:
        if key not in self:
            self[key] = default
        return self[key]


def _device_count(name: str, value: Any) -> _DeviceCount:
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict of device type -> count, got {value!r}")
    return _DeviceCount(value)


class _Message:
    """Checks each assignment against the class's ``_CHECKS``; an unknown field is an AttributeError."""

    _CHECKS: ClassVar[dict[str, Check]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        check = type(self)._CHECKS.get(name)
        if check is None:
            raise AttributeError(f'Assignment not allowed (no field "{name}" in protocol message object '
                                 f'{type(self).__name__}).')
        object.__setattr__(self, name, check(f"{type(self).__name__}.{name}", value))

    def validate(self) -> None:
        """Re-check every field (containers may have been changed in place)."""
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            type(self)._CHECKS[f.name](f"{type(self).__name__}.{f.name}", value)
            if isinstance(value, _Message):
                value.validate()

    def CopyFrom(self, other: Any) -> None:  # noqa: N802 - protobuf's name
        if type(other) is not type(self):
            raise TypeError(f"Parameter to CopyFrom() must be instance of same class: expected "
                            f"{type(self).__name__} got {type(other).__name__}.")
        for f in fields(self):  # type: ignore[arg-type]
            setattr(self, f.name, _copy(getattr(other, f.name)))


def _copy(value: Any) -> Any:
    if isinstance(value, _Message):
        clone = type(value)()
        clone.CopyFrom(value)
        return clone
    if isinstance(value, (dict, list)):
        return type(value)(value)
    return value


@dataclass(repr=True, eq=True)
class GPUOptions(_Message):
    per_process_gpu_memory_fraction: float = 0.0
    allow_growth: bool = False
    allocator_type: str = ""
    deferred_deletion_bytes: int = 0
    visible_device_list: str = ""
    polling_active_delay_usecs: int = 0
    polling_inactive_delay_msecs: int = 0
    force_gpu_compatible: bool = False
    cuda_graphs: bool = True  # gpugraph's own: replay a plan's GPU segments as CUDA graphs

    _CHECKS: ClassVar[dict[str, Check]] = {
        "per_process_gpu_memory_fraction": _fraction,
        "allow_growth": _bool,
        "allocator_type": _str,
        "deferred_deletion_bytes": _int(0, _INT64_MAX),
        "visible_device_list": _visible_device_list,
        "polling_active_delay_usecs": _int(),
        "polling_inactive_delay_msecs": _int(),
        "force_gpu_compatible": _bool,
        "cuda_graphs": _bool,
    }


@dataclass(repr=True, eq=True)
class OptimizerOptions(_Message):
    L1: ClassVar[int] = 0  # the default optimizations
    L0: ClassVar[int] = -1  # none
    DEFAULT: ClassVar[int] = 0
    OFF: ClassVar[int] = -1
    ON_1: ClassVar[int] = 1
    ON_2: ClassVar[int] = 2

    do_common_subexpression_elimination: bool = False
    do_constant_folding: bool = False
    max_folded_constant_in_bytes: int = 0
    do_function_inlining: bool = False
    opt_level: int = 0
    global_jit_level: int = 0

    _CHECKS: ClassVar[dict[str, Check]] = {
        "do_common_subexpression_elimination": _bool,
        "do_constant_folding": _bool,
        "max_folded_constant_in_bytes": _int(0, _INT64_MAX),
        "do_function_inlining": _bool,
        "opt_level": _enum(0, -1),
        "global_jit_level": _enum(0, -1, 1, 2),
    }


@dataclass(repr=True, eq=True)
class GraphOptions(_Message):
    enable_recv_scheduling: bool = False
    optimizer_options: OptimizerOptions = field(default_factory=OptimizerOptions)
    build_cost_model: int = 0
    build_cost_model_after: int = 0
    infer_shapes: bool = False
    place_pruned_graph: bool = False
    enable_bfloat16_sendrecv: bool = False
    timeline_step: int = 0

    _CHECKS: ClassVar[dict[str, Check]] = {
        "enable_recv_scheduling": _bool,
        "optimizer_options": _message(OptimizerOptions),
        "build_cost_model": _int(0, _INT64_MAX),
        "build_cost_model_after": _int(0, _INT64_MAX),
        "infer_shapes": _bool,
        "place_pruned_graph": _bool,
        "enable_bfloat16_sendrecv": _bool,
        "timeline_step": _int(),
    }


@dataclass(repr=True, eq=True)
class ConfigProto(_Message):
    """``tf.ConfigProto``: how a Session uses devices and threads. 0 thread counts mean "system picks"."""

    device_count: dict = field(default_factory=_DeviceCount)
    intra_op_parallelism_threads: int = 0
    inter_op_parallelism_threads: int = 0
    use_per_session_threads: bool = False
    placement_period: int = 0
    device_filters: list = field(default_factory=list)
    gpu_options: GPUOptions = field(default_factory=GPUOptions)
    allow_soft_placement: bool = False
    log_device_placement: bool = False
    graph_options: GraphOptions = field(default_factory=GraphOptions)
    operation_timeout_in_ms: int = 0
    isolate_session_state: bool = False

    _CHECKS: ClassVar[dict[str, Check]] = {
        "device_count": _device_count,
        "intra_op_parallelism_threads": _int(),
        "inter_op_parallelism_threads": _int(),
        "use_per_session_threads": _bool,
        "placement_period": _int(),
        "device_filters": _str_list,
        "gpu_options": _message(GPUOptions),
        "allow_soft_placement": _bool,
        "log_device_placement": _bool,
        "graph_options": _message(GraphOptions),
        "operation_timeout_in_ms": _int(0, _INT64_MAX),
        "isolate_session_state": _bool,
    }


@dataclass(repr=True, eq=True)
class RunOptions(_Message):
    """``tf.RunOptions`` for ``Session.run(options=...)``; any trace_level above NO_TRACE times each step."""

    NO_TRACE: ClassVar[int] = 0
    SOFTWARE_TRACE: ClassVar[int] = 1
    HARDWARE_TRACE: ClassVar[int] = 2
    FULL_TRACE: ClassVar[int] = 3

    trace_level: int = 0
    timeout_in_ms: int = 0
    inter_op_thread_pool: int = 0
    output_partition_graphs: bool = False
    report_tensor_allocations_upon_oom: bool = False

    _CHECKS: ClassVar[dict[str, Check]] = {
        "trace_level": _enum(0, 1, 2, 3),
        "timeout_in_ms": _int(0, _INT64_MAX),
        "inter_op_thread_pool": _int(-1),
        "output_partition_graphs": _bool,
        "report_tensor_allocations_upon_oom": _bool,
    }


def _any(name: str, value: Any) -> Any:
    return value


def _empty_step_stats() -> Any:
    from gpugraph.runtime.tracing import step_stats_classes

    return step_stats_classes()["StepStats"]()


@dataclass(repr=True, eq=True)
class RunMetadata(_Message):
    """``tf.RunMetadata`` for ``Session.run(run_metadata=...)``: a traced run fills ``step_stats``
    (a StepStats protobuf with TF's fields), one NodeExecStats per executed step."""

    step_stats: Any = field(default_factory=_empty_step_stats)
    cost_graph: Any = None
    partition_graphs: list = field(default_factory=list)

    _CHECKS: ClassVar[dict[str, Check]] = {
        "step_stats": _any,
        "cost_graph": _any,
        "partition_graphs": lambda name, value: list(value),
    }

    def SerializeToString(self) -> bytes:  # noqa: N802 - protobuf's name
        """TF's RunMetadata wire format (step_stats only), as FileWriter.add_run_metadata writes it."""
        from gpugraph.runtime.tracing import step_stats_classes

        proto = step_stats_classes()["RunMetadata"]()
        if self.step_stats is not None:
            proto.step_stats.ParseFromString(self.step_stats.SerializeToString())
        return proto.SerializeToString()


def check_session_config(config: Any) -> ConfigProto | None:
    """What ``tf.Session(config=...)`` accepts: None or a valid ConfigProto (checked again in full)."""
    if config is None:
        return None
    if not isinstance(config, ConfigProto):
        raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
    config.validate()
    return config
