"""Lost ranks: collectives wait with a deadline, and a heartbeat tells which rank went silent.

``complete(requests, what)`` waits for mpi4py requests. Every rank sends a small heartbeat to every other
rank about every ``GPUGRAPH_HOROVOD_HEARTBEAT`` seconds (default 0.5) on a communicator of its own, from a
background thread, so a rank that computes for a long time still counts as alive. A wait fails with
``gpugraph.errors.UnavailableError`` (TF1's class for a lost peer) naming the rank(s) and the collective when

- a rank has been silent for ``min(timeout / 2, 10)`` seconds (it died or hangs with the interpreter locked),
- a rank has shut down before joining this collective, or
- the collective is still incomplete after ``GPUGRAPH_HOROVOD_TIMEOUT`` seconds (default 60; 0 waits for
  ever): the ranks that have not reached it are named.

The job cannot go on after that (a collective cannot be cancelled), so later collectives fail at once and
the process ends with MPI_Abort at exit instead of hanging in MPI_Finalize.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from typing import Any, Iterable

import numpy as np

from gpugraph import errors

ENV_TIMEOUT = "GPUGRAPH_HOROVOD_TIMEOUT"
ENV_HEARTBEAT = "GPUGRAPH_HOROVOD_HEARTBEAT"
DEFAULT_TIMEOUT = 60.0
DEFAULT_HEARTBEAT = 0.5
SILENT_LIMIT = 10.0  # a live rank's heartbeat thread is never this late
SPIN_SECONDS = 1.0
POLLS_PER_CHECK = 64  # Testall calls between liveness checks: the checks cost more than a poll
_TAG = 0x6767
_RUNNING, _FINISHED = 0, 1

_lock = threading.Lock()
_monitor: _Heartbeat | None = None
_started = False  # start() ran (a single-rank job has no monitor)
_fault: str | None = None
_retired: list[Any] = []  # stopped monitors: their MPI buffers must outlive any request still in flight


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0 seconds, got {text!r}")
    return value


def timeout() -> float:
    """GPUGRAPH_HOROVOD_TIMEOUT in seconds; 0 means no deadline for a stalled collective."""
    return _seconds(ENV_TIMEOUT, DEFAULT_TIMEOUT)


def _silent_limit(stall: float) -> float:
    """Silence long enough to call a rank lost: well inside the stall deadline, so a dead rank is told apart."""
    return min(stall / 2, SILENT_LIMIT) if stall > 0 else SILENT_LIMIT


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("gpugraph.horovod needs mpi4py and an MPI library: pip install 'gpugraph[mpi]'") from e
    return MPI


class _Heartbeat:
    """Heartbeats to and from every other rank of ``comm``; each says how many collectives its rank entered."""

    def __init__(self, comm: Any, interval: float) -> None:
        self.MPI = _mpi()
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.peers = [p for p in range(self.size) if p != self.rank]
        self.interval = interval
        self.entered = 0  # collectives this rank has started waiting for
        self.comm, self._dup = comm.Idup()  # nonblocking: a rank missing from the start cannot hang us here
        self.ready = False
        self.started = time.monotonic()
        self.last_seen = {p: self.started for p in self.peers}
        self.peer_entered = {p: 0 for p in self.peers}
        self.peer_finished: set[int] = set()
        self._recv_buf = {p: np.zeros(2, np.int64) for p in self.peers}
        self._send_buf = {p: np.zeros(2, np.int64) for p in self.peers}
        self._recv_req: dict[int, Any] = {}
        self._send_req: dict[int, Any] = {}
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.MPI.Query_thread() == self.MPI.THREAD_MULTIPLE:
            self._thread = threading.Thread(target=self._run, name="gpugraph-horovod-heartbeat", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # MPI torn down under us (abort, finalize): nothing left to watch
                return
            self._stop.wait(self.interval)

    def beat(self, status: int = _RUNNING) -> None:
        """Receive what has arrived, then send one heartbeat to each peer whose last one has gone out."""
        with self._state_lock:
            if not self.ready:
                if not self._dup.Test():
                    return
                self.ready = True
                now = time.monotonic()
                self.last_seen = {p: now for p in self.peers}
                for p in self.peers:
                    self._recv_req[p] = self.comm.Irecv(self._recv_buf[p], source=p, tag=_TAG)
            for p in self.peers:
                while self._recv_req[p].Test():  # drain: a late thread finds several heartbeats queued
                    entered, peer_status = (int(v) for v in self._recv_buf[p])
                    self.last_seen[p] = time.monotonic()
                    self.peer_entered[p] = max(self.peer_entered[p], entered)
                    if peer_status == _FINISHED:
                        self.peer_finished.add(p)
                    self._recv_req[p] = self.comm.Irecv(self._recv_buf[p], source=p, tag=_TAG)
            for p in self.peers:
                pending = self._send_req.get(p)
                if pending is None or pending.Test():
                    self._send_buf[p][:] = (self.entered, status)
                    self._send_req[p] = self.comm.Isend(self._send_buf[p], dest=p, tag=_TAG)

    def lost(self, silent_after: float) -> tuple[list[int], list[int]]:
        """(ranks silent for longer than ``silent_after`` s, ranks that shut down before this collective)."""
        if not self.ready:  # no lock: a stale read only delays the verdict by one check
            return [], []
        now = time.monotonic()
        gone = [p for p in self.peers if p in self.peer_finished and self.peer_entered[p] < self.entered]
        silent = [p for p in self.peers if p not in self.peer_finished and now - self.last_seen[p] > silent_after]
        return silent, gone

    def behind(self) -> list[int]:
        """Ranks whose last heartbeat says they have not reached this rank's current collective."""
        with self._state_lock:
            return [p for p in self.peers if self.peer_entered[p] < self.entered] if self.ready else []

    def stop(self) -> None:
        """Stop the thread and tell the peers this rank has finished."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * self.interval + 1)
        try:
            self.beat(_FINISHED)
        except Exception:
            pass
        self._retire()

    def _retire(self) -> None:
        """End the requests this monitor has posted: MPI writes into a receive buffer until the request is
        done, so a pending one whose buffer is freed corrupts the heap when a late heartbeat arrives."""
        with self._state_lock:
            for req in self._recv_req.values():
                try:
                    req.Cancel()
                    req.Wait()
                except Exception:
                    pass
            deadline = time.monotonic() + 1.0
            for req in self._send_req.values():
                while time.monotonic() < deadline and not req.Test():
                    time.sleep(0.001)
        _retired.append(self)  # buffers of anything still pending stay allocated for the process's life


def start(comm: Any = None) -> None:
    """Start the heartbeat on ``comm`` (default MPI.COMM_WORLD); idempotent. A collective call on all ranks."""
    global _monitor, _started
    with _lock:
        if _started:
            return
        _started = True
        MPI = _mpi()
        comm = MPI.COMM_WORLD if comm is None else comm
        if comm.Get_size() > 1:
            _monitor = _Heartbeat(comm, _seconds(ENV_HEARTBEAT, DEFAULT_HEARTBEAT) or DEFAULT_HEARTBEAT)
            atexit.register(stop)


def stop() -> None:
    """Stop the heartbeat (before MPI_Finalize); peers then know this rank left on purpose."""
    global _monitor
    with _lock:
        monitor, _monitor = _monitor, None
    if monitor is not None and _fault is None:
        monitor.stop()


def _ranks(ranks: list[int]) -> str:
    return ("rank " if len(ranks) == 1 else "ranks ") + ", ".join(str(r) for r in ranks)


def _abort_at_exit() -> None:
    """MPI_Finalize would wait for the lost rank; end the whole job instead, with a non-zero code."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.2)  # let mpiexec forward the output before the abort tears the job down
    _mpi().COMM_WORLD.Abort(1)


def _fail(message: str) -> None:
    global _fault
    with _lock:
        first = _fault is None
        if first:
            _fault = message
    if first:
        rank = _monitor.rank if _monitor is not None else _mpi().COMM_WORLD.Get_rank()
        print(f"gpugraph.horovod [rank {rank}]: {message}", file=sys.stderr, flush=True)
        atexit.register(_abort_at_exit)
    raise errors.UnavailableError(None, None, _fault or message)


def complete(requests: Iterable[Any], what: str) -> None:
    """Wait for mpi4py ``requests`` of the collective ``what``; UnavailableError naming lost ranks on a fault."""
    requests = list(requests)
    if _fault is not None:
        raise errors.UnavailableError(None, None, f"{what}: the job lost a rank earlier and cannot go on: {_fault}")
    MPI = _mpi()
    if not requests:
        return
    if not _started:
        start()
    monitor = _monitor
    if monitor is not None:
        monitor.entered += 1
        if monitor._thread is None:
            monitor.beat()  # no MPI_THREAD_MULTIPLE: heartbeats go out from here only
    stall = timeout()
    silent_after = _silent_limit(stall)
    began = time.monotonic()
    test = MPI.Request.Testall
    while True:
        try:
            for _ in range(POLLS_PER_CHECK):
                if test(requests):
                    return
        except MPI.Exception as e:
            _fail(f"{what} failed in MPI: {e}")
        now = time.monotonic()
        if monitor is not None:
            if monitor._thread is None and now - began > monitor.interval:
                monitor.beat()
            silent, gone = monitor.lost(silent_after)
            if silent:
                _fail(f"{_ranks(silent)} stopped responding (no heartbeat for {silent_after:g} s) while this rank "
                      f"waited in {what}; the process died or hangs")
            if gone:
                _fail(f"{_ranks(gone)} shut down before joining {what}")
        if stall > 0 and now - began > stall:
            behind = monitor.behind() if monitor is not None else []
            who = (f"{_ranks(behind)} did not join it" if behind
                   else "every rank has reached it; check that all ranks run the same collectives with the same "
                   "shapes and dtypes")
            _fail(f"{what} did not complete within {stall:g} s ({ENV_TIMEOUT}): {who}")
        # Poll as hard as Waitall while the collective is moving (MPI progresses only inside MPI calls), and
        # gently once a rank is clearly late; sleep(0) lets the heartbeat thread in.
        if now - began < SPIN_SECONDS:
            os.sched_yield()
        else:
            time.sleep(1e-3)
