"""Stage 5: the Pagefind search index of a finished build folder.

Pagefind reads the pages as they will be published: only elements inside
`data-pagefind-body` are indexed (the templates mark the main content of each page worth
finding), and the filters and metadata come from `data-pagefind-filter` and
`data-pagefind-meta` attributes the templates write. The index goes to `pagefind/` inside
the folder, before the folder is published, so a failed index leaves the previous site.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from cophandbook.urls import SEARCH_DIR

_ATTEMPTS = 3
_GONE = "Pagefind's process ended before it finished"
T = TypeVar("T")


class SearchError(Exception):
    """The index could not be built; the message says why."""


def index_folder(folder: Path, language: str, output: Path | None = None) -> int:
    """Index the HTML pages under `folder` into `output` (default `folder/pagefind/`); the
    number of pages indexed. One call to Pagefind's service for the whole folder: adding
    pages one at a time costs a round trip (about 0.1 s) each."""
    try:
        from pagefind.service import PagefindService
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SearchError(f"Pagefind is not installed ({exc}); pip install 'pagefind[bin]'") \
            from exc
    output = output or folder / SEARCH_DIR

    async def run() -> int:
        try:
            async with PagefindService() as service:
                listening = getattr(service, "_poll_task", None)
                index = await _unless_gone(listening,
                                           service.create_index({"force_language": language}))
                result = await _unless_gone(listening, index.add_directory(str(folder)))
                await _unless_gone(listening, index.write_files(output_path=str(output)))
        except asyncio.CancelledError:  # the client, closing, finds its last request dropped
            raise SearchError(_GONE) from None
        return int(result.get("page_count", 0))

    # Now and then (about one run in 25 here) Pagefind 1.5 leaves some of the files it
    # reported written empty; such an index would fail in every browser, so try again.
    for _attempt in range(_ATTEMPTS):
        shutil.rmtree(output, ignore_errors=True)
        try:
            pages = _run_apart(run)
        except Exception as exc:  # the service reports its failures as bare exceptions
            raise SearchError(f"Pagefind could not index the site: {exc}") from exc
        empty = sorted(p.relative_to(folder).as_posix() for p in output.rglob("*")
                       if p.is_file() and p.stat().st_size == 0)
        if output.is_dir() and not empty:
            return pages
    raise SearchError(f"Pagefind wrote an incomplete index {_ATTEMPTS} times "
                      f"(empty: {', '.join(empty[:3])})")



async def _unless_gone(listening: asyncio.Future[Any] | None, work: Awaitable[T]) -> T:
    """`work`, unless Pagefind's process ends first (killed for lack of memory, say): its
    client listens for answers in a task that then ends, and would wait for them forever."""
    task = asyncio.ensure_future(work)
    if listening is None:  # a version of the client without that task: nothing to watch
        return await task
    await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    if not listening.cancelled():
        listening.exception()  # seen here: not logged as never retrieved when collected
    raise SearchError(_GONE)


def _run_apart(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a coroutine on its own event loop in its own thread: the caller may already be
    inside one (a test driving a browser, an embedding application)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()
