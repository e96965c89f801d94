"""Reading event files back with TensorBoard's own reader (tensorboard is a test dependency)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader


def accumulate(logdir: Any) -> event_accumulator.EventAccumulator:
    """Everything TensorBoard finds in ``logdir`` (all events kept: no reservoir sampling)."""
    everything = event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance=everything)
    acc.Reload()
    return acc


def event_files(logdir: Any) -> list[Path]:
    return sorted(p for p in Path(logdir).iterdir() if "tfevents" in p.name)


def events(path: Any) -> list[Any]:
    """The Event messages of one file, in order (the first one is the file-version header)."""
    return list(EventFileLoader(str(path)).Load())
