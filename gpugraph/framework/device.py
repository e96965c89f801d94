"""Device specs ('/gpu:0', '/device:CPU:0', '/job:w/task:1') parsed, canonicalised and merged."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class DeviceSpec:
    job: str | None = None
    replica: int | None = None
    task: int | None = None
    device_type: str | None = None
    device_index: int | None = None

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        fields: dict[str, object] = {}
        for part in spec.split("/"):
            if not part:
                continue
            key, _, value = part.partition(":")
            low = key.lower()
            try:
                if low == "job":
                    fields["job"] = value
                elif low == "replica":
                    fields["replica"] = int(value)
                elif low == "task":
                    fields["task"] = int(value)
                elif low == "device":
                    dtype, _, index = value.partition(":")
                    fields["device_type"] = dtype.upper()
                    fields["device_index"] = None if index in ("", "*") else int(index)
                elif low in ("cpu", "gpu"):
                    fields["device_type"] = low.upper()
                    fields["device_index"] = None if value in ("", "*") else int(value)
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"Unknown device specification '{spec}' (bad part '{part}')") from None
        return cls(**fields)  # type: ignore[arg-type]

    def merge_from(self, other: DeviceSpec) -> DeviceSpec:
        """Fields set in ``other`` win, as in TF1 nested ``tf.device`` blocks."""
        updates = {k: v for k, v in other.__dict__.items() if v is not None}
        return replace(self, **updates)

    def to_string(self) -> str:
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else str(self.device_index)
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)


def canonical_device(spec: str) -> str:
    return DeviceSpec.from_string(spec).to_string() if spec else ""


def merge_device(outer: str, inner: str) -> str:
    if not outer:
        return canonical_device(inner)
    return DeviceSpec.from_string(outer).merge_from(DeviceSpec.from_string(inner)).to_string()
