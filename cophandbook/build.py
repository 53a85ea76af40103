"""`build`: the handbook into its output folder, through the pipeline (pipeline.py).

Around the pipeline's one driver, `build` does what only it does: it takes the output's
lock, trusts the record beside the output only when git does not track it, does nothing
when no input changed since that record was written, and writes stage 5 through a
`Staging` (output.py), reporting in a user's words what the file system refused.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from cophandbook.caches import Caches
from cophandbook.diagnostics import Diagnostic, Diagnostics, Location
from cophandbook.fingerprint import Fingerprint, fingerprint
from cophandbook.history import last_changed, tracked
from cophandbook.lock import OutputLock, legacy_previous, lock_path
from cophandbook.output import (
    ForeignFiles,
    OutputError,
    Record,
    Staging,
    WriteFailed,
    check_output_folder,
    describe,
    read_record,
    record_path,
    restamp,
)
from cophandbook.pipeline import Prepared, Progress, fewer_collections, prepare, run
from cophandbook.reuse import PageInputs, Reuse
from cophandbook.search import SearchError, index_folder
from cophandbook.sources import CONTENT_DIR
from cophandbook.theme import CompiledTemplates, default_theme, make_env
from cophandbook.urls import SEARCH_DIR

DEFAULT_OUTPUT = "_site"


@dataclass
class BuildResult:
    problems: Diagnostics
    pages: int = 0
    files: int = 0
    output: Path | None = None
    written: bool = False
    unchanged: bool = False  # nothing changed since the output was built: nothing written
    files_written: int = 0
    files_kept: int = 0  # files identical to the previous output's, not written again
    pages_reused: int = 0  # pages kept from the previous output without rendering them
    bodies_cached: int = 0  # Markdown bodies taken from the cache rather than rendered
    sources_cached: int = 0  # content files taken as parsed by an earlier build, not read
    # The output's files a failed build changed and could not put back (see output.py).
    output_changed: tuple[str, ...] = ()


def build(site: Path, out: Path | None = None, *, base_url: str | None = None,
          progress: Progress | None = None,
          waiting: Callable[[str], None] | None = None) -> BuildResult:
    """Build the handbook in `site` into `out` (default `site/_site`); on any error nothing
    is written and the previous output stays as it was. When none of the inputs changed
    since `out` was built (see fingerprint.py), nothing is done at all. Builds into one
    output run one at a time: `waiting` is told when this one waits for another."""
    out = out if out is not None else site / DEFAULT_OUTPUT
    with fewer_collections():
        problems = Diagnostics()
        try:
            check_output_folder(site, out)
        except OutputError as exc:
            # Every other problem of the handbook is reported too, though nothing is built.
            problems.error("output-folder", str(exc), Location(out))
            prepare(site, problems, base_url=base_url)
            return BuildResult(problems)
        with contextlib.ExitStack() as held:
            try:
                lock = held.enter_context(OutputLock(out, waiting))
            except OSError as exc:
                problems.error("output-folder", f"could not lock the output folder {out}: "
                               f"{describe(exc)}", Location(lock_path(out)),
                               "the folder that holds the output must be writable: the build "
                               "keeps its record and its lock there")
                return BuildResult(problems)
            return _build(site, out, base_url, progress, lock, problems)


def _trusted(out: Path, problems: Diagnostics) -> bool:
    """An output committed to git may come from anyone (a pull request): its record, and so
    its pages, are not to be trusted, and it is built again in full."""
    if not tracked([out, legacy_previous(out), record_path(out)]):
        return True
    problems.warning(
        "output-in-git", f"the output folder {out} is in the git repository, so its "
        "files are not trusted and it is built again in full", Location(out),
        f"add '{out.name}/' to .gitignore and remove it from the repository "
        f"(git rm -r --cached {out.name})")
    return False


def _up_to_date(out: Path, record: Record, fingerprint: str) -> bool:
    """Whether `out` holds what a build of inputs with this fingerprint would write."""
    return record.fingerprint == fingerprint and all(
        os.path.isfile(os.path.join(out, rel)) for rel in record.digests)


def _report_failed_write(problems: Diagnostics, exc: Exception, site: Path,
                         out: Path) -> tuple[str, ...]:
    """Report why the output could not be written; the files of it left changed."""
    if isinstance(exc, SearchError):
        problems.error("search-failed", str(exc), Location(site / "handbook.yml"),
                       "set 'search: false' to build without search, and report the problem")
    elif isinstance(exc, ForeignFiles):
        problems.error("output-not-ours", str(exc), Location(out),
                       "move them into static/ (every build publishes what is there) or out "
                       "of the output folder; files left by an earlier build are gone once "
                       "the output folder is removed and built again")
    elif isinstance(exc, WriteFailed):
        problems.error("output-folder", str(exc), Location(out),
                       "free some space on the disk, or let the build write every file and "
                       "folder in the output and beside it")
        return tuple(exc.changed)
    elif isinstance(exc, OSError):  # writing the new output, before the old one is touched
        problems.error("output-folder", f"could not write the new output for {out}: "
                       f"{describe(exc)}; the output is as it was", Location(out),
                       "free some space on the disk, or let the build write in the folder "
                       "that holds the output")
    else:
        problems.error("output-folder", str(exc), Location(out), "remove the link")
    return ()


def _search_state(record: Record) -> bytes:
    """What the last search index covers, as its output's record keeps it (nothing when
    the record's copy cannot be read: every shard is indexed again)."""
    try:
        return base64.b64decode(record.search_state, validate=True)
    except (ValueError, TypeError):
        return b""


def _build(site: Path, out: Path, base_url: str | None, progress: Progress | None,
           lock: OutputLock, problems: Diagnostics) -> BuildResult:
    result = BuildResult(problems)
    dates = last_changed(site / CONTENT_DIR, problems)
    trusted = _trusted(out, problems)
    record = read_record(out) if trusted else None
    stamped_ns = time.time_ns()
    inputs = _fingerprint(site, base_url, dates, record)
    if record is not None and _up_to_date(out, record, inputs.digest):
        return _unchanged(result, out, record, inputs, stamped_ns)
    caches = Caches.for_build(site, {path: digest
                                     for path, (_, _, digest) in inputs.stamps.items()})
    writer = OutputWriter(out, lock, trusted, caches, inputs, stamped_ns, problems)
    try:
        prepared = run(site, problems, caches, writer, base_url=base_url, dates=dates,
                       frame=inputs.frame, progress=progress)
    except (SearchError, OutputError, OSError) as exc:
        result.output_changed = _report_failed_write(problems, exc, site, out)
        return result
    if prepared is None or writer.record is None:
        return result
    result.files_written, result.files_kept = writer.files_written, writer.files_kept
    result.pages_reused = writer.pages_reused
    result.bodies_cached = prepared.derived.cached
    result.sources_cached = caches.parsed.hits if caches.parsed else 0
    result.pages, result.files = writer.record.pages, writer.record.files
    result.output = out
    result.written = True
    return result


def _fingerprint(site: Path, base_url: str | None, dates: Mapping[str, object],
                 record: Record | None) -> Fingerprint:
    """The inputs' digests, reading only the files whose stamps changed since the record
    was written."""
    known = {path: (int(v[0]), int(v[1]), str(v[2]))  # type: ignore[call-overload]
             for path, v in record.stamps.items()} if record else {}
    return fingerprint(site, default_theme(), base_url, dict(dates),  # type: ignore[arg-type]
                       known, record.stamped_ns if record else 0)


def _unchanged(result: BuildResult, out: Path, record: Record, inputs: Fingerprint,
               stamped_ns: int) -> BuildResult:
    """Nothing to write: the result of the build that wrote `out`, with its problems (the
    git warning of this run's included)."""
    result.problems.items[:] = [Diagnostic.from_dict(item) for item in record.problems]
    stamps = {k: list(v) for k, v in inputs.stamps.items()}
    if stamps != record.stamps:
        with contextlib.suppress(OSError):
            restamp(out, record, stamps, stamped_ns)
    result.pages, result.files, result.output = record.pages, record.files, out
    result.unchanged = True
    return result


class OutputWriter:
    """Stage 5 for `build`: the output folder, through a Staging (see output.py), and the
    record beside it, which is what the last build lends this one."""

    def __init__(self, out: Path, lock: OutputLock, trusted: bool, caches: Caches,
                 inputs: Fingerprint, stamped_ns: int, problems: Diagnostics) -> None:
        self.out, self.lock, self.trusted, self.caches = out, lock, trusted, caches
        self.problems = problems
        self.inputs, self.stamped_ns = inputs, stamped_ns
        self.staging: Staging | None = None
        self.record: Record | None = None  # once written
        self.files_written = self.files_kept = self.pages_reused = 0

    def environment(self, site: Path, theme: Path) -> Environment:
        bodies = self.caches.bodies
        return make_env(site, theme, CompiledTemplates(bodies.folder / "templates", bodies.code)
                        if bodies else None)

    def open(self) -> None:
        self.staging = Staging(self.out, self.lock, in_place=True, trust=self.trusted)

    def _staging(self) -> Staging:
        assert self.staging is not None, "open() first"
        return self.staging

    def last_pages(self) -> dict[str, PageInputs]:
        return self._staging().old.inputs

    def keep(self, rel: str) -> object | None:
        return self._staging().keep(rel)

    @property
    def sink(self) -> Callable[[str, bytes], object]:
        return self._staging().put

    def write(self, prepared: Prepared, pages: dict[str, object], reuse: Reuse | None
              ) -> None:
        staging = self._staging()
        written_pages: dict[str, tuple[str, bool]] = pages  # type: ignore[assignment]
        static = prepared.plan.static
        settings = prepared.derived.handbook.settings
        record = Record(self.inputs.digest,
                        {rel: digest for rel, (digest, _) in written_pages.items()},
                        sum(1 for name in pages if name.endswith(".html")),
                        len(pages) + len(static),
                        [d.to_dict() for d in self.problems.sorted()],
                        {path: list(value) for path, value in self.inputs.stamps.items()},
                        self.stamped_ns, reuse.inputs if reuse else {})

        def add_search(folder: Path, overlay: Path | None, index: Path) -> None:
            # The last index's bundles are reused only from an output this program wrote,
            # and never through a link to somewhere else.
            last = self.out / SEARCH_DIR
            indexed = index_folder(
                folder, settings.language, index, overlay=overlay, pages=record.digests,
                previous=last if staging.old.fingerprint and not last.is_symlink() else None,
                previous_state=_search_state(staging.old))
            record.search_state = base64.b64encode(indexed.state).decode()

        copied = staging.publish(static, record, add_search if settings.search else None)
        written = sum(1 for _, fresh in written_pages.values() if fresh)
        self.files_written = written + copied
        self.files_kept = len(pages) - written + len(static) - copied
        self.pages_reused = reuse.kept if reuse else 0
        self.record = record

    def discard(self) -> None:
        if self.staging is not None:
            self.staging.discard()
