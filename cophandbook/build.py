"""The pipeline: load → validate → derive → render → write, as short functions of stages.

`prepare` runs the stages every command shares (load, validate, derive, plan, link check);
`build` renders and writes what it prepared, and `check` reviews it without writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cophandbook.derive import Derived, derive
from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.history import last_changed
from cophandbook.links import LinkGraph, check_links
from cophandbook.memo import Memo
from cophandbook.output import OutputError, check_output_folder, publish
from cophandbook.render import render
from cophandbook.routes import Plan, plan
from cophandbook.schema import validate
from cophandbook.search import SearchError, index_folder
from cophandbook.settings import load_settings
from cophandbook.sources import CONTENT_DIR, discover
from cophandbook.theme import default_theme, make_env

DEFAULT_OUTPUT = "_site"


@dataclass(frozen=True)
class Prepared:
    """Everything known about a handbook before rendering."""

    derived: Derived
    plan: Plan
    inbound: LinkGraph
    theme: Path
    sources: int  # Markdown files found under content/


def prepare(site: Path, problems: Diagnostics, *, base_url: str | None = None,
            dates: bool = False, memo: Memo | None = None) -> Prepared | None:
    """Stages 1–3. Carries on past errors, so one run reports every problem it can find;
    None only when there are no settings to build with. `dates` asks git when each content
    file last changed (only pages show them, so `check` does not ask). `memo` keeps what
    did not change from one build to the next (the preview server)."""
    settings = load_settings(site, problems, base_url=base_url)
    if settings is None:
        return None
    updated = {}
    if dates:
        content = site / CONTENT_DIR
        # Commit dates do not move while a preview runs, so one git call serves a session.
        updated = (memo.replay(("git-dates", content), problems,
                               lambda found: last_changed(content, found))
                   if memo else last_changed(content, problems))
    found = discover(site, problems, updated, memo)
    handbook = validate(found.sources, settings, problems)
    # The model holds only what validated; deriving and planning it anyway finds the
    # problems in bodies, paths and links too, so one run reports them all.
    derived = derive(handbook, problems, memo)
    theme = default_theme()
    routes = plan(derived, site, theme / "static", problems)
    inbound = check_links(derived, routes, found.files, problems)
    return Prepared(derived, routes, inbound, theme, len(found.files))


@dataclass
class BuildResult:
    problems: Diagnostics
    pages: int = 0
    files: int = 0
    output: Path | None = None
    written: bool = False


def build(site: Path, out: Path | None = None, *, base_url: str | None = None) -> BuildResult:
    """Build the handbook in `site` into `out` (default `site/_site`); on any error nothing
    is written and the previous output stays as it was."""
    problems = Diagnostics()
    result = BuildResult(problems)
    prepared = prepare(site, problems, base_url=base_url, dates=True)
    if prepared is None or problems.has_errors:
        return result
    out = out if out is not None else site / DEFAULT_OUTPUT
    try:
        check_output_folder(site, out)
    except OutputError as exc:
        problems.error("output-folder", str(exc), Location(out))
        return result
    env = make_env(site, prepared.theme)
    files = render(prepared.plan, prepared.derived, env, problems)
    if problems.has_errors:
        return result
    settings = prepared.derived.handbook.settings

    def add_search(folder: Path) -> None:
        index_folder(folder, settings.language)

    try:
        publish(files, prepared.plan.static, out, add_search if settings.search else None)
    except SearchError as exc:
        problems.error("search-failed", str(exc), Location(site / "handbook.yml"),
                       "set 'search: false' to build without search, and report the problem")
        return result
    result.pages = sum(1 for name in files if name.endswith(".html"))
    result.files = len(files) + len(prepared.plan.static)
    result.output = out
    result.written = True
    return result
