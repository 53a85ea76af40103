"""The pipeline: load → validate → derive → render → write, as short functions of stages.

`prepare` runs the stages every command shares (load, validate, derive, plan, link check);
`build` renders and writes what it prepared, and `check` reviews it without writing.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gc
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from cophandbook.bodycache import FORMAT, BodyCache, default_folder
from cophandbook.derive import Derived, all_items, check_body, derive, rederive_bodies
from cophandbook.diagnostics import Diagnostic, Diagnostics, Location
from cophandbook.fingerprint import THEME_STATIC, fingerprint
from cophandbook.history import last_changed, tracked
from cophandbook.kept import KeptEntries
from cophandbook.links import LinkGraph, check_links
from cophandbook.lock import OutputLock, legacy_previous, lock_path
from cophandbook.memo import Memo
from cophandbook.model import Handbook, Settings
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
from cophandbook.render import render
from cophandbook.reuse import Reuse, site_digest
from cophandbook.revalidate import moved_bodies, validate_again
from cophandbook.routes import Plan, plan
from cophandbook.schema import validate
from cophandbook.search import SearchError, index_folder
from cophandbook.settings import load_settings
from cophandbook.sourcecache import ParsedSources
from cophandbook.sources import CONTENT_DIR, Discovery, RawSource, discover
from cophandbook.theme import CompiledTemplates, default_theme, make_env
from cophandbook.urls import SEARCH_DIR

DEFAULT_OUTPUT = "_site"
LINKS_FILE = "links.index"  # link checks kept for the next build, in the cache folder


@dataclass(frozen=True)
class Prepared:
    """Everything known about a handbook before rendering."""

    derived: Derived
    plan: Plan
    inbound: LinkGraph
    theme: Path
    content_files: frozenset[str]  # every Markdown file found under content/
    planning_reads: frozenset[str] = frozenset()  # bodies read while planning pages
    # For the preview's next build (see `_prepare_again`): the files the model was
    # validated from, what planning reported, and what deriving and checking links
    # reported (each of those problems is in the file of its body).
    validated_from: tuple[RawSource, ...] = ()
    planning_problems: tuple[Diagnostic, ...] = ()
    body_problems: tuple[Diagnostic, ...] = ()
    again: bool = False  # this build's plan and views are the last build's

    @property
    def sources(self) -> int:
        """Markdown files found under content/."""
        return len(self.content_files)


def prepare(site: Path, problems: Diagnostics, *, base_url: str | None = None,
            dates: bool | dict[str, dt.date] = False, memo: Memo | None = None,
            progress: Progress | None = None, cache: BodyCache | None = None,
            parsed: ParsedSources | None = None, links: KeptEntries | None = None,
            last: Prepared | None = None) -> Prepared | None:
    """Stages 1–3. Carries on past errors, so one run reports every problem it can find;
    None only when there are no settings to build with. `dates` asks git when each content
    file last changed (only pages show them, so `check` does not ask). `memo` keeps what
    did not change from one build to the next (the preview server); `parsed` keeps the
    parsed content files, and `links` the link checks, from one process to the next.
    `dates` may also be the dates themselves, when the caller asked git already. `last`
    is the preview's last good build, given when no input outside content/ changed since:
    if only bodies did, and they keep their outlines, it is brought up to date in place
    (see `_prepare_again`) and returned."""
    settings = load_settings(site, problems, base_url=base_url)
    if settings is None:
        return None
    updated = dates if isinstance(dates, dict) else {}
    if dates is True:
        content = site / CONTENT_DIR
        # Commit dates do not move while a preview runs, so one git call serves a session.
        updated = (memo.replay(("git-dates", content), problems,
                               lambda found: last_changed(content, found))
                   if memo else last_changed(content, problems))
    found = discover(site, problems, updated, memo, settings.max_file_bytes, parsed)
    handbook = (validate_again(found.sources, settings, problems, memo) if memo
                else validate(found.sources, settings, problems))
    if last is not None and memo is not None:
        again = _prepare_again(last, found, settings, handbook, problems, memo, cache)
        if again is not None:
            return again
    # What was parsed is in the model now; let go of the rest (every file's front matter, as
    # located values) before bodies are rendered, so their outlines take its place in memory
    # (the preview keeps it anyway, in its memo).
    content_files, parsed_count = found.files, len(found.sources)
    validated_from = tuple(found.sources) if memo is not None else ()
    del found
    derived_from = len(problems.items)
    # The model holds only what validated; deriving and planning it anyway finds the
    # problems in bodies, paths and links too, so one run reports them all.
    derived = derive(handbook, problems, memo,
                     progress.stage("Rendering Markdown", parsed_count) if progress else None,
                     cache)
    planned_from = len(problems.items)
    theme = default_theme()
    # Bodies read while planning count for every page (see reuse.py); views read theirs
    # when their page is rendered.
    derived.bodies.reads = set()
    try:
        routes = plan(derived, site, theme / THEME_STATIC, problems)
    finally:
        planning_reads, derived.bodies.reads = derived.bodies.reads, None
    checked_from = len(problems.items)
    inbound = check_links(derived, routes, content_files, problems, links, memo)
    return Prepared(derived, routes, inbound, theme, content_files,
                    frozenset(planning_reads), validated_from,
                    tuple(problems.items[planned_from:checked_from]),
                    (*problems.items[derived_from:planned_from], *problems.items[checked_from:]))


def _prepare_again(last: Prepared, found: Discovery, settings: Settings, handbook: Handbook,
                   problems: Diagnostics, memo: Memo, cache: BodyCache | None
                   ) -> Prepared | None:
    """The preview's shortcut for the common edit, a body's. When the files differ from
    those `last` was validated from in bodies only, and each changed body renders to the
    outline it had but for lines and columns, then what was derived from the model and the
    outlines (assessments, anchors, the plan, where links lead) stands: `last` with the new
    bodies, which the pages showing them read when rendered again (see reuse.py), and with
    the problems of a body whose outline moved found again at their new places. None
    otherwise: the stages run in full. At 10,000 pages, they took 0.6-0.9 s of a
    1.1-1.5 s rebuild.

    A file parsed or validated with problems of its own is reported from this build, as
    ever; `last` was built without errors."""
    derived = last.derived
    if settings != derived.handbook.settings or found.files != last.content_files:
        return None
    moved = moved_bodies(last.validated_from, found.sources)
    if moved is None or not last.planning_reads.isdisjoint(s.rel for s in moved):
        return None
    wanted = {source.rel for source in moved}
    items = [item for item in all_items(handbook) if item.source.rel in wanted]
    if len(items) != len(wanted):
        return None
    shifted = rederive_bodies(derived, items, memo, cache)
    if shifted is None:
        return None
    body_problems = last.body_problems
    if shifted:
        found_again = Diagnostics()
        for item in items:
            if item.source.rel in shifted:
                check_body(derived.handbook, item, derived.outline(item.source), found_again)
        check_links(derived, last.plan, last.content_files, found_again, only=shifted)
        files = {item.source.path for item in items if item.source.rel in shifted}
        body_problems = (*(p for p in body_problems
                           if p.location is None or p.location.path not in files),
                         *found_again.items)
    problems.items.extend((*last.planning_problems, *body_problems))
    return replace(last, validated_from=tuple(found.sources), body_problems=body_problems,
                   again=True)


class Progress(Protocol):
    """Told how far each long stage has got (the command line shows it on a terminal)."""

    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


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


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """A build makes millions of objects that live until it ends, and Python's cycle
    collector would walk them over and over: about a quarter of a large build's time.
    Collect far less often while building."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
    known = {path: (int(v[0]), int(v[1]), str(v[2]))  # type: ignore[call-overload]
             for path, v in record.stamps.items()} if record else {}
    inputs = fingerprint(site, default_theme(), base_url, dates, known,
                         record.stamped_ns if record else 0)
    stamp, stamps = inputs.digest, inputs.stamps
    if record is not None and _up_to_date(out, record, stamp):
        # The problems that build reported, the git warning of this run's included.
        problems.items[:] = [Diagnostic.from_dict(item) for item in record.problems]
        if stamps != known:
            with contextlib.suppress(OSError):
                restamp(out, record, {k: list(v) for k, v in stamps.items()}, stamped_ns)
        result.pages, result.files, result.output = record.pages, record.files, out
        result.unchanged = True
        return result
    cache = BodyCache(default_folder(site))
    parsed = ParsedSources(cache.folder, cache.code,
                           {path: digest for path, (_, _, digest) in stamps.items()})
    links = KeptEntries(cache.folder / LINKS_FILE, f"{FORMAT} {cache.code}")
    prepared = prepare(site, problems, base_url=base_url, dates=dates, progress=progress,
                       cache=cache, parsed=parsed, links=links)
    if prepared is None:
        return result
    # What the next build can take from this one is written now, before pages are rendered
    # and whether or not this build goes on (every entry is right whatever happens next, and
    # the build after a mistake is fixed needs it most), and let go of: forked workers would
    # each hold it too.
    keys = prepared.derived.body_keys
    cache.keep_outlines({keys[rel]: outline
                         for rel, outline in prepared.derived.bodies.outlines().items()
                         if rel in keys})
    parsed.save()
    links.save()
    if problems.has_errors:
        return result
    env = make_env(site, prepared.theme, CompiledTemplates(cache.folder / "templates", cache.code))
    settings = prepared.derived.handbook.settings
    staging: Staging | None = None
    try:
        staging = Staging(out, lock, in_place=True, trust=trusted)
        site_inputs = site_digest(inputs.frame, prepared.derived, prepared.plan,
                                  prepared.planning_reads)
        reuse = (Reuse(site_inputs, staging.old.inputs, staging.keep)
                 if site_inputs is not None else None)
        pages = render(prepared.plan, prepared.derived, env, problems,
                       progress.stage("Rendering pages", len(prepared.plan.routes))
                       if progress else None, staging.put, reuse)
        if problems.has_errors:
            staging.discard()
            return result
        record = Record(stamp, {rel: digest for rel, (digest, _) in pages.items()},
                        sum(1 for name in pages if name.endswith(".html")),
                        len(pages) + len(prepared.plan.static),
                        [d.to_dict() for d in problems.sorted()],
                        {path: list(value) for path, value in stamps.items()}, stamped_ns,
                        reuse.inputs if reuse else {})

        def add_search(folder: Path, overlay: Path | None, index: Path) -> None:
            # The last index's bundles are reused only from an output this program wrote,
            # and never through a link to somewhere else.
            last = out / SEARCH_DIR
            old = staging.old if staging else Record()
            indexed = index_folder(
                folder, settings.language, index, overlay=overlay, pages=record.digests,
                previous=last if old.fingerprint and not last.is_symlink() else None,
                previous_state=_search_state(old))
            record.search_state = base64.b64encode(indexed.state).decode()

        copied = staging.publish(prepared.plan.static, record,
                                 add_search if settings.search else None)
    except (SearchError, OutputError, OSError) as exc:
        if staging is not None:
            staging.discard()
        result.output_changed = _report_failed_write(problems, exc, site, out)
        return result
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    cache.keep_only(set(prepared.derived.body_keys.values()))
    written = sum(1 for _, fresh in pages.values() if fresh)
    result.files_written = written + copied
    result.files_kept = len(pages) - written + len(prepared.plan.static) - copied
    result.pages_reused = reuse.kept if reuse else 0
    result.bodies_cached = prepared.derived.cached
    result.sources_cached = parsed.hits
    result.pages, result.files = record.pages, record.files
    result.output = out
    result.written = True
    return result
