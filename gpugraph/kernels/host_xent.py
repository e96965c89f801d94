"""Sparse softmax cross-entropy on the host in five calls, the values of the NumPy path to the bit.

The NumPy path (gpugraph.ops.nn_ops, ``_sparse_xent_rows``) makes about twelve calls over a batch's
logits, most of them on a few thousand values (a 256 x 10 batch: 38 us, 60 in a training step). Here two
compiled loops do the row work around NumPy's own ``exp`` and ``log`` (whose SIMD results a C loop calling
libm would not reproduce):

1. the labels checked, each row less its max (NaN wins, as NumPy's ``max``), and the shifted logit at the
   label kept;
2. ``numpy.exp`` in place;
3. each row's sum, added in NumPy's own pairwise order from zero (what ``e.sum(axis=-1)`` does), and the
   row divided by it, less one at the label: the backprop;
4. ``numpy.log`` of the sums, less the kept logit: the loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.fusion.addresses import data_address
from gpugraph.kernels.built_later import POINTER, SIZE, BuiltLater

__all__ = ["sparse_xent"]

_FLOATS = {"float32": "float", "float64": "double"}
_LABELS = {"int32": "int", "int64": "long long"}

# NumPy's pairwise sum of a contiguous row (numpy/_core/src/umath/loops_utils.h.src, pairwise_sum)
_PAIRWISE = """
template <typename T> static T gpugraph_pairwise_sum(const T* a, long long n) {
  if (n < 8) {
    T res = 0;
    for (long long i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
    long long i;
    for (i = 8; i < n - (n % 8); i += 8) {
      r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3];
      r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7];
    }
    T res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  long long n2 = n / 2;
  n2 -= n2 % 8;
  return gpugraph_pairwise_sum(a, n2) + gpugraph_pairwise_sum(a + n2, n - n2);
}
"""


def _names(fdtype: str, ldtype: str) -> tuple[str, str]:
    return f"gpugraph_xent_shift_{fdtype}_{ldtype}", f"gpugraph_xent_normalize_{fdtype}_{ldtype}"


def _source() -> str:
    parts = [_PAIRWISE]
    for fdtype, t in _FLOATS.items():
        for ldtype, lab in _LABELS.items():
            shift, normalize = _names(fdtype, ldtype)
            parts.append(f"""
extern "C" long long {shift}(const void* xp, const void* lp, void* sp, void* pp, long long rows, long long n) {{
  const {t}* x = (const {t}*)xp; const {lab}* labels = (const {lab}*)lp; {t}* shifted = ({t}*)sp;
  {t}* picked = ({t}*)pp;
  for (long long r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= n) return r;  // the first row whose label is out of range
  for (long long r = 0; r < rows; ++r) {{
    const {t}* row = x + r * n;
    {t} top = row[0];
    for (long long j = 1; j < n; ++j) top = (top >= row[j] || top != top) ? top : row[j];
    {t}* out = shifted + r * n;
    for (long long j = 0; j < n; ++j) out[j] = row[j] - top;
    picked[r] = out[labels[r]];
  }}
  return -1;
}}
extern "C" void {normalize}(void* ep, const void* lp, void* tp, long long rows, long long n) {{
  {t}* e = ({t}*)ep; const {lab}* labels = (const {lab}*)lp; {t}* totals = ({t}*)tp;
  for (long long r = 0; r < rows; ++r) {{
    {t}* row = e + r * n;
    const {t} total = {t}(0) + gpugraph_pairwise_sum(row, n);
    totals[r] = total;
    for (long long j = 0; j < n; ++j) row[j] = row[j] / total;
    row[labels[r]] -= 1;
  }}
}}""")
    return "\n".join(parts) + "\n"


_PAIRS = [(f, lab) for f in _FLOATS for lab in _LABELS]
_KERNELS = BuiltLater(
    _source, [name for pair in _PAIRS for name in _names(*pair)],
    [[POINTER, POINTER, POINTER, POINTER, SIZE, SIZE], [POINTER, POINTER, POINTER, SIZE, SIZE]] * len(_PAIRS),
    [SIZE, None] * len(_PAIRS))
_INDEX = {(np.dtype(f), np.dtype(lab)): 2 * k for k, (f, lab) in enumerate(_PAIRS)}


def sparse_xent(logits: Any, labels: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(loss, backprop) of float32/float64 ``logits`` (classes on the last axis) and int32/int64 ``labels``
    (its other axes), or None where the kernels do not take them (then the NumPy path runs). A label out
    of range raises TF1's error, naming the first one."""
    if type(logits) is not np.ndarray or type(labels) is not np.ndarray or not logits.size:
        return None
    k = _INDEX.get((logits.dtype, labels.dtype))
    if k is None:
        return None
    kernels = _KERNELS.functions()
    if kernels is None:
        return None
    shift, normalize = kernels[k], kernels[k + 1]
    x, flat = np.ascontiguousarray(logits), np.ascontiguousarray(labels)
    n, rows = x.shape[-1], flat.size
    if x.shape[:-1] != flat.shape:  # shapes the graph could not check: the NumPy path says what is wrong
        return None
    backprop, picked, totals = np.empty(x.shape, x.dtype), np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    bad = shift(data_address(x), data_address(flat), data_address(backprop), data_address(picked), rows, n)
    if bad >= 0:
        raise ValueError(f"Received a label value of {flat.reshape(-1)[bad]} which is outside the valid range of "
                         f"[0, {n}).")
    np.exp(backprop, out=backprop)
    normalize(data_address(backprop), data_address(flat), data_address(totals), rows, n)
    loss = np.log(totals)
    np.subtract(loss, picked, out=loss)
    return loss.reshape(labels.shape), backprop
