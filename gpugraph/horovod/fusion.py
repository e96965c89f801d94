"""Horovod's tensor fusion: many small allreduces become one per bucket of up to HOROVOD_FUSION_THRESHOLD bytes.

Tensors are bucketed per dtype, first fit in order; a tensor larger than the threshold goes alone, and a threshold of 0
puts every tensor alone (fusion off). Each bucket is packed into one flat buffer, reduced with one collective,
and handed back as views of the reduced buffer.
"""

from __future__ import annotations

from typing import Any

from gpugraph.horovod import basics, engine

__all__ = ["plan_buckets", "fused_allreduce"]


def plan_buckets(nbytes: list[int], dtype_names: list[str], threshold: int) -> list[list[int]]:
    """Indices of the tensors, grouped into buckets: same dtype, at most ``threshold`` bytes together.

    First fit, as Horovod's fusion: a tensor that does not fit the open buckets starts a new one, and later
    small tensors may still join an earlier bucket.
    """
    buckets: list[list[int]] = []
    room: list[tuple[str, int]] = []  # per bucket: its dtype and the bytes still free
    for i, (size, dtype) in enumerate(zip(nbytes, dtype_names)):
        fit = next((b for b, (d, free) in enumerate(room) if d == dtype and size <= free), None)
        if fit is None:
            buckets.append([i])
            room.append((dtype, threshold - size))
        else:
            buckets[fit].append(i)
            room[fit] = (dtype, room[fit][1] - size)
    return buckets


def fused_allreduce(xs: list[Any], xp: Any, *, reduce_op: str, what: str) -> list[Any]:
    """The allreduce of each array in ``xs``, with one collective per fusion bucket."""
    buckets = plan_buckets([x.nbytes for x in xs], [x.dtype.name for x in xs], basics.fusion_threshold())
    outs: list[Any] = [None] * len(xs)
    for k, bucket in enumerate(buckets):
        where = f"{what}/bucket_{k}"
        if len(bucket) == 1:
            outs[bucket[0]] = engine.allreduce(xs[bucket[0]], xp, reduce_op=reduce_op, what=where)
            continue
        flat = xp.concatenate([xp.ravel(xs[i]) for i in bucket])
        reduced = engine.allreduce(flat, xp, reduce_op=reduce_op, what=where)
        start = 0
        for i in bucket:
            stop = start + xs[i].size
            outs[i] = reduced[start:stop].reshape(xs[i].shape)
            start = stop
    return outs
