"""Chunks run in processes forked for them: results in order, errors raised, none left over."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cophandbook import parallel
from cophandbook.parallel import MIN_ITEMS, WorkerFailed, map_chunks


@pytest.fixture(autouse=True)
def two_workers(monkeypatch):
    monkeypatch.setenv("COPHANDBOOK_WORKERS", "2")
    # Other tests of the session leave threads running (a browser test's HTTP server), and
    # map_chunks then runs in-process; these tests are about the workers, which touch
    # nothing those threads hold.
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)


def children() -> set[int]:
    """This process's children, reaped or not (other tests' may run: a browser)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@pytest.fixture(autouse=True)
def no_worker_left_behind() -> Iterator[None]:
    before = children()
    yield
    assert children() == before


touched: list[int] = []  # what the chunks before wrote, as a worker would see it


def pid_and_touched(chunk: Sequence[int]) -> list[tuple[int, int, int]]:
    seen = len(touched)
    touched.extend(chunk)
    return [(item * 2, os.getpid(), seen) for item in chunk]


def test_results_come_back_in_order_from_a_process_per_chunk():
    chunks = 2 * parallel.CHUNKS_PER_WORKER
    items = list(range(chunks * 40))
    counts: list[int] = []
    results = map_chunks(pid_and_touched, items, counts.append)
    assert [doubled for doubled, _, _ in results] == [item * 2 for item in items]
    pids = [pid for _, pid, _ in results]
    assert len(set(pids)) == chunks and os.getpid() not in pids
    # Each process ran one chunk of consecutive items, from the memory of the build as it
    # was: what an earlier chunk wrote is not there.
    assert all(seen == 0 for _, _, seen in results)
    runs = [pid for i, pid in enumerate(pids) if i == 0 or pids[i - 1] != pid]
    assert len(runs) == chunks
    assert touched == []
    assert counts == sorted(counts) and counts[-1] == len(items) and len(counts) == chunks


def test_small_lists_and_one_worker_run_in_process(monkeypatch):
    assert {pid for _, pid, _ in map_chunks(pid_and_touched, [1, 2, 3])} == {os.getpid()}
    monkeypatch.setenv("COPHANDBOOK_WORKERS", "1")
    results = map_chunks(pid_and_touched, list(range(MIN_ITEMS * 2)))
    assert {pid for _, pid, _ in results} == {os.getpid()}
    touched.clear()


def fail_on_item_300(chunk: Sequence[int]) -> list[int]:
    if 300 in chunk:
        raise KeyError("item 300")
    return list(chunk)


def test_an_error_in_a_worker_is_raised_with_the_worker_s_traceback():
    with pytest.raises(KeyError, match="item 300") as raised:
        map_chunks(fail_on_item_300, list(range(MIN_ITEMS * 3)))
    assert any("fail_on_item_300" in note for note in raised.value.__notes__)


def killed_on_item_300(chunk: Sequence[int]) -> list[int]:
    if 300 in chunk:
        os.kill(os.getpid(), signal.SIGKILL)
    return list(chunk)


def test_a_worker_killed_midway_fails_the_map_and_leaves_no_process():
    with pytest.raises(WorkerFailed, match="signal 9"):
        map_chunks(killed_on_item_300, list(range(MIN_ITEMS * 3)))


def large_for_300(chunk: Sequence[int]) -> list[str]:
    return ["x" * 50_000_000] if 300 in chunk else []


def test_a_worker_killed_while_sending_its_results_fails_the_map(monkeypatch):
    results_of = parallel._results_of

    def killed_once_pickled(bounds: tuple[int, int]) -> bytes:
        data = results_of(bounds)
        if len(data) > 1_000_000:  # ends the worker a millisecond into sending 50 MB
            signal.setitimer(signal.ITIMER_REAL, 0.001)
        return data

    monkeypatch.setattr(parallel, "_results_of", killed_once_pickled)
    with pytest.raises(WorkerFailed, match=f"signal {int(signal.SIGALRM)}"):
        map_chunks(large_for_300, list(range(MIN_ITEMS * 3)))


def unpicklable(chunk: Sequence[int]) -> list[object]:
    return [lambda item=item: item for item in chunk]


def test_a_result_that_cannot_travel_back_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="pickle"):
        map_chunks(unpicklable, list(range(MIN_ITEMS * 2)))


def large(chunk: Sequence[int]) -> list[str]:
    return ["x" * 100_000 for _ in chunk]


def test_results_larger_than_a_pipe_holds_arrive_whole():
    results = map_chunks(large, list(range(MIN_ITEMS * 2)))
    assert len(results) == MIN_ITEMS * 2 and all(len(r) == 100_000 for r in results)


def test_chunks_are_worked_in_the_build_when_no_process_can_be_forked(monkeypatch):
    forks = 0
    real_fork = os.fork

    def fork_twice() -> int:  # then the system refuses, as at a process limit
        nonlocal forks
        forks += 1
        if forks > 2:
            raise BlockingIOError("Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(parallel.os, "fork", fork_twice)
    items = list(range(MIN_ITEMS * 4))
    results = map_chunks(pid_and_touched, items)
    assert [doubled for doubled, _, _ in results] == [item * 2 for item in items]
    pids = {pid for _, pid, _ in results}
    assert os.getpid() in pids and len(pids) == 3  # two workers, then the build itself
    touched.clear()
