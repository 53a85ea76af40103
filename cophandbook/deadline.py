"""A time limit for work on text from contributors, so one hostile file cannot stall a build.

Markdown parsing is linear for real writing, but some inputs (thousands of unclosed
`<![CDATA[`, say) take markdown-it minutes. The limit is a wall-clock timer (SIGALRM), so
it applies on the main thread of a process only: builds and their workers. The preview
server's builds, on another thread, run without it.
"""

from __future__ import annotations

import signal
import threading
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
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
