"""Time limits for work on text from contributors, so hostile files cannot stall a build.

Markdown parsing is linear for real writing, but some inputs (thousands of unclosed
`<![CDATA[`, say) take markdown-it minutes. Each body has a limit of its own (`time_limit`),
and all the bodies a build renders share a budget (`budget`): files each slow but under
their own limit would otherwise add up to a build many times as long as it should be,
without a word.

A body's limit is a wall-clock timer (SIGALRM), so it applies on the main thread of a
process only: builds and their workers. The preview server's builds, on another thread,
run without it. The budget is a point in time (the system's monotonic clock, the same in
every process), so it holds for a build and all the workers it forks together; where no
timer can interrupt a body, it is checked between bodies only.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TimeUp(BaseException):
    """Raised inside the limited work. A BaseException, so no `except Exception` in a
    library swallows it."""


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise TimeUp


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeUp in the block once `seconds` have passed (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _stop)
    # A timer of zero would be no timer at all: a budget already spent stops at once.
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Per thread: the preview builds on a thread of its own. A forked worker keeps the value of
# the thread that forked it.
_budget = threading.local()


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Share `seconds` among the work in the block, on this thread and in the processes it
    forks: `left` says what remains. A budget within another ends by the outer one's end."""
    outer: float | None = getattr(_budget, "ends", None)
    ends = time.monotonic() + seconds
    _budget.ends = ends if outer is None else min(outer, ends)
    try:
        yield
    finally:
        _budget.ends = outer


def left() -> float | None:
    """Seconds left of the budget the caller runs in (negative once spent); None outside
    one."""
    ends: float | None = getattr(_budget, "ends", None)
    return None if ends is None else ends - time.monotonic()
