"""The transport under the Horovod ops: host arrays through MPI, CuPy arrays through NCCL on the device.

Before each collective the ranks swap a small descriptor (kind, dtype, shape, a checksum of the op's name) over
MPI: a rank whose tensor does not match, or that runs its collectives in another order, gets an
InvalidArgumentError naming the op instead of a hang or garbage. The descriptors also give allgather its
per-rank first dimensions. Every wait goes through ``liveness.complete`` (deadline, lost-rank report).
"""

from __future__ import annotations

import array
import collections
import math
import sys
import threading
import zlib
from typing import Any

from gpugraph import errors
from gpugraph.horovod import basics

__all__ = ["allreduce", "allgather", "broadcast", "release", "CALLS", "REDUCE_OPS"]

# Collectives run, by kind ("allreduce", "allgather", "broadcast"): descriptor swaps are not counted.
CALLS: collections.Counter[str] = collections.Counter()

REDUCE_OPS = ("Sum", "Min", "Max", "Product")
_MAX_DIMS = 16
_KIND_CODES = {"allreduce": 1, "allgather": 2, "broadcast": 3}
# The descriptor: kind, root, dtype checksum, ndim, name checksum, then the dims (padded with -1).
_HEAD = 5

_NCCL_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
                "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "uint32": "NCCL_UINT32",
                "int64": "NCCL_INT64", "uint64": "NCCL_UINT64"}
_NCCL_OPS = {"Sum": "NCCL_SUM", "Min": "NCCL_MIN", "Max": "NCCL_MAX", "Product": "NCCL_PROD"}
_nccl_comms: dict[int, Any] = {}  # CUDA device index -> this process's NCCL communicator on it


def _complete(requests: list[Any], what: str) -> None:
    """Wait for MPI requests; liveness.complete gives up on a lost rank with an error that names it."""
    try:
        from gpugraph.horovod.liveness import complete
    except ImportError:  # the deadline-aware wait is optional: plain MPI waits otherwise
        basics.import_mpi().Request.Waitall(requests)
        return
    complete(requests, what)


def _checksum(text: str) -> int:
    return zlib.crc32(text.encode())


def _descriptor(kind: str, x: Any, what: str, root: int) -> array.array:
    shape = tuple(x.shape)
    if len(shape) > _MAX_DIMS:  # deep tensors: compare a checksum of the shape instead of the dims
        shape = (_checksum(repr(shape)),)
    head = [_KIND_CODES[kind], root, _checksum(x.dtype.str), len(x.shape), _checksum(what)]
    return array.array("q", head + list(shape) + [-1] * (_MAX_DIMS - len(shape)))


def _swap_descriptors(kind: str, x: Any, what: str, root: int = 0) -> list[tuple[int, ...]]:
    """Every rank's descriptor of this collective; raises when the ranks disagree on what they run."""
    comm = basics.mpi_comm()
    mine = _descriptor(kind, x, what, root)
    width = len(mine)
    everyone = array.array("q", [0]) * (width * comm.Get_size())
    _complete([comm.Iallgather(mine, everyone)], what)
    rows = [tuple(everyone[r * width:(r + 1) * width]) for r in range(comm.Get_size())]
    _check_agreement(kind, rows, what)
    return rows


def _shape_of(row: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(row[_HEAD:_HEAD + min(row[3], _MAX_DIMS)])


def _check_agreement(kind: str, rows: list[tuple[int, ...]], what: str) -> None:
    first = rows[0]
    for r, row in enumerate(rows):
        if row[:_HEAD] == first[:_HEAD] and (kind == "allgather" or row == first):
            continue
        if row[0] != first[0] or row[4] != first[4]:
            problem = ("the ranks ran different collectives here (each rank must run the same Horovod ops in the "
                       "same order)")
        elif row[1] != first[1]:
            problem = f"Mismatched {kind} root ranks: rank 0 gave root {first[1]}, rank {r} gave {row[1]}"
        elif row[2] != first[2]:
            problem = f"Mismatched data types: rank 0 and rank {r} sent tensors of different dtypes"
        elif row[3] != first[3]:
            problem = (f"Mismatched {kind} tensor ranks: rank 0 sent a tensor of rank {first[3]}, rank {r} one "
                       f"of rank {row[3]}")
        else:
            problem = (f"Mismatched {kind} tensor shapes: rank 0 sent a tensor of shape {list(_shape_of(first))}, "
                       f"but rank {r} sent a tensor of shape {list(_shape_of(row))}")
        raise errors.InvalidArgumentError(None, None, f"{what}: {problem}.")
    if kind == "allgather":
        rest = {_shape_of(row)[1:] for row in rows}
        if first[3] == 0:
            raise errors.InvalidArgumentError(None, None, f"{what}: allgather needs tensors of rank >= 1, got a "
                                                          "scalar.")
        if len(rest) > 1:
            raise errors.InvalidArgumentError(
                None, None, f"{what}: Mismatched allgather tensor shapes: all dimensions but the first must agree, "
                            f"got {sorted(list(s) for s in rest)}.")


def _is_device_array(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "cupy"


def _mpi_op(reduce_op: str) -> Any:
    MPI = basics.import_mpi()  # noqa: N806
    return {"Sum": MPI.SUM, "Min": MPI.MIN, "Max": MPI.MAX, "Product": MPI.PROD}[reduce_op]


def allreduce(x: Any, xp: Any, *, reduce_op: str, what: str) -> Any:
    """The elementwise reduction of ``x`` over every rank (same shape and dtype on each)."""
    _swap_descriptors("allreduce", x, what)
    CALLS["allreduce"] += 1
    src = xp.ascontiguousarray(x)
    if _is_device_array(x):
        out = xp.empty_like(src)
        comm, nccl, stream = _nccl(what)
        _nccl_call(what, comm.allReduce, src.data.ptr, out.data.ptr, src.size, _nccl_dtype(nccl, x, what),
                   getattr(nccl, _NCCL_OPS[reduce_op]), stream)
        return out
    out = _host_output(what, src, xp)
    comm = basics.mpi_comm()
    _complete([comm.Iallreduce(src, out, op=_mpi_op(reduce_op))], what)
    return out


# The last host result of each collective op: reused as the next run's output once nothing else holds it.
# A fresh 64 MiB array costs its page faults on every run (a third of a 64 MiB allreduce on 2 ranks).
_spare_outputs: dict[str, Any] = {}
_spare_lock = threading.Lock()


def _host_output(what: str, like: Any, xp: Any) -> Any:
    with _spare_lock:
        spare = _spare_outputs.pop(what, None)
    # references: ``spare`` and getrefcount's argument only, so no caller, fetch or view holds it
    if spare is None or spare.shape != like.shape or spare.dtype != like.dtype or sys.getrefcount(spare) > 2:
        spare = xp.empty_like(like)
    with _spare_lock:
        _spare_outputs[what] = spare
    return spare


def allgather(x: Any, xp: Any, *, what: str) -> Any:
    """The ranks' ``x`` concatenated on axis 0 in rank order (first dimensions may differ)."""
    rows = _swap_descriptors("allgather", x, what)
    CALLS["allgather"] += 1
    firsts = [_shape_of(row)[0] for row in rows]
    row_size = math.prod(tuple(x.shape)[1:])
    src = xp.ascontiguousarray(x)
    out = xp.empty((sum(firsts),) + tuple(x.shape)[1:], dtype=x.dtype)
    counts = [d * row_size for d in firsts]
    displs = [sum(counts[:r]) for r in range(len(counts))]
    if _is_device_array(x):
        comm, nccl, stream = _nccl(what)
        kind = _nccl_dtype(nccl, x, what)
        flat, itemsize = out.reshape(-1), x.dtype.itemsize
        nccl.groupStart()  # one broadcast per rank into its slice of the output, launched together
        try:
            for r, (count, displ) in enumerate(zip(counts, displs)):
                _nccl_call(what, comm.broadcast, src.data.ptr, flat.data.ptr + displ * itemsize, count, kind, r,
                           stream)
        finally:
            nccl.groupEnd()
        return out
    comm = basics.mpi_comm()
    _complete([comm.Iallgatherv(src, [out, (counts, displs)])], what)
    return out


def broadcast(x: Any, xp: Any, *, root_rank: int, what: str) -> Any:
    """Rank ``root_rank``'s ``x`` on every rank (same shape and dtype on each)."""
    comm = basics.mpi_comm()
    if not 0 <= root_rank < comm.Get_size():
        raise errors.InvalidArgumentError(None, None, f"{what}: root_rank {root_rank} is not a rank: there are "
                                                      f"{comm.Get_size()} ranks.")
    _swap_descriptors("broadcast", x, what, root_rank)
    CALLS["broadcast"] += 1
    out = xp.array(x, copy=True, order="C")
    if _is_device_array(x):
        nccl_comm, nccl, stream = _nccl(what)
        _nccl_call(what, nccl_comm.broadcast, out.data.ptr, out.data.ptr, out.size, _nccl_dtype(nccl, x, what),
                   root_rank, stream)
        return out
    _complete([comm.Ibcast(out, root=root_rank)], what)
    return out


# --- NCCL: one communicator per process and device, its id made by rank 0 and sent over MPI ---
def _nccl(what: str) -> tuple[Any, Any, int]:
    """(communicator for the current device, cupy.cuda.nccl, the current stream's handle)."""
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as e:
        raise errors.UnimplementedError(None, None, f"{what}: GPU tensors are reduced with NCCL, which this CuPy "
                                                    f"lacks ({e}); place the op on the CPU") from e
    device = cupy.cuda.Device().id
    comm = _nccl_comms.setdefault(device, None)
    if comm is None:
        comm = _nccl_comms[device] = _new_nccl_comm(nccl, what)
    return comm, nccl, cupy.cuda.get_current_stream().ptr


def _new_nccl_comm(nccl: Any, what: str) -> Any:
    mpi = basics.mpi_comm()
    uid = array.array("b", nccl.get_unique_id() if mpi.Get_rank() == 0 else [0] * nccl.NCCL_UNIQUE_ID_BYTES)
    _complete([mpi.Ibcast(uid, root=0)], what)
    try:
        return nccl.NcclCommunicator(mpi.Get_size(), tuple(uid), mpi.Get_rank())
    except nccl.NcclError as e:
        raise errors.UnavailableError(None, None, f"{what}: NCCL could not start its communicator: {e}") from e


def _nccl_dtype(nccl: Any, x: Any, what: str) -> int:
    name = _NCCL_DTYPES.setdefault(x.dtype.name, "")
    if not name:
        del _NCCL_DTYPES[x.dtype.name]
        raise errors.InvalidArgumentError(None, None, f"{what}: NCCL cannot carry tensors of dtype {x.dtype.name}.")
    return getattr(nccl, name)


def _nccl_call(what: str, fn: Any, *args: Any) -> None:
    from cupy.cuda import nccl

    try:
        fn(*args)
    except nccl.NcclError as e:
        raise errors.UnavailableError(None, None, f"{what}: NCCL failed: {e}") from e


def release() -> None:
    """Drop this process's NCCL communicators and spare outputs (hvd.shutdown)."""
    with _spare_lock:
        _spare_outputs.clear()
    for comm in _nccl_comms.values():
        if comm is not None:
            comm.destroy()
    _nccl_comms.clear()
