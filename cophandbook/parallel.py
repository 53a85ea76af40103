"""Run a pure function over a list in chunks, on every core.

Workers are forked once the caller holds everything they need in memory (the parsed
handbook, the compiled templates), so nothing goes to them but the bounds of their chunk;
only results come back, pickled. A chunk per task rather than an item keeps that traffic and
the scheduling small. Small lists, single-core machines, platforms without fork, and callers
with other threads running (the preview server; forking those is unsafe) run in-process.
"""

from __future__ import annotations

import ctypes
import gc
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT_THRESHOLDS = gc.get_threshold()  # before a build changes them
MIN_ITEMS = 200  # below this, starting workers costs more than it saves
CHUNKS_PER_WORKER = 4  # enough to even out uneven chunks, few enough to stay cheap

# What the forked workers run; set only while a pool is open.
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


def _start_worker(parent: int) -> None:
    _die_with(parent)
    # The build collects rarely (its objects live until it ends); a worker's garbage
    # does not, and the inherited objects are frozen, so collecting costs it little.
    gc.set_threshold(*_DEFAULT_THRESHOLDS)


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _work is not None
    return _work(_items[bounds[0]:bounds[1]])


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
    try:
        results: list[R] = []
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(os.getpid(),)) as pool:
            for part in pool.map(_run_chunk, bounds):
                results.extend(part)
                if progress:
                    progress(len(results))
        return results
    finally:
        gc.unfreeze()
        _work, _items = None, ()
