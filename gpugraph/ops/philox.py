"""Philox4x32-10, the counter-based generator of TF1's random kernels, as array code for NumPy and CuPy.

A stream is a 64-bit key and a 128-bit counter; block ``i`` of a draw is the 4 x uint32 output for
counter ``base + i``. Everything is computed in uint64 arrays holding 32-bit values (the products of
two 32-bit numbers fit), so the code runs with any array module and no host reads.
The conversions to floats and integers follow TF's random_distributions.h bit for bit.

Where ``xp`` is CuPy, each draw is instead one ElementwiseKernel of ``kernels/philox_*.cu`` (output
element i computes its own Philox block), with the same integer and float arithmetic as this code.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import numpy as np

from gpugraph.kernels import elementwise_kernel
from gpugraph.ops.xp_compat import on_host

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_MASK128 = (1 << 128) - 1
_ROUND_MUL = (0xD2511F53, 0xCD9E8D57)
_KEY_STEP = (0x9E3779B9, 0xBB67AE85)
_ROUNDS = 10
# Philox blocks TF reserves per output element of the distributions with rejection (and so for all).
RESERVED_BLOCKS_PER_OUTPUT = 256


class PhiloxState:
    """One op's stream in one session: the key and the next unused counter (host integers).

    TF's GuardedPhiloxRandom: key = seed, counter = seed2 << 64; (0, 0) means fresh random seeds.
    ``reserve(n)`` hands out ``n`` blocks and moves the counter past them, as each run does.
    """

    __slots__ = ("key", "counter", "_lock")

    def __init__(self, seed: int, seed2: int):
        if seed == 0 and seed2 == 0:
            seed, seed2 = (int.from_bytes(os.urandom(8), "little") for _ in range(2))
        self.key = (seed & _MASK32, (seed >> 32) & _MASK32)
        self.counter = (seed2 & _MASK64) << 64
        self._lock = threading.Lock()

    def reserve(self, blocks: int) -> int:
        with self._lock:
            start = self.counter
            self.counter = (start + blocks) & _MASK128
            return start


def _round_keys(key: tuple[int, int]) -> list[tuple[int, int]]:
    k0, k1 = key
    out = []
    for _ in range(_ROUNDS):
        out.append((k0, k1))
        k0, k1 = (k0 + _KEY_STEP[0]) & _MASK32, (k1 + _KEY_STEP[1]) & _MASK32
    return out


def blocks(xp: Any, key: tuple[int, int], counter: int, offsets: Any) -> Any:
    """Philox outputs for counters ``counter + offsets`` (an integer array): uint64 array (..., 4) of uint32 values."""
    u64 = xp.uint64
    offsets = offsets.astype(u64)
    low = offsets + u64(counter & _MASK64)  # wraps mod 2**64; the carry goes to the upper half
    carry = (low < offsets).astype(u64)
    mid = u64((counter >> 64) & _MASK32) + carry
    c0, c1 = low & u64(_MASK32), low >> u64(32)
    c2 = mid & u64(_MASK32)
    c3 = (u64((counter >> 96) & _MASK32) + (mid >> u64(32))) & u64(_MASK32)
    m0, m1, mask, shift = u64(_ROUND_MUL[0]), u64(_ROUND_MUL[1]), u64(_MASK32), u64(32)
    for k0, k1 in _round_keys(key):
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = (p1 >> shift) ^ c1 ^ u64(k0), p1 & mask, (p0 >> shift) ^ c3 ^ u64(k1), p0 & mask
    return xp.stack([c0, c1, c2, c3], axis=-1)


_HOST_CHUNK_BLOCKS = 16384  # on the CPU, rounds over cache-sized pieces run about twice as fast


def words(xp: Any, key: tuple[int, int], counter: int, count: int) -> Any:
    """The first ``count`` uint32 outputs of the stream at ``counter`` (as uint64 values), in order."""
    n_blocks = -(-count // 4)
    step = _HOST_CHUNK_BLOCKS if on_host(xp) else max(n_blocks, 1)
    parts = [blocks(xp, key, counter, xp.arange(start, min(start + step, n_blocks), dtype=xp.uint64))
             for start in range(0, n_blocks, step)]
    if len(parts) != 1:
        return xp.concatenate(parts or [xp.zeros((0, 4), dtype=xp.uint64)]).reshape(-1)[:count]
    return parts[0].reshape(-1)[:count]


# --- conversions of random_distributions.h ---

def uint32_to_float(xp: Any, w: Any) -> Any:
    """[0, 1) from 23 random mantissa bits."""
    bits = ((w & xp.uint64(0x7FFFFF)) | xp.uint64(0x3F800000)).astype(xp.uint32)
    return bits.view(xp.float32) - xp.float32(1.0)


def uint64_to_double(xp: Any, hi: Any, lo: Any) -> Any:
    """[0, 1) from 52 random mantissa bits: 20 from ``hi``, 32 from ``lo``."""
    bits = ((hi & xp.uint64(0xFFFFF)) << xp.uint64(32)) | lo | xp.uint64(1023 << 52)
    return bits.view(xp.float64) - 1.0


def uint16_to_half(xp: Any, w: Any) -> Any:
    bits = ((w & xp.uint64(0x3FF)) | xp.uint64(15 << 10)).astype(xp.uint16)
    return bits.view(xp.float16) - xp.float16(1.0)


def box_muller_float(xp: Any, x0: Any, x1: Any) -> tuple[Any, Any]:
    """TF's BoxMullerFloat. The transcendental functions run in float64 and round once to float32,
    which matches glibc's logf/sincosf (correctly rounded in nearly all cases)."""
    u1 = xp.maximum(uint32_to_float(xp, x0), xp.float32(1.0e-7))
    v1 = (2 * math.pi * uint32_to_float(xp, x1).astype(xp.float64)).astype(xp.float32)  # 2.0f * M_PI is a double
    log_u1 = xp.log(u1.astype(xp.float64)).astype(xp.float32)
    u2 = xp.sqrt(xp.float32(-2.0) * log_u1)
    # sin and cos from one tan of the half angle: exact enough in float64 to round as sin/cos do (checked
    # over millions of angles), and half the time of two transcendental calls on the CPU
    t = xp.tan(v1.astype(xp.float64) * 0.5)
    t2 = t * t
    inv = 1.0 / (1.0 + t2)
    return (2.0 * t * inv).astype(xp.float32) * u2, ((1.0 - t2) * inv).astype(xp.float32) * u2


def box_muller_double(xp: Any, x0: Any, x1: Any, x2: Any, x3: Any) -> tuple[Any, Any]:
    u1 = xp.maximum(uint64_to_double(xp, x0, x1), 1.0e-7)
    v1 = 2 * math.pi * uint64_to_double(xp, x2, x3)
    u2 = xp.sqrt(-2.0 * xp.log(u1))
    return xp.sin(v1) * u2, xp.cos(v1) * u2


# --- TF's CPU kernels: which counters feed which outputs ---

def _on_device(xp: Any) -> bool:
    """True where ``xp`` builds CUDA kernels (CuPy)."""
    return getattr(xp, "ElementwiseKernel", None) is not None


def _kernel_draw(xp: Any, name: str, key: tuple[int, int], counter: int, n: int, dtype: Any, *extra: Any) -> Any:
    """``n`` outputs of kernel ``name`` for the stream (key, counter): one launch. float16 is computed
    as float (the value TF's half conversion starts from) and rounded to half after."""
    out_dtype = np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)
    stream = [np.uint32(w) for w in (*key, *((counter >> s) & _MASK32 for s in (0, 32, 64, 96)))]
    out = xp.empty(n, dtype=out_dtype)
    elementwise_kernel(name, (out_dtype,), cupy=xp)(*stream, *extra, out)
    return out if out_dtype == dtype else out.astype(dtype)


def _word_count(n: int, dtype: Any) -> int:
    return 2 * n if dtype.itemsize == 8 else n  # 64-bit outputs take two words each


def _by_pieces(xp: Any, draw: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    """``draw`` over cache-sized pieces on the CPU (output i depends only on its own words)."""
    per_block = 2 if dtype.itemsize == 8 else 4
    step = _HOST_CHUNK_BLOCKS * per_block
    if not on_host(xp) or n <= step:
        return draw(xp, key, counter, n, dtype)
    return xp.concatenate([draw(xp, key, counter + start // per_block, min(step, n - start), dtype)
                           for start in range(0, n, step)])


def uniform(xp: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    """RandomUniform: [0, 1) in ``dtype`` (float16/32/64); output i uses word i (two for float64)."""
    if _on_device(xp):
        return _kernel_draw(xp, "philox_uniform", key, counter, n, dtype, dtype.itemsize == 2)
    return _by_pieces(xp, _uniform, key, counter, n, dtype)


def _uniform(xp: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    w = words(xp, key, counter, _word_count(n, dtype))
    if dtype.itemsize == 8:
        return uint64_to_double(xp, w[0::2], w[1::2])
    if dtype.itemsize == 2:
        return uint16_to_half(xp, w)
    return uint32_to_float(xp, w)


def _interleave(xp: Any, a: Any, b: Any) -> Any:
    return xp.stack([a, b], axis=-1).reshape(*a.shape[:-1], -1)


def normal(xp: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    """RandomStandardNormal: Box-Muller on word pairs (float64: on quadruples), sine first."""
    if _on_device(xp):
        return _kernel_draw(xp, "philox_normal", key, counter, n, dtype)
    return _by_pieces(xp, _normal, key, counter, n, dtype)


def _normal(xp: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    if dtype.itemsize == 8:
        w = words(xp, key, counter, 4 * -(-n // 2))
        return _interleave(xp, *box_muller_double(xp, w[0::4], w[1::4], w[2::4], w[3::4]))[:n]
    w = words(xp, key, counter, 2 * -(-n // 2))
    return _interleave(xp, *box_muller_float(xp, w[0::2], w[1::2]))[:n].astype(dtype)


def _normal_candidates(xp: Any, key: tuple[int, int], counter: int, block_ids: Any, wide: bool) -> Any:
    """Normals from blocks ``block_ids`` (G, K): (G, 4K) floats or (G, 2K) doubles, in stream order."""
    b = blocks(xp, key, counter, block_ids)
    if wide:
        return _interleave(xp, *box_muller_double(xp, b[..., 0], b[..., 1], b[..., 2], b[..., 3])).reshape(
            block_ids.shape[0], -1)
    pairs = _interleave(xp, *box_muller_float(xp, b[..., 0::2], b[..., 1::2]))  # (G, K, 4)
    return pairs.reshape(block_ids.shape[0], -1)


def _first_inside(xp: Any, cands: Any, group: int) -> tuple[Any, Any]:
    """The first ``group`` candidates with |x| < 2 of each row, and whether each row had that many."""
    inside = xp.abs(cands) < 2.0
    rank = xp.cumsum(inside, axis=1)
    picks = [xp.argmax(inside & (rank == s + 1), axis=1) for s in range(group)]
    chosen = xp.take_along_axis(cands, xp.stack(picks, axis=1), axis=1)
    return chosen, rank[:, -1] >= group


_TRUNCATED_FIRST_BLOCKS = {4: 3, 2: 6}  # blocks tried for every group: a shortfall is rarer than 1e-9
_TRUNCATED_RETRIES = 32  # groups per draw that get the rest of their reserved blocks


def truncated_normal(xp: Any, key: tuple[int, int], counter: int, n: int, dtype: Any) -> Any:
    """TruncatedNormal: groups of 4 outputs (2 for float64), group g reading its own stream from block
    256 * g (128 * g for float64), keeping the first normals inside (-2, 2), as TF's CPU kernel.
    The device kernel reads each group's stream as far as it takes; this array code reads the first few
    blocks, then further only for up to 32 groups per draw (beyond that: under 1e-40 even for a billion values)."""
    if _on_device(xp):
        return _kernel_draw(xp, "philox_truncated_normal", key, counter, n, dtype)
    wide = dtype.itemsize == 8
    group = 2 if wide else 4
    stride = group * RESERVED_BLOCKS_PER_OUTPUT // 4
    n_groups = -(-n // group)
    first = _TRUNCATED_FIRST_BLOCKS[group]
    starts = xp.arange(n_groups, dtype=xp.uint64) * xp.uint64(stride)
    cands = _normal_candidates(xp, key, counter, starts[:, None] + xp.arange(first, dtype=xp.uint64), wide)
    out, full = _first_inside(xp, cands, group)
    # The few groups short of inside values read on through their reserved blocks: slot s holds the
    # s-th short group (no host read: every draw does this fixed amount of work).
    retries = min(n_groups, _TRUNCATED_RETRIES)
    short = ~full
    order = xp.cumsum(short) - 1
    slot = xp.where(short & (order < retries), order, retries)
    group_of_slot = xp.zeros(retries + 1, dtype=xp.int64)
    group_of_slot[slot] = xp.arange(n_groups, dtype=xp.int64)  # unused groups all land in the spare slot
    more_ids = starts[group_of_slot[:retries]][:, None] + xp.arange(first, stride, dtype=xp.uint64)
    more = xp.concatenate([cands[group_of_slot[:retries]],
                           _normal_candidates(xp, key, counter, more_ids, wide)], axis=1)
    redone, _ = _first_inside(xp, more, group)
    redone = xp.concatenate([redone, xp.zeros((1, group), dtype=redone.dtype)])
    out = xp.where((slot < retries)[:, None], redone[slot], out)
    return out.reshape(-1)[:n].astype(dtype)


def uniform_int(xp: Any, key: tuple[int, int], counter: int, n: int, lo: Any, hi: Any, dtype: Any) -> Any:
    """RandomUniformInt: lo + word % (hi - lo), the range taken unsigned; int64 uses two words."""
    if _on_device(xp):
        return _kernel_draw(xp, "philox_uniform_int", key, counter, n, dtype, lo.astype(dtype), hi.astype(dtype))
    u64 = xp.uint64
    lo, hi = lo.reshape(-1), hi.reshape(-1)  # 1-d: array arithmetic wraps silently, a 0-d array's warns
    if dtype.itemsize == 8:
        w = words(xp, key, counter, 2 * n)
        bits = w[0::2] | (w[1::2] << u64(32))
        lo_u, hi_u = lo.astype(xp.int64).astype(u64), hi.astype(xp.int64).astype(u64)
        span = hi_u - lo_u
        return (lo_u + bits % xp.maximum(span, u64(1))).view(xp.int64)
    mask = u64(0xFFFFFFFF)
    lo_u, hi_u = lo.astype(xp.int64).astype(u64) & mask, hi.astype(xp.int64).astype(u64) & mask
    span = (hi_u - lo_u) & mask
    r = words(xp, key, counter, n) % xp.maximum(span, u64(1))
    return ((lo_u + r) & mask).astype(xp.uint32).view(xp.int32)
