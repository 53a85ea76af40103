"""Stage 3: render every Markdown body once, check annotations, index assessments."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from markupsafe import escape

from cophandbook.bodycache import BodyCache, body_key
from cophandbook.bodytext import SourceChanged
from cophandbook.deadline import TimeUp, budget, left, time_limit
from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.fields import choices_hint
from cophandbook.markdown import (
    MAX_NESTING,
    BodyNote,
    Outline,
    RenderedBody,
    render_markdown,
)
from cophandbook.memo import Memo
from cophandbook.model import Exemplar, Exercise, Handbook, Page, Rubric, Session, Skill, Source
from cophandbook.parallel import map_chunks
from cophandbook.references import make_rewriter
from cophandbook.urls import Urls

Item = Skill | Rubric | Exemplar | Exercise | Session | Page
K = TypeVar("K")

# What rendering contributors' Markdown may take, in seconds: each body (`render_seconds`),
# and all the bodies a build renders (`budget_seconds`), from a base and per million
# characters. Tests lower them.
BODY_SECONDS, BODY_SECONDS_PER_MB = 2.5, 1.0
BUILD_SECONDS, BUILD_SECONDS_PER_MB = 30.0, 10.0
# Bodies not rendered, or not from the text planned with: never kept, reported once.
_UNFINISHED = frozenset({"changed-during-build", "build-too-slow"})
SLOWEST_NAMED = 5  # files a spent budget names


def site_path_of(item: Item) -> str:
    match item:
        case Skill():
            return Urls.skill(item.id)
        case Rubric():
            return Urls.rubric(item.skill)
        case Exemplar():
            return Urls.exemplar(item)
        case Exercise():
            return Urls.exercise(item)
        case Session():
            return Urls.session(item)
        case Page():
            return Urls.page(item)


def all_items(handbook: Handbook) -> list[Item]:
    return [*handbook.skills, *handbook.rubrics, *handbook.exemplars, *handbook.exercises,
            *handbook.sessions, *handbook.pages]


class Bodies:
    """Rendered bodies by source rel. With a body cache only their outlines stay in memory
    and a body's HTML is read back from the cache when a page shows it: a large handbook's
    bodies, held by the build and by every worker, would take far more memory than the
    rest of it. Reads are noted while `reads` is a set: a page whose bodies all read the
    same as last time is the same page (see reuse.py)."""

    # Bodies read back and kept, per process: enough for one skill's exemplars on a large
    # handbook, whose climbs, packs and own pages then read each body about once.
    _RECENT = 1024

    def __init__(self, outlines: dict[str, Outline], held: dict[str, RenderedBody],
                 load: Callable[[str], RenderedBody]) -> None:
        self._outlines, self._held, self._load = outlines, held, load
        self._recent: OrderedDict[str, RenderedBody] = OrderedDict()
        self.reads: set[str] | None = None

    def __getitem__(self, rel: str) -> RenderedBody:
        if self.reads is not None:
            self.reads.add(rel)
        body = self._held.get(rel) or self._recent.get(rel)
        if body is None:
            if rel not in self._outlines:
                raise KeyError(rel)
            body = self._recent[rel] = self._load(rel)
            if len(self._recent) > self._RECENT:
                self._recent.popitem(last=False)
        return body

    def outlines(self) -> dict[str, Outline]:
        """Every body's outline, by source rel (read nowhere: not a page's input)."""
        return dict(self._outlines)

    def outline(self, rel: str) -> Outline:
        if self.reads is not None:
            self.reads.add(rel)
        return self._outlines[rel]

    def replace(self, rel: str, body: RenderedBody, outline: Outline) -> None:
        """Hold `body` as the body of `rel` from now on (see `rederive_bodies`)."""
        self._held[rel] = body
        self._outlines[rel] = outline
        self._recent.pop(rel, None)


@dataclass(frozen=True)
class Derived:
    """The handbook with its bodies rendered and its cross-references indexed."""

    handbook: Handbook
    urls: Urls
    bodies: Bodies  # by source rel
    page_paths: dict[str, str]  # source rel → site path
    # (skill, criterion, level) → exemplars assessed there, in ladder order
    cells: dict[tuple[str, str, str], list[Exemplar]] = field(default_factory=dict)
    # ("exercise" | "exemplar", skill, slug) → sessions that used it, in date order
    used_in: dict[tuple[str, str, str], list[Session]] = field(default_factory=dict)
    # source rel → its body's cache key, which changes whenever the rendered body may
    # (with a body cache or a memo)
    body_keys: dict[str, str] = field(default_factory=dict)
    cached: int = 0  # bodies taken from the cache rather than rendered
    body_context: str = ""  # what every body key holds besides the body (_context_digest)

    def body(self, source: Source) -> RenderedBody:
        return self.bodies[source.rel]

    def outline(self, source: Source) -> Outline:
        return self.bodies.outline(source.rel)

    def assessment(self, exemplar: Exemplar) -> dict[str, str]:
        """criterion → level: as written, else the exemplar's level for annotated criteria."""
        result = dict(exemplar.assessment)
        for note in self.bodies.outline(exemplar.source.rel).marks:
            if note.criterion:
                result.setdefault(note.criterion, exemplar.level)
        rubric = self.handbook.rubric(exemplar.skill)
        order = [c.id for c in rubric.criteria] if rubric else []
        return {c: result[c] for c in order if c in result}


def _check_annotations(handbook: Handbook, item: Item, body: Outline,
                       problems: Diagnostics) -> None:
    if not body.marks:
        return
    path = item.source.path
    if not isinstance(item, Exemplar):
        for note in body.marks:
            problems.error("misplaced-annotation", "annotations belong in exemplars",
                           Location(path, note.line),
                           "use '::: tip' for advice in other pages")
        return
    rubric = handbook.rubric(item.skill)
    criteria = [c.id for c in rubric.criteria] if rubric else []
    for note in body.marks:
        if not note.criterion:
            problems.error("missing-criterion", "an annotation must name a rubric criterion",
                           Location(path, note.line), f"write '::: annotation {criteria[0]}'"
                           if criteria else None)
        elif rubric and note.criterion not in criteria:
            problems.error("unknown-criterion",
                           f"annotation names unknown criterion '{note.criterion}'",
                           Location(path, note.line), choices_hint(note.criterion, criteria))


def _check_headings(item: Item, body: Outline, problems: Diagnostics) -> None:
    # The page title is the page's only <h1>; a second one breaks the outline.
    for heading in body.headings:
        if heading.level == 1:
            problems.warning("body-h1", f"'# {heading.text}' is a second page title",
                             Location(item.source.path, item.source.body_line + heading.line),
                             "the title comes from front matter; use '##' for sections")


def _check_notes(item: Item, body: Outline, problems: Diagnostics) -> None:
    """Report what rendering found (kept in the outline, so cached bodies report it too)."""
    for note in body.notes:
        where = Location(item.source.path, note.line, note.col)
        match note.code:
            case "raw-html":
                problems.warning(
                    "raw-html", f"raw HTML is shown as text: '{note.text}'", where,
                    "this handbook does not allow HTML in Markdown; write it in Markdown, put "
                    "it in `backticks` to show code, or set markdown: {allow_html: true} in "
                    "handbook.yml (it is then sanitised)")
            case "unsafe-url":
                problems.error("unsafe-url", f"'{note.text}' is not a link that can be "
                               "published", where,
                               "links and images may use http, https, mailto or a relative path")
            case "markdown-too-deep":
                problems.error("markdown-too-deep",
                               f"lists or quotes nested deeper than {MAX_NESTING} levels", where,
                               "nest less deeply; what lies deeper would not be shown")
            case "changed-during-build":
                problems.error("changed-during-build", "the file changed while the handbook "
                               "was being built", where, "build again")
            case "markdown-too-slow":
                problems.error("markdown-too-slow", "this text takes too long to read as "
                               "Markdown", where, "look for long runs of unclosed brackets, "
                               "'<![CDATA[', '<!--' or emphasis marks; split the file")
            case "build-too-slow":
                pass  # one mistake, one error: the build's (`_report_spent_budget`)


def check_body(handbook: Handbook, item: Item, outline: Outline, problems: Diagnostics) -> None:
    """What deriving reports of one body: every problem is located in the item's file."""
    _check_annotations(handbook, item, outline, problems)
    _check_headings(item, outline, problems)
    _check_notes(item, outline, problems)


def _unfinished(body: RenderedBody | Outline) -> bool:
    return any(note.code in _UNFINISHED for note in body.notes)


def render_seconds(size: int) -> float:
    """Time allowed to render a body of `size` characters: far beyond what real writing
    takes (see docs/benchmarks.md for how fast each kind of text renders), well short of a
    stall."""
    return BODY_SECONDS + BODY_SECONDS_PER_MB * size / 1_000_000


def budget_seconds(size: int) -> float:
    """Time allowed to render bodies of `size` characters in all, from the first to the
    last, however many workers render them: far beyond what real writing takes, dense lists
    and tables included, and never less than one body's limit; files each slow but within
    their own limit reach it long before they make a stall."""
    return BUILD_SECONDS + BUILD_SECONDS_PER_MB * size / 1_000_000


def reserved_ids(handbook: Handbook) -> frozenset[str]:
    """Ids the theme gives elements beside a body, which depend on the handbook: levels
    (skill and rubric pages), criteria and their cells (rubric), notes by criterion
    (exemplar)."""
    levels = [lvl.id for lvl in handbook.settings.levels]
    criteria = {c.id for rubric in handbook.rubrics for c in rubric.criteria}
    return frozenset({*levels, *criteria, *(f"n-{c}" for c in criteria),
                      *(f"{c}--{lvl}" for c in criteria for lvl in levels)})


def _context_digest(handbook: Handbook, urls: Urls, page_paths: dict[str, str],
                    reserved: frozenset[str]) -> str:
    """Everything a body's rendering depends on besides its own text: where links lead,
    how criteria are named, the ids it must not take, and the Markdown settings."""
    labels = [(r.skill, c.id, c.name) for r in handbook.rubrics for c in r.criteria]
    inputs = (handbook.settings.allow_html, urls, sorted(page_paths.items()), labels,
              sorted(reserved))
    return hashlib.blake2b(repr(inputs).encode(), digest_size=16).hexdigest()


def _unrendered(source: Source) -> RenderedBody:
    """A body the build had no time left to render (see `_report_spent_budget`)."""
    return RenderedBody("", (), (), (), (BodyNote("build-too-slow", source.body_line, 0, ""),))


def _body_renderer(handbook: Handbook, urls: Urls, page_paths: dict[str, str],
                   reserved: frozenset[str]) -> Callable[[Item], RenderedBody]:
    settings = handbook.settings

    def render_one(item: Item) -> RenderedBody:
        rubric = handbook.rubric(item.skill) if isinstance(item, Exemplar) else None

        def label(criterion_id: str) -> tuple[str, str] | None:
            crit = rubric.criterion(criterion_id) if rubric else None
            if crit is None or rubric is None:
                return None
            return crit.name, urls.href(Urls.criterion(rubric.skill, crit.id))

        source = item.source
        by_budget = False  # whether the build's time runs out before this body's would
        try:
            if (remaining := left()) is not None and remaining <= 0:
                return _unrendered(source)
            body = source.body
            limit = render_seconds(len(body))
            if (remaining := left()) is not None and remaining < limit:
                limit, by_budget = remaining, True
            with time_limit(limit):
                return render_markdown(
                    body,
                    body_line=source.body_line,
                    allow_html=settings.allow_html,
                    rewrite_link=make_rewriter(source.rel, page_paths, urls),
                    criterion_label=label,
                    reserved_ids=reserved,
                )
        except TimeUp:
            if by_budget:
                return _unrendered(source)  # the build's time is up, not this body's
            note = BodyNote("markdown-too-slow", source.body_line, 0, "")
            return RenderedBody(f"<pre>{escape(body)}</pre>", (), (), (), (note,))
        except SourceChanged:
            return RenderedBody("", (), (), (), (BodyNote("changed-during-build", 1, 0, ""),))
        finally:
            source.text.release()  # a worker renders thousands: keep none of their texts

    return render_one


def derive(handbook: Handbook, problems: Diagnostics, memo: Memo | None = None,
           progress: Callable[[int], None] | None = None,
           cache: BodyCache | None = None) -> Derived:
    """`memo` keeps rendered bodies between builds in one process (the preview): a body is
    rendered again only when its text or what it links against changed. Without one, bodies
    are rendered on every core. `cache` keeps them on disk for the next build (or preview)
    the same way; `progress` hears how many are done."""
    settings = handbook.settings
    urls = Urls.of(settings)
    items = all_items(handbook)
    page_paths = {item.source.rel: site_path_of(item) for item in items}
    reserved = reserved_ids(handbook)
    context = _context_digest(handbook, urls, page_paths, reserved) if memo or cache else ""
    render_one = _body_renderer(handbook, urls, page_paths, reserved)
    by_rel = {item.source.rel: item for item in items}
    keys = _body_keys(items, context, cache) if memo or cache else {}
    held, outlines, cached, timings = _find_bodies(items, keys, render_one, memo, cache,
                                                   progress)
    unfinished = {rel for rel, outline in outlines.items() if _unfinished(outline)}

    def load(rel: str) -> RenderedBody:
        body = cache.get(keys[rel]) if cache else None
        # A body the cache lost since (removed by hand, say) is rendered again.
        return body if body is not None else render_one(by_rel[rel])

    for item in items:
        item.source.text.release()  # a page that shows the body reads it from the cache
        check_body(handbook, item, outlines[item.source.rel], problems)
    _report_spent_budget(items, outlines, timings, problems)
    # A body without a key is one of which nothing is kept for the next build (its outline,
    # the links found in it): the next renders it.
    derived = Derived(handbook, urls, Bodies(outlines, held, load), page_paths, cached=cached,
                      body_keys={rel: key for rel, key in keys.items() if rel not in unfinished},
                      body_context=context)
    _index_cells_and_uses(derived)
    return derived


def _index_cells_and_uses(derived: Derived) -> None:
    """Which exemplars sit in each (skill, criterion, level) cell, and which sessions used
    each exercise and reviewed each exemplar."""
    handbook = derived.handbook
    cells: dict[tuple[str, str, str], list[Exemplar]] = defaultdict(list)
    for exemplar in handbook.exemplars:
        for criterion, level in derived.assessment(exemplar).items():
            cells[(exemplar.skill, criterion, level)].append(exemplar)
    derived.cells.update(cells)
    for session in handbook.sessions:
        for kind, refs in (("exercise", session.exercises),
                           ("exemplar", session.exemplars_reviewed)):
            for ref in dict.fromkeys((r.skill, r.slug) for r in refs):
                derived.used_in.setdefault((kind, *ref), []).append(session)


# Rendered bodies (those held in memory: all of them without a cache), the outlines of all,
# how many came from a cache, and how long the rendered ones took.
_Found = tuple[dict[str, RenderedBody], dict[str, Outline], int, "_Timings"]


def _find_bodies(items: Sequence[Item], keys: dict[str, str],
                 render_one: Callable[[Item], RenderedBody], memo: Memo | None,
                 cache: BodyCache | None, progress: Callable[[int], None] | None) -> _Found:
    """Every body, from the memo (the preview), from the cache, or rendered on every core."""
    if memo:
        found = _bodies_in_memo(items, keys, render_one, memo, cache, progress)
    elif cache:
        found = _bodies_in_cache(items, keys, render_one, cache, progress)
    else:
        rendered, timings = _render_in_budget(items, render_one, lambda _item, body: body,
                                              progress)
        held = {item.source.rel: body for item, body in zip(items, rendered, strict=True)}
        found = held, {}, 0, timings
    held, outlines = found[0], found[1]
    for rel, body in held.items():
        if rel not in outlines:
            outlines[rel] = body.outline()
    return found


def _bodies_in_memo(items: Sequence[Item], keys: dict[str, str],
                    render_one: Callable[[Item], RenderedBody], memo: Memo,
                    cache: BodyCache | None, progress: Callable[[int], None] | None
                    ) -> _Found:
    bodies, cached, timings = _memo_bodies(items, keys, render_one, memo, cache, progress)
    held = {rel: body for rel, (body, _) in bodies.items()}
    outlines = {rel: outline for rel, (_, outline) in bodies.items()}
    return held, outlines, cached, timings


def _bodies_in_cache(items: Sequence[Item], keys: dict[str, str],
                     render_one: Callable[[Item], RenderedBody], cache: BodyCache,
                     progress: Callable[[int], None] | None) -> _Found:
    by_rel = {item.source.rel: item for item in items}
    held: dict[str, RenderedBody] = {}
    outlines: dict[str, Outline] = {}
    for rel, key in keys.items():
        outline = cache.get_outline(key)
        if outline is not None:
            outlines[rel] = outline
    missing = [rel for rel in keys if rel not in outlines]
    cached = len(outlines)

    # Workers render and keep bodies in the cache, and send back only their outlines
    # (whole bodies only when the cache could not take them).
    def keep(item: Item, body: RenderedBody) -> Outline | RenderedBody:
        kept = not _unfinished(body) and cache.put(keys[item.source.rel], body)
        return body.outline() if kept else body

    done, timings = _render_in_budget(
        [by_rel[rel] for rel in missing], render_one, keep,
        (lambda count: progress(cached + count)) if progress else None)
    for rel, result in zip(missing, done, strict=True):
        if isinstance(result, RenderedBody):
            held[rel] = result
        else:
            outlines[rel] = result
    return held, outlines, cached, timings


@dataclass
class _Timings:
    """How long each body rendered by a build took, by rel, and the budget they shared
    (characters and seconds)."""

    seconds: dict[str, float] = field(default_factory=dict)
    size: int = 0
    budget: float = 0.0


def _render_in_budget(items: Sequence[Item], render_one: Callable[[Item], RenderedBody],
                      keep: Callable[[Item, RenderedBody], K],
                      progress: Callable[[int], None] | None = None
                      ) -> tuple[list[K], _Timings]:
    """`keep(item, body)` of each item's body, rendered on every core (see parallel.py)
    within the budget for their size; once it is spent, the bodies left are not rendered
    (their note says so: `build-too-slow`). `keep` runs where the body was rendered."""
    size = sum(item.source.text.size for item in items)
    timings = _Timings(size=size, budget=budget_seconds(size))

    def render_and_keep(chunk: Sequence[Item]) -> list[tuple[K, float]]:
        results: list[tuple[K, float]] = []
        for item in chunk:
            started = time.monotonic()
            body = render_one(item)
            results.append((keep(item, body), time.monotonic() - started))
        return results

    with budget(timings.budget):
        done = map_chunks(render_and_keep, items, progress)
    timings.seconds = {item.source.rel: seconds
                       for item, (_, seconds) in zip(items, done, strict=True)}
    return [result for result, _ in done], timings


def _size_text(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"


def _seconds_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def _report_spent_budget(items: Sequence[Item], outlines: dict[str, Outline],
                         timings: _Timings, problems: Diagnostics) -> None:
    """One error for a build whose budget ran out, at the body that took longest, naming
    the slowest files (what to look at first), not those that took next to nothing."""
    stopped = {rel for rel, outline in outlines.items()
               if any(note.code == "build-too-slow" for note in outline.notes)}
    if not stopped:
        return
    by_rel = {item.source.rel: item for item in items}
    slowest = (sorted(timings.seconds.items(), key=lambda pair: -pair[1])[:SLOWEST_NAMED]
               or [(min(stopped), 0.0)])
    named = ", ".join(
        f"content/{rel} ({_seconds_text(seconds)}{', stopped' if rel in stopped else ''})"
        for rel, seconds in slowest if seconds >= slowest[0][1] / 10)
    first = by_rel[slowest[0][0]].source
    problems.error(
        "build-too-slow",
        f"rendering this handbook's Markdown took longer than a build may take for "
        f"{_size_text(timings.size)} of text ({_seconds_text(timings.budget)}), so "
        f"{len(stopped)} of {len(timings.seconds)} bodies were not rendered; the slowest: "
        f"{named}",
        Location(first.path, first.body_line),
        "look in the slowest files for long runs of unclosed brackets, '<![CDATA[', '<!--' "
        "or emphasis marks, and simplify or split them")


def _body_keys(items: Sequence[Item], context: str, cache: BodyCache | None
               ) -> dict[str, str]:
    """Each item's body key, by rel: the cache's, or, without one, keys for telling bodies
    apart in memory (see reuse.py), where the code cannot change."""
    code = cache.code if cache else "memo"
    return {item.source.rel: body_key(code, context, item.source.rel, item.source.text.digest,
                                      item.source.body_line)
            for item in items}


def _memo_bodies(items: Sequence[Item], keys: dict[str, str],
                 render_one: Callable[[Item], RenderedBody], memo: Memo,
                 cache: BodyCache | None, progress: Callable[[int], None] | None = None
                 ) -> tuple[dict[str, tuple[RenderedBody, Outline]], int, _Timings]:
    """Each item's body and outline, by rel, how many bodies came from the cache, and how
    long those rendered took. Bodies the memo lacks (all of them when a preview starts) are
    read from the cache if it has them, else rendered on every core (see parallel.py: when
    the preview's other threads run, in-process) and put there. A body that changed while
    it was read, or was not rendered, is not kept."""
    lacking = [item for item in items if not memo.has(("body", keys[item.source.rel]))]
    found: dict[str, RenderedBody] = {}
    for item in lacking if cache else ():
        if (body := cache.get(keys[item.source.rel])) is not None:
            found[item.source.rel] = body
    cached = len(found)
    to_render = [item for item in lacking if item.source.rel not in found]

    def keep(item: Item, body: RenderedBody) -> RenderedBody:
        if cache and not _unfinished(body):
            cache.put(keys[item.source.rel], body)
        return body

    rendered, timings = _render_in_budget(to_render, render_one, keep, progress)
    found.update(zip((item.source.rel for item in to_render), rendered, strict=True))
    result: dict[str, tuple[RenderedBody, Outline]] = {}
    for item in items:
        rel = item.source.rel
        key = ("body", keys[rel])
        body = memo.get(key, lambda rel=rel: found[rel])
        # Outlines are kept too: making them for every body costs each build time.
        result[rel] = body, memo.get(("outline", keys[rel]), body.outline)
        if _unfinished(body):
            memo.forget(key)
            memo.forget(("outline", keys[rel]))
    return result, cached, timings


def _placeless(outline: Outline) -> tuple[object, ...]:
    """An outline but for where things are written (lines and columns)."""
    return ([(h.level, h.text, h.id) for h in outline.headings],
            [(m.criterion, m.anchor) for m in outline.marks],
            [(link.href, link.image) for link in outline.links],
            [(n.code, n.text) for n in outline.notes])


def rederive_bodies(derived: Derived, items: Sequence[Item], memo: Memo,
                    cache: BodyCache | None = None) -> set[str] | None:
    """Render the bodies of `items` (whose texts changed, and nothing else) into `derived`,
    the last preview build's, in place, when each body has the outline it had but for
    lines and columns: then nothing derived from outlines (assessments, anchors, where
    links lead, the plan) changes, and only the pages that show these bodies are to be
    rendered again. Returns the rels whose outlines moved within their files (what was
    reported of those bodies is to be found again, at its new places); None, with
    `derived` as it was, when an outline differs otherwise. The bodies are then in `memo`
    for the full derivation that follows."""
    handbook = derived.handbook
    render_one = _body_renderer(handbook, derived.urls, derived.page_paths,
                                reserved_ids(handbook))
    keys = _body_keys(items, derived.body_context, cache)
    bodies, _, _ = _memo_bodies(items, keys, render_one, memo, cache)
    moved: set[str] = set()
    for rel, (body, outline) in bodies.items():
        old = derived.bodies.outline(rel)
        if _unfinished(body) or _placeless(outline) != _placeless(old):
            return None
        if (outline.headings, outline.marks, outline.notes, outline.links) != \
                (old.headings, old.marks, old.notes, old.links):
            moved.add(rel)
    for rel, (body, outline) in bodies.items():
        derived.body_keys[rel] = keys[rel]
        derived.bodies.replace(rel, body, outline)
    return moved
