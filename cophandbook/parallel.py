"""Run a pure function over a list in chunks, on every core.

Each chunk is run by a process forked for it once the caller holds everything the work
needs in memory (the parsed handbook, the compiled templates), so nothing goes to it but
the bounds of its chunk; only results come back, pickled. A chunk per task rather than an
item keeps that traffic and the scheduling small.

A process per chunk, not a pool of long-lived workers: a forked process shares its
parent's memory only until it writes to it, and CPython writes to every object it touches
(reference counts), so a worker ends up with a private copy of all it has read. One that
renders a small share of the pages and exits has copied only what that share reads, so a
large build's peak memory is much lower (docs/benchmarks.md).

Small lists, single-core machines, platforms without fork, and callers with other threads
running (the preview server; forking those is unsafe) run in-process.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import multiprocessing
import os
import pickle
import selectors
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT_THRESHOLDS = gc.get_threshold()  # before a build changes them
MIN_ITEMS = 200  # below this, starting workers costs more than it saves
CHUNKS_PER_WORKER = 16  # small chunks copy less and even out; each costs a fork

# What the forked workers run; set only while they run.
_work: Callable[[Sequence[Any]], list[Any]] | None = None
_items: Sequence[Any] = ()


def worker_count() -> int:
    """COPHANDBOOK_WORKERS if set (1 turns workers off), else the usable cores."""
    wanted = os.environ.get("COPHANDBOOK_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _die_with(parent: int) -> None:
    """Make this worker end when the build that forked it does (`kill -9` included), rather
    than render on for nobody, into a staging folder the next build may be using."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: such a worker ends when its chunk does
            pass
    if os.getppid() != parent:  # the build ended before the signal was asked for
        os._exit(1)


class WorkerFailed(RuntimeError):
    """A worker process ended without sending its chunk's results (killed, out of memory)."""


def _start_worker(parent: int) -> None:
    _die_with(parent)
    # The build collects rarely (its objects live until it ends); a worker's garbage
    # does not, and the inherited objects are frozen, so collecting costs it little.
    gc.set_threshold(*_DEFAULT_THRESHOLDS)


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _work is not None
    return _work(_items[bounds[0]:bounds[1]])


def _results_of(bounds: tuple[int, int]) -> bytes:
    """What a worker sends back: its chunk's results, or the error that stopped it."""
    try:
        return pickle.dumps((True, _run_chunk(bounds)), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # the parent raises it; the worker only reports it
        text = "".join(traceback.format_exception(exc))
        try:
            return pickle.dumps((False, (exc, text)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # an error that cannot be pickled is sent as its text
            return pickle.dumps((False, (RuntimeError(text), text)), pickle.HIGHEST_PROTOCOL)


@dataclass
class _Worker:
    index: int  # of its chunk
    pid: int
    pipe: int  # the reading end: the worker writes its results and exits
    received: list[bytes] = field(default_factory=list)


def _fork(index: int, bounds: tuple[int, int]) -> _Worker:
    parent = os.getpid()
    reading, writing = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        raise
    if pid == 0:  # the worker: it never returns into the caller's code
        status = 1
        try:
            os.close(reading)
            _start_worker(parent)
            with os.fdopen(writing, "wb") as pipe:
                pipe.write(_results_of(bounds))
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flushing of the parent's buffers
    os.close(writing)
    return _Worker(index, pid, reading)


def _finish(worker: _Worker) -> list[Any]:
    """The results a worker sent, once its pipe is closed."""
    os.close(worker.pipe)
    _, status = os.waitpid(worker.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:  # it exits 0 once all it had to send is sent, its own errors included
        how = f"by signal {-code}" if code < 0 else f"with status {code}"
        raise WorkerFailed(f"a worker process ended {how} before it finished its chunk "
                           "(out of memory?)")
    ok, value = pickle.loads(b"".join(worker.received))
    if ok:
        return value  # type: ignore[no-any-return]
    error, text = value
    error.add_note(f"in a worker process:\n{text}")
    raise error


def _run_forked(bounds: list[tuple[int, int]], workers: int,
                progress: Callable[[int], None] | None) -> list[Any]:
    parts: list[list[Any]] = [[] for _ in bounds]
    waiting = deque(enumerate(bounds))
    running: dict[int, _Worker] = {}
    done = 0
    with selectors.DefaultSelector() as selector:
        try:
            while waiting or running:
                while waiting and len(running) < workers:
                    index, chunk = waiting.popleft()
                    try:
                        worker = _fork(index, chunk)
                    except OSError:  # no process to be had (a limit, memory): work here
                        parts[index] = _run_chunk(chunk)
                        done += len(parts[index])
                        if progress:
                            progress(done)
                        continue
                    running[worker.pipe] = worker
                    selector.register(worker.pipe, selectors.EVENT_READ, worker)
                if not running:
                    continue
                for key, _ in selector.select():
                    worker = key.data
                    data = os.read(worker.pipe, 1 << 20)
                    if data:
                        worker.received.append(data)
                        continue
                    selector.unregister(worker.pipe)
                    del running[worker.pipe]
                    parts[worker.index] = _finish(worker)
                    done += len(parts[worker.index])
                    if progress:
                        progress(done)
        finally:  # an error, or an interrupt: no worker outlives its build
            for worker in running.values():
                with contextlib.suppress(OSError):
                    os.kill(worker.pid, signal.SIGKILL)
                    os.waitpid(worker.pid, 0)
                with contextlib.suppress(OSError):
                    os.close(worker.pipe)
    return [result for part in parts for result in part]


def _release_free_memory() -> None:
    """Hand memory freed by earlier stages back to the system before forking, so that
    workers do not start out sharing, and counting, pages that hold nothing (glibc)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


def map_chunks(work: Callable[[Sequence[T]], list[R]], items: Sequence[T],
               progress: Callable[[int], None] | None = None) -> list[R]:
    """`work(chunk)` for chunks of `items`, results in order; `progress(done)` after each."""
    global _work, _items
    workers = worker_count()
    if (workers < 2 or len(items) < MIN_ITEMS or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        results = work(items)
        if progress:
            progress(len(items))
        return results
    size = math.ceil(len(items) / (workers * CHUNKS_PER_WORKER))
    bounds = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _work, _items = work, items
    # Frozen objects are left out of collections: a worker that collects its own garbage
    # then never writes to the objects it shares with the build, so they stay shared
    # rather than copied into every worker.
    gc.freeze()
    _release_free_memory()
    try:
        return _run_forked(bounds, workers, progress)
    finally:
        gc.unfreeze()
        _work, _items = None, ()
