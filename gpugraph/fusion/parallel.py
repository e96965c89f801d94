"""Compiled host loops on several threads: ``intra_op_parallelism_threads`` for fused regions and optimizer
updates.

A loop over at least ``PARALLEL_ELEMENTS`` elements is cut into chunks that the calling thread and the
pool's workers claim one at a time (an atomic counter), so the values are the same bits on any number of
threads (an element is computed by the same code wherever it runs). The caller never waits for a worker
that has not started: a worker woken late finds the chunks taken, and the call returns once every chunk
claimed is done. A worker descheduled in the middle of a chunk (another process wanting its core) does
hold the call up, as a BLAS product's threads do: ``intra_op_parallelism_threads=1`` on a busy machine.
Workers sleep between loops (no spinning), so they never take a core from a BLAS product's own threads.
One loop at a time uses the pool; a loop started while another runs (sessions in several threads) runs
on its caller's thread alone.

The pool is C++ built by the fused regions' compiler (gpugraph.fusion.compiled) into its own library;
each loop library receives its entry point as an argument. After ``fork`` the child starts with no
workers.
"""

from __future__ import annotations

import ctypes
import threading

from gpugraph.ops import host_blas

__all__ = ["PARALLEL_ELEMENTS", "POOL_SOURCE", "chunk_elements", "loop_threads", "pool_entry", "split"]

# Below this many elements one thread (bench/loop_threads.py, in RESULTS; a bias + ReLU on the 2-core
# machine, whose second core is sometimes another tenant's): split, 2^17 and 2^18 elements ran up to 1.3x
# slower, 2^19 1.2x faster in most runs and 1.1x slower in one, and from 2^20 1.2x to 1.4x faster in most
# (one run: 5% slower). After a product, OpenBLAS's own worker keeps spinning (about 0.1 s): with the
# pool's worker awake, three threads run on two cores, and the caller shares its core with the spinner
# (instrumented: an MLP's Adam, 270k values, split into 9 chunks, had the worker run 7.8 of them and the
# step slower than on one thread). The data also sits in the caller's cache.
PARALLEL_ELEMENTS = 1 << 20
MIN_CHUNK = 1 << 14  # elements a chunk has at least (claiming one costs an atomic add)
MAX_CHUNK = 1 << 18  # and at most: a worker preempted mid-chunk holds the call up by one chunk's time

# typedef shared by the pool and the loops: run(ctx, begin, end) over elements [begin, end)
PARALLEL_TYPEDEF = """#ifndef GPUGRAPH_PARALLEL_FOR_T
#define GPUGRAPH_PARALLEL_FOR_T
typedef void (*gpugraph_range_t)(const void*, long long, long long);
typedef void (*gpugraph_parallel_for_t)(gpugraph_range_t, const void*, long long, long long, int);
#endif
"""

POOL_SOURCE = PARALLEL_TYPEDEF + r"""
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>
#include <pthread.h>
#include <vector>
#ifdef __linux__
#include <sched.h>
#endif

namespace gpugraph_pool {
// The job being run: its chunks are claimed through `claim`, whose high 32 bits are the job's generation
// (a worker still holding an older job's copy cannot claim a newer job's chunk) and low 32 bits the next
// chunk's index.
struct Job { gpugraph_range_t run; const void* ctx; long long n, chunk, chunks; unsigned generation; };
std::mutex* mu = new std::mutex;                   // guards `job` and `workers`
std::condition_variable* wake = new std::condition_variable;
std::mutex* busy = new std::mutex;                 // held by the one caller using the pool
Job job{nullptr, nullptr, 0, 0, 0, 0};
int workers = 0;
std::vector<pthread_t>* handles = new std::vector<pthread_t>;  // the workers, to set where they may run
int kept_off = -1;                                 // the CPU the workers were last kept off (-1: none)
std::atomic<unsigned long long> claim{0};
std::atomic<long long> done{0};

// Claims and runs chunks of `j` until none is left; returns how many this thread ran.
long long work(const Job& j) {
  long long ran = 0;
  for (;;) {
    unsigned long long seen = claim.load(std::memory_order_acquire);
    for (;;) {
      if ((unsigned)(seen >> 32) != j.generation || (long long)(seen & 0xffffffffULL) >= j.chunks) return ran;
      if (claim.compare_exchange_weak(seen, seen + 1, std::memory_order_acq_rel)) break;
    }
    long long c = (long long)(seen & 0xffffffffULL);
    long long begin = c * j.chunk, end = begin + j.chunk < j.n ? begin + j.chunk : j.n;
    j.run(j.ctx, begin, end);
    done.fetch_add(1, std::memory_order_acq_rel);
    ++ran;
  }
}

void worker() {
  unsigned seen = 0;
  for (;;) {
    Job j;
    {
      std::unique_lock<std::mutex> lock(*mu);
      wake->wait(lock, [&] { return job.generation != seen; });
      j = job;
      seen = j.generation;
    }
    work(j);
  }
}

// Workers may run on any CPU the process may use but the caller's. A worker woken on the caller's CPU
// takes it from the caller (the scheduler favours the thread just woken), and the caller waits for a core:
// after a BLAS product the other one is held by OpenBLAS's spinning thread. Measured on 2 cores, 1M-element
// loops after products: the worker started 0.2 ms late and ran 8 of 9 chunks while the caller waited.
void keep_off_callers_cpu() {
#ifdef __linux__
  int cpu = sched_getcpu();
  if (cpu < 0 || cpu == kept_off || handles->empty()) return;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2)
    return;
  CPU_CLR(cpu, &allowed);
  for (pthread_t h : *handles) pthread_setaffinity_np(h, sizeof allowed, &allowed);
  kept_off = cpu;
#endif
}

void after_fork_in_child() {  // the workers are not in the child; locks held by them at the fork are not either
  mu = new std::mutex;
  wake = new std::condition_variable;
  busy = new std::mutex;
  workers = 0;
  handles = new std::vector<pthread_t>;
  kept_off = -1;
}

std::once_flag registered;
}  // namespace gpugraph_pool

extern "C" void gpugraph_parallel_for(gpugraph_range_t run, const void* ctx, long long n, long long chunk,
                                      int threads) {
  using namespace gpugraph_pool;
  long long chunks = (n + chunk - 1) / chunk;
  if (threads <= 1 || chunks <= 1 || chunks > 0xffffffffLL || !busy->try_lock()) {
    run(ctx, 0, n);
    return;
  }
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, after_fork_in_child); });
  Job j;
  {
    std::lock_guard<std::mutex> lock(*mu);
    while (workers < threads - 1) {
      try {
        std::thread t(worker);
        handles->push_back(t.native_handle());
        t.detach();
        kept_off = -1;  // the new worker may run anywhere yet
      } catch (...) {  // no thread to be had: the caller's own does the work
        break;
      }
      ++workers;
    }
    keep_off_callers_cpu();
    j = Job{run, ctx, n, chunk, chunks, job.generation + 1};
    done.store(0, std::memory_order_relaxed);
    claim.store((unsigned long long)j.generation << 32, std::memory_order_release);
    job = j;
  }
  wake->notify_all();
  work(j);
  while (done.load(std::memory_order_acquire) < chunks) {  // only chunks a worker is running now
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }
  busy->unlock();
}
"""

_lock = threading.Lock()
_entry: int | None = None
_tried = False


def pool_entry() -> int | None:
    """The address of the pool's ``gpugraph_parallel_for`` (built on first use), or None without a
    compiler or where it fails: loops then run on their caller's thread."""
    global _entry, _tried
    if _tried:
        return _entry
    with _lock:
        if not _tried:
            from gpugraph.fusion import compiled

            try:
                (function,) = compiled.load([(POOL_SOURCE, "gpugraph_parallel_for")])
                _entry = ctypes.cast(function, ctypes.c_void_p).value
            except (RuntimeError, OSError):
                _entry = None
            _tried = True
    return _entry


def loop_threads(elements: int) -> int:
    """Threads a compiled loop over ``elements`` runs on: the running session's intra-op count (every usable
    core by default), or one for a loop under ``PARALLEL_ELEMENTS``."""
    if elements < PARALLEL_ELEMENTS:
        return 1
    return host_blas.fixed_threads()


def split(elements: int, row: int = 1) -> tuple[int, int, int] | None:
    """(pool entry, chunk, threads): the last arguments of a loop's ``_threads`` entry, for a loop over
    ``elements`` in rows of ``row`` (chunks start at a row's start); None where it runs on its caller's
    thread (under ``PARALLEL_ELEMENTS``, one intra-op thread, or no pool)."""
    threads = loop_threads(elements)
    pool = pool_entry() if threads > 1 else None
    if pool is None:
        return None
    return pool, chunk_elements(elements, threads, row), threads


def chunk_elements(elements: int, threads: int, row: int = 1) -> int:
    """Elements per chunk: about four chunks a thread, within [MIN_CHUNK, MAX_CHUNK], a whole number of
    ``row``s (a loop reading a bias at the column starts each chunk at a row's start)."""
    chunk = min(MAX_CHUNK, max(MIN_CHUNK, elements // (4 * max(1, threads))))
    return max(row, chunk // row * row) if row > 1 else chunk
