"""Every output path with its template and context. Two routes on one path is an error."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cophandbook import practice, views
from cophandbook.derive import Derived
from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.model import INTRO_SOURCES, Rubric, Skill, Source
from cophandbook.sources import walk_files
from cophandbook.urls import SEARCH_DIR, Urls

STATIC_DIR = "static"
_ENCODED_RE = re.compile(r"%[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class Later:
    """A view computed when its page is rendered rather than when pages are planned, so the
    bodies it reads are noted as that page's (see reuse.py), and so a page kept from the
    previous build costs nothing to plan."""

    make: Callable[..., Any]
    args: tuple[Any, ...]

    def __call__(self) -> Any:
        return self.make(*self.args)


def later(make: Callable[..., Any], *args: Any) -> Later:
    return Later(make, args)


@dataclass(frozen=True)
class Route:
    site_path: str
    template: str
    context: dict[str, Any] = field(hash=False)
    source: Source | None = None
    title: str = ""

    @property
    def origin(self) -> str:
        return str(self.source.path) if self.source else f"the generated page /{self.site_path}"


@dataclass(frozen=True)
class StaticFile:
    site_path: str
    path: Path

    @property
    def origin(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    static: tuple[StaticFile, ...]


def _page_routes(derived: Derived) -> list[Route]:
    """Every page's route, in the order the sitemap lists them."""
    handbook = derived.handbook
    routes: list[Route] = []

    def add(site_path: str, template: str, title: str, source: Source | None = None,
            **context: Any) -> None:
        routes.append(Route(site_path, template, context, source, title))

    intro_home = handbook.intro("index.md")
    add("", "home.html", handbook.settings.title, intro_home.source if intro_home else None,
        intro=intro_home, sessions=tuple(reversed(handbook.sessions[-3:])))
    for skill in handbook.skills:
        rubric = handbook.rubric(skill.id)
        if rubric is not None:
            _skill_routes(add, derived, skill, rubric)
    add("exercises/", "exercises.html", "Exercises", groups=later(views.catalog, derived))
    _session_routes(add, derived)
    _theme_routes(add, derived)
    add("coverage/", "coverage.html", "Coverage", skills=later(views.coverage, derived))
    _guide_routes(add, derived)
    if handbook.settings.search:
        add("search/", "search.html", "Search", filters=later(views.search_filters, derived))
    add("404.html", "404.html", "Page not found")
    add("sitemap.xml", "sitemap.xml", "Sitemap")
    return routes


def _skill_routes(add: Callable[..., None], derived: Derived, skill: Skill,
                  rubric: Rubric) -> None:
    """A skill's pages: its ladder, rubric, levels, practice, criteria and items."""
    add(Urls.skill(skill.id), "skill.html", skill.title, skill.source, skill=skill,
        rubric=rubric, rungs=later(views.ladder, derived, rubric))
    add(Urls.rubric(skill.id), "rubric.html", rubric.title, rubric.source, skill=skill,
        rubric=rubric, rows=later(views.matrix, derived, rubric))
    for level in derived.handbook.settings.levels:
        add(Urls.level(skill.id, level.id), "level.html", f"{skill.title}: {level.name}",
            skill=skill, rubric=rubric, view=later(views.level_view, derived, rubric, level))
        add(Urls.level_pack(skill.id, level.id), "pack.html",
            f"{skill.title}: {level.name} level pack", skill=skill, rubric=rubric,
            view=later(views.level_view, derived, rubric, level, False))
    add(Urls.assess(skill.id), "assess.html", f"{skill.title}: where am I?", skill=skill,
        rubric=rubric, assessment=later(practice.self_assessment, derived, rubric))
    add(Urls.next_steps(skill.id), "steps.json", f"{skill.title}: next steps",
        steps=later(practice.next_steps, derived, rubric))
    _calibration_routes(add, derived, skill, rubric)
    for crit in rubric.criteria:
        add(Urls.criterion(skill.id, crit.id), "criterion.html", f"{skill.title}: {crit.name}",
            skill=skill, rubric=rubric, criterion=crit,
            steps=later(views.climb, derived, rubric, crit),
            exercises=later(views.exercises_for_criterion, derived, skill.id, crit.id))
    _item_routes(add, derived, skill, rubric)


def _item_routes(add: Callable[..., None], derived: Derived, skill: Skill,
                 rubric: Rubric) -> None:
    """The page of each exemplar and exercise of a skill."""
    handbook = derived.handbook
    for exemplar in handbook.exemplars_of(skill.id):
        add(Urls.exemplar(exemplar), "exemplar.html", exemplar.title, exemplar.source,
            skill=skill, rubric=rubric, exemplar=exemplar,
            level=handbook.settings.level(exemplar.level),
            assessment=later(views.assessment, derived, exemplar),
            sessions=later(views.sessions_using, derived, "exemplar", skill.id,
                           exemplar.slug))
    for exercise in handbook.exercises_of(skill.id):
        add(Urls.exercise(exercise), "exercise.html", exercise.title, exercise.source,
            skill=skill, rubric=rubric, exercise=exercise,
            sessions=later(views.sessions_using, derived, "exercise", skill.id,
                           exercise.slug))


def _session_routes(add: Callable[..., None], derived: Derived) -> None:
    handbook = derived.handbook
    add("sessions/", "sessions.html", "Sessions", months=later(views.timeline, derived))
    add("sessions/feed.xml", "feed.xml", "Sessions feed")
    for session in handbook.sessions:
        add(Urls.session(session), "session.html", session.title, session.source, session=session,
            exercises=tuple(handbook.exercise(ref) for ref in session.exercises),
            exemplars=tuple(handbook.exemplar(ref) for ref in session.exemplars_reviewed))


def _theme_routes(add: Callable[..., None], derived: Derived) -> None:
    themes = views.feedback_themes(derived)
    add("feedback/", "feedback.html", "Recurring feedback", themes=themes)
    for theme in themes:
        add(Urls.theme(theme.theme.id), "theme.html", theme.theme.name, view=theme,
            work=later(views.theme_work, derived, theme.theme.id))


def _guide_routes(add: Callable[..., None], derived: Derived) -> None:
    """The guides' index, when there is a guide or an introduction to them, and each guide."""
    guides = derived.handbook.guides()
    intro_guides = derived.handbook.intro("guides/index.md")
    if guides or intro_guides:
        add(INTRO_SOURCES["guides/index.md"], "guides.html",
            intro_guides.title if intro_guides else "Guides",
            intro_guides.source if intro_guides else None, intro=intro_guides, guides=guides)
    for page in guides:
        add(Urls.page(page), "page.html", page.title, page.source, page=page)


def _calibration_routes(add: Callable[..., None], derived: Derived, skill: Skill,
                        rubric: Rubric) -> None:
    """The skill's "practise judging" page, and a page for each exemplar of its set."""
    items = practice.calibration_set(derived, rubric)
    add(Urls.calibrate(skill.id), "calibrate.html", f"{skill.title}: practise judging",
        skill=skill, rubric=rubric, items=items)
    for number, exemplar in enumerate(items, 1):
        add(Urls.calibrate_item(exemplar), "calibrate-item.html",
            f"{skill.title}: practise judging {number} of {len(items)}", skill=skill,
            rubric=rubric, items=items, number=number, exemplar=exemplar,
            item=later(practice.calibration_item, derived, exemplar))


# Files a browser runs when opened from the site: static/ is published as it is, so one of
# these from a pull request could run script as the handbook (docs/security.md). Common hosts
# (nginx, Apache, mime-db) serve them as HTML, as script, or as an XML type, which a browser
# shows as a document where script in the XHTML namespace runs: feeds and RDF included.
# MHTML is not here: Chromium renders it with script off, and other browsers download it.
ACTIVE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml", ".xhtm", ".xht", ".svg", ".svgz",
                   ".js", ".mjs", ".xml", ".xsl", ".xslt", ".rss", ".atom", ".rdf", ".swf")


def _static_files(folder: Path, prefix: str, site: Path,
                  problems: Diagnostics | None = None) -> list[StaticFile]:
    """Every file under `folder` to copy; links are followed only to files inside `site`
    (see sources.walk_files), so static/ cannot publish what the handbook does not hold."""
    found = [StaticFile(prefix + rel, Path(path))
             for path, rel in walk_files(folder, site, problems)]
    for file in found if problems is not None else ():
        if file.path.suffix.lower() in ACTIVE_SUFFIXES:
            problems.warning("active-static-file",
                             f"{file.path.name} is published as it is, and a browser runs "
                             "the scripts it may hold", Location(file.path),
                             "read it as you would code before accepting it; prefer PNG, "
                             "JPEG or PDF, and Markdown pages in content/")
    return found


# The preview plans the same ten thousand paths on every rebuild: each is judged once.
@functools.lru_cache(maxsize=1 << 16)
def _unsafe(output: str) -> bool:
    """An output path that could lead out of the output folder, or that a browser or web
    server would read differently from the file's name: the words output.py refuses, and
    %-encoded ones. Found here, before anything is rendered."""
    parts = output.split("/")
    return (output.startswith("/") or "\\" in output or "\0" in output
            or any(part in ("", ".", "..") for part in parts)
            or _ENCODED_RE.search(output) is not None
            or posixpath.normpath(output) != output)


def _party(item: Route | StaticFile, site: Path) -> tuple[str, Location | None]:
    """How a message names a route or file, and where it is written, when it has a file."""
    if isinstance(item, StaticFile):
        shown = (item.path.relative_to(site).as_posix() if item.path.is_relative_to(site)
                 else f"the theme's {item.site_path}")
        return shown, Location(item.path) if item.path.is_relative_to(site) else None
    if item.source is not None:
        return f"content/{item.source.rel}:1", item.source.location
    return f"the generated page /{item.site_path}", None


def plan(derived: Derived, site: Path, theme_static: Path, problems: Diagnostics) -> Plan:
    routes = _page_routes(derived)
    static = (_static_files(theme_static, "assets/", theme_static)
              + _static_files(site / STATIC_DIR, "", site, problems))
    claimed: dict[str, Route | StaticFile] = {}
    for item in (*routes, *static):
        output = Urls.output_file(item.site_path)
        if _unsafe(output):
            name, where = _party(item, site)  # only for a message: 10,000 pages have none
            problems.error("invalid-filename", f"{name} cannot be published as /{output}",
                           where, "rename it: no '\\', no %-encoded characters, no empty, "
                           "'.' or '..' folder names")
            continue
        if output in claimed:
            name, where = _party(item, site)
            other, other_where = _party(claimed[output], site)
            problems.error(
                "path-collision",
                f"/{output} would be written twice: by {other} and by {name}",
                where or other_where,
                "rename or move one of them",
            )
            continue
        claimed[output] = item
        if derived.handbook.settings.search and output.startswith(SEARCH_DIR + "/"):
            name, where = _party(item, site)
            problems.error("search-reserved",
                           f"/{output} is inside /{SEARCH_DIR}/, where the search index goes",
                           where, "rename or move it, or set 'search: false'")
    # A file and a folder cannot share a name: static/guides (a file) and the guides'
    # pages (guides/index.html) could not both be written.
    reported: set[str] = set()
    for output, item in claimed.items():
        folder = output
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            if folder in claimed and folder not in reported:
                reported.add(folder)  # once per file, however many files it is in the way of
                name, where = _party(item, site)
                other, other_where = _party(claimed[folder], site)
                problems.error(
                    "path-collision",
                    f"/{folder} would be both a file (from {other}) and a folder "
                    f"(holding /{output}, from {name})",
                    other_where or where,
                    "rename or move one of them",
                )
                break
    return Plan(tuple(routes), tuple(static))
