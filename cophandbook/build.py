"""The pipeline: load → validate → derive → render → write, as one short function."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cophandbook.derive import derive
from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.output import OutputError, check_output_folder, publish
from cophandbook.render import render
from cophandbook.routes import plan
from cophandbook.schema import validate
from cophandbook.settings import load_settings
from cophandbook.sources import discover
from cophandbook.theme import default_theme, make_env

DEFAULT_OUTPUT = "_site"


@dataclass
class BuildResult:
    problems: Diagnostics
    pages: int = 0
    files: int = 0
    output: Path | None = None
    written: bool = False


def build(site: Path, out: Path | None = None, *, write: bool = True) -> BuildResult:
    """Build the handbook in `site` into `out` (default `site/_site`).

    With `write=False` it runs every stage up to planning the routes and writes nothing,
    which is what `check` needs.
    """
    problems = Diagnostics()
    result = BuildResult(problems)
    settings = load_settings(site, problems)
    if settings is None:
        return result
    if settings.search:
        problems.warning("search-unavailable",
                         "'search: true' is not supported by this version yet; no index is built",
                         Location(site / "handbook.yml"))
    found = discover(site, problems)
    handbook = validate(found.sources, settings, problems)
    # The model holds only what validated, so deriving still finds the problems in bodies
    # (annotations, links) and one run reports them all.
    derived = derive(handbook, problems, found.files)
    if problems.has_errors:
        return result
    theme = default_theme()
    routes = plan(derived, site, theme / "static", problems)
    if problems.has_errors or not write:
        return result
    out = out if out is not None else site / DEFAULT_OUTPUT
    try:
        check_output_folder(site, out)
    except OutputError as exc:
        problems.error("output-folder", str(exc), Location(out))
        return result
    files = render(routes, derived, make_env(site, theme), problems)
    if problems.has_errors:
        return result
    publish(files, routes.static, out)
    result.pages = sum(1 for name in files if name.endswith(".html"))
    result.files = len(files) + len(routes.static)
    result.output = out
    result.written = True
    return result
