"""GPU memory configuration: ConfigProto.gpu_options and environment, mapped onto CuPy's memory pool.

CuPy's ``MemoryPool`` (``cupy.get_default_memory_pool()``) keeps one pool per device and every method
acts on the *current* device, so callers apply these functions inside ``with cupy.cuda.Device(i):``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

ENV_ALLOW_GROWTH = "GPUGRAPH_ALLOW_GROWTH"
ENV_MEMORY_FRACTION = "GPUGRAPH_MEMORY_FRACTION"

# CuPy's pool rounds every allocation up to a multiple of this many bytes.
POOL_ALIGNMENT = 512

_TRUE = ("1", "true")
_FALSE = ("0", "false")


@dataclass(frozen=True)
class MemoryConfig:
    """``allow_growth``: take device memory on demand (False: reserve the fraction up front, as TF1 does).
    ``fraction``: cap on the pool as a share of device memory, 0 = no cap set by gpugraph.
    ``visible_device_list``: TF1's comma-separated list of visible GPU indices, "" = all."""

    allow_growth: bool = True
    fraction: float = 0.0
    visible_device_list: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"per_process_gpu_memory_fraction must be in [0, 1], got {self.fraction}")


def memory_config_from(config: Any | None, environ: Mapping[str, str] = os.environ) -> MemoryConfig:
    """Read ``config.gpu_options`` (any object with those attributes), then apply environment overrides."""
    allow_growth, fraction, visible = True, 0.0, ""
    options = getattr(config, "gpu_options", None) if config is not None else None
    if options is not None:
        allow_growth = bool(getattr(options, "allow_growth", allow_growth))
        raw = getattr(options, "per_process_gpu_memory_fraction", 0.0) or 0.0
        try:
            fraction = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"gpu_options.per_process_gpu_memory_fraction must be a number, got {raw!r}") from None
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"gpu_options.per_process_gpu_memory_fraction must be in [0, 1], got {fraction}")
        visible = str(getattr(options, "visible_device_list", "") or "").strip()
    growth_env = environ.get(ENV_ALLOW_GROWTH, "").strip().lower()
    if growth_env:
        if growth_env in _TRUE:
            allow_growth = True
        elif growth_env in _FALSE:
            allow_growth = False
        else:
            raise ValueError(f"{ENV_ALLOW_GROWTH} must be 1, 0, true or false, got {environ[ENV_ALLOW_GROWTH]!r}")
    fraction_env = environ.get(ENV_MEMORY_FRACTION, "").strip()
    if fraction_env:
        try:
            fraction = float(fraction_env)
        except ValueError:
            fraction = -1.0
        if not 0.0 < fraction <= 1.0:  # also rejects nan
            raise ValueError(f"{ENV_MEMORY_FRACTION} must be a number in (0, 1], got {fraction_env!r}")
    return MemoryConfig(allow_growth=allow_growth, fraction=fraction, visible_device_list=visible)


def pool_limit(memory: MemoryConfig, total_memory: int) -> int | None:
    """Bytes the pool may hold under ``memory`` on a device of ``total_memory`` bytes (None: no cap)."""
    return int(memory.fraction * total_memory) if memory.fraction > 0 else None


def release(pool: Any) -> None:
    """Return the pool's cached free blocks to the driver (on the current device)."""
    pool.free_all_blocks()


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "<unknown>"
    if getattr(shape, "dims", 0) is None:  # a TensorShape of unknown rank
        return "<unknown>"
    dims: Sequence[Any] = tuple(shape)
    values = [getattr(d, "value", d) for d in dims]  # a TensorShape yields Dimensions, unknown ones hold None
    return "[" + ",".join("?" if v is None else str(int(v)) for v in values) + "]"


def out_of_memory_message(node: str, op_type: str, shape: Any, dtype: Any, device: str,
                          requested: int | None, used: int, limit: int | None) -> str:
    """TF1-style text for a ResourceExhaustedError raised when a device allocation fails."""
    dtype_name = getattr(dtype, "name", None) or str(dtype)
    text = (f"OOM when allocating tensor with shape{_shape_text(shape)} and type {dtype_name} on {device} "
            f"for node '{node}' (op {op_type}): ")
    text += f"requested {requested} bytes, " if requested is not None else "requested an unknown number of bytes, "
    text += f"pool used {used} of limit {limit} bytes" if limit else f"pool used {used} bytes (no limit)"
    return text
