"""The one driver: load → validate → derive → render → write, for every command.

`run` takes a handbook through the stages, with the caches the command opened (caches.py)
and, to render and write, a `Writer`: stage 5 as the command does it. `build` writes its
output folder (build.py), the preview writes one of its two build folders (serve/), and
`check` passes none: it stops after `prepare`, the stages every command shares.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from jinja2 import Environment

from cophandbook.caches import Caches
from cophandbook.derive import Derived, Item, all_items, check_body, derive, rederive_bodies
from cophandbook.diagnostics import Diagnostic, Diagnostics
from cophandbook.fingerprint import THEME_STATIC
from cophandbook.links import LinkGraph, check_links
from cophandbook.model import Handbook, Settings
from cophandbook.render import render
from cophandbook.reuse import PageInputs, Reuse, site_digest
from cophandbook.revalidate import moved_bodies, validate_again
from cophandbook.routes import Plan, plan
from cophandbook.schema import validate
from cophandbook.settings import load_settings
from cophandbook.sources import Discovery, RawSource, discover
from cophandbook.theme import default_theme

NO_DATES: Mapping[str, dt.date] = MappingProxyType({})
# Takes a rendered page in the render workers (see output.Staging.put).
PageSink = Callable[[str, bytes], object]


class Progress(Protocol):
    """Told how far each long stage has got (the command line shows it on a terminal)."""

    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


@dataclass(frozen=True)
class Reported:
    """What a run's stages were given and found, for the next run to prepare again from
    (see `_prepare_again`): the files the model was validated from, what planning
    reported, and what deriving and checking links reported (each of those problems is in
    the file of its body)."""

    validated_from: tuple[RawSource, ...]
    planning: tuple[Diagnostic, ...]
    bodies: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Prepared:
    """Everything known about a handbook before rendering."""

    derived: Derived
    plan: Plan
    inbound: LinkGraph
    theme: Path
    content_files: frozenset[str]  # every Markdown file found under content/
    planning_reads: frozenset[str] = frozenset()  # bodies read while planning pages
    # A digest of everything every page depends on (see reuse.site_digest), when the run
    # was given the digest of the inputs outside content/ (its `frame`).
    site_inputs: str | None = None
    reported: Reported | None = None  # kept when the run keeps a memo
    again: bool = False  # this run's plan and views are the last run's

    @property
    def sources(self) -> int:
        """Markdown files found under content/."""
        return len(self.content_files)


def prepare(site: Path, problems: Diagnostics, caches: Caches | None = None, *,
            base_url: str | None = None, dates: Mapping[str, dt.date] = NO_DATES,
            frame: str | None = None, progress: Progress | None = None) -> Prepared | None:
    """Stages 1–3. Carries on past errors, so one run reports every problem it can find;
    None only when there are no settings to build with. `dates` are when each content file
    last changed (from git; only pages show them). `caches.last` is the preview's last good
    run, given when no input outside content/ changed since: if only bodies did, and they
    keep their outlines, it is brought up to date in place (see `_prepare_again`) and
    returned."""
    caches = caches or Caches.none()
    memo = caches.memo
    last, caches.last = caches.last, None
    assert last is None or isinstance(last, Prepared)
    settings = load_settings(site, problems, base_url=base_url)
    if settings is None:
        return None
    found = discover(site, problems, dict(dates), memo, settings.max_file_bytes, caches.parsed)
    handbook = (validate_again(found.sources, settings, problems, memo) if memo
                else validate(found.sources, settings, problems))
    if last is not None and memo is not None:
        again = _prepare_again(last, found, settings, handbook, problems, caches)
        if again is not None:
            return again
    # What was parsed is in the model now; let go of the rest (every file's front matter, as
    # located values) before bodies are rendered, so their outlines take its place in memory
    # (the preview keeps it anyway, in its memo).
    content_files, parsed_count = found.files, len(found.sources)
    validated_from = tuple(found.sources) if memo is not None else ()
    del found
    # The model holds only what validated; deriving and planning it anyway finds the
    # problems in bodies, paths and links too, so one run reports them all.
    in_bodies, in_planning, in_links = Diagnostics(), Diagnostics(), Diagnostics()
    derived = derive(handbook, in_bodies, memo,
                     progress.stage("Rendering Markdown", parsed_count) if progress else None,
                     caches.bodies)
    theme = default_theme()
    # Bodies read while planning count for every page (see reuse.py); views read theirs
    # when their page is rendered.
    derived.bodies.reads = set()
    try:
        routes = plan(derived, site, theme / THEME_STATIC, in_planning)
    finally:
        planning_reads, derived.bodies.reads = frozenset(derived.bodies.reads), None
    inbound = check_links(derived, routes, content_files, in_links, caches.links, memo)
    for found_there in (in_bodies, in_planning, in_links):
        problems.extend(found_there)
    reported = (Reported(validated_from, tuple(in_planning.items),
                         (*in_bodies.items, *in_links.items)) if memo is not None else None)
    return Prepared(derived, routes, inbound, theme, content_files, planning_reads,
                    site_digest(frame, derived, routes, planning_reads) if frame else None,
                    reported)


def _prepare_again(last: Prepared, found: Discovery, settings: Settings, handbook: Handbook,
                   problems: Diagnostics, caches: Caches) -> Prepared | None:
    """The preview's shortcut for the common edit, a body's. When the files differ from
    those `last` was validated from in bodies only, and each changed body renders to the
    outline it had but for lines and columns, then what was derived from the model and the
    outlines (assessments, anchors, the plan, where links lead) stands: `last` with the new
    bodies, which the pages showing them read when rendered again (see reuse.py), and with
    the problems of a body whose outline moved found again at their new places. None
    otherwise: the stages run in full (see docs/benchmarks.md for what this saves).

    A file parsed or validated with problems of its own is reported from this run, as
    ever; `last` was built without errors."""
    derived, reported = last.derived, last.reported
    if (reported is None or caches.memo is None or settings != derived.handbook.settings
            or found.files != last.content_files):
        return None
    items = _edited_bodies(last, reported, found, handbook)
    if items is None:
        return None
    shifted = rederive_bodies(derived, items, caches.memo, caches.bodies)
    if shifted is None:
        return None
    body_problems = _body_problems_again(last, reported, items, shifted) if shifted \
        else reported.bodies
    problems.items.extend((*reported.planning, *body_problems))
    return replace(last, reported=replace(reported, validated_from=tuple(found.sources),
                                          bodies=body_problems), again=True)


def _edited_bodies(last: Prepared, reported: Reported, found: Discovery, handbook: Handbook
                   ) -> list[Item] | None:
    """The items whose bodies alone changed since `last`; None when anything else did, or
    a body that planning read."""
    moved = moved_bodies(reported.validated_from, found.sources)
    if moved is None or not last.planning_reads.isdisjoint(s.rel for s in moved):
        return None
    wanted = {source.rel for source in moved}
    items = [item for item in all_items(handbook) if item.source.rel in wanted]
    return items if len(items) == len(wanted) else None


def _body_problems_again(last: Prepared, reported: Reported, items: list[Item],
                         shifted: set[str]) -> tuple[Diagnostic, ...]:
    """The last run's problems in bodies, those of the bodies whose outline moved found
    again at their new places."""
    derived = last.derived
    found_again = Diagnostics()
    for item in items:
        if item.source.rel in shifted:
            check_body(derived.handbook, item, derived.outline(item.source), found_again)
    check_links(derived, last.plan, last.content_files, found_again, only=shifted)
    files = {item.source.path for item in items if item.source.rel in shifted}
    return (*(p for p in reported.bodies if p.location is None or p.location.path not in files),
            *found_again.items)


class Writer(Protocol):
    """Stage 5, as a command does it: where the rendered pages go, and what the last run
    it wrote can lend this one (pages whose inputs did not change, see reuse.py)."""

    def environment(self, site: Path, theme: Path) -> Environment:
        """The templates to render with."""
        ...

    def open(self) -> None:
        """Get ready to take pages (may refuse, with the command's own errors)."""
        ...

    def last_pages(self) -> dict[str, PageInputs]:
        """The inputs of each page of the last run written."""
        ...

    def keep(self, rel: str) -> object | None:
        """Take `rel` as the last run wrote it, or None when it cannot."""
        ...

    @property
    def sink(self) -> PageSink | None:
        """Where render workers put each page as they make it; None: render returns
        the pages' bytes."""
        ...

    def write(self, prepared: Prepared, pages: dict[str, object], reuse: Reuse | None
              ) -> None:
        """Write what was rendered, and the static files."""
        ...

    def discard(self) -> None:
        """Leave what the last run wrote as it was."""
        ...


def run(site: Path, problems: Diagnostics, caches: Caches, writer: Writer | None = None, *,
        base_url: str | None = None, dates: Mapping[str, dt.date] = NO_DATES,
        frame: str | None = None, progress: Progress | None = None) -> Prepared | None:
    """The stages in order, each a step of its own; what was prepared (None without
    settings). Pages are rendered and written only with a `writer` and no error."""
    caches.start()
    prepared = prepare(site, problems, caches, base_url=base_url, dates=dates, frame=frame,
                       progress=progress)
    caches.settle(prepared is not None and prepared.again)
    if prepared is None:
        return None
    caches.keep(prepared.derived)
    if writer is None or problems.has_errors:
        return prepared
    env = writer.environment(site, prepared.theme)
    writer.open()
    try:
        reuse = (Reuse(prepared.site_inputs, writer.last_pages(), writer.keep)
                 if prepared.site_inputs is not None else None)
        pages = render(prepared.plan, prepared.derived, env, problems,
                       progress.stage("Rendering pages", len(prepared.plan.routes))
                       if progress else None, writer.sink, reuse)
        if problems.has_errors:
            writer.discard()
            return prepared
        writer.write(prepared, pages, reuse)
    except BaseException:
        writer.discard()
        raise
    caches.prune(prepared.derived)
    return prepared


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """A run makes millions of objects that live until it ends, and Python's cycle
    collector would walk them over and over: a good part of a large build's time (see
    docs/benchmarks.md). Collect far less often while running."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)
