"""Stage 4: routes → bytes in memory. A template error names its file:line and the page."""

from __future__ import annotations

import contextlib
import datetime as dt
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError, TemplateSyntaxError
from markupsafe import Markup

from cophandbook import __version__
from cophandbook.derive import Derived, all_items
from cophandbook.diagnostics import Diagnostic, Diagnostics, Location, Severity
from cophandbook.markdown import render_inline
from cophandbook.model import Source
from cophandbook.parallel import MIN_ITEMS, map_chunks
from cophandbook.reuse import Reuse, page_digest
from cophandbook.routes import Later, Plan, Route
from cophandbook.urls import Urls


def edit_url(derived: Derived, route: Route) -> str:
    settings = derived.handbook.settings
    if not settings.repo_url or route.source is None:
        return ""
    folder = f"{settings.repo_path}/" if settings.repo_path else ""
    return (f"{settings.repo_url}/edit/{settings.edit_branch}/"
            f"{folder}content/{route.source.rel}")


# A page's input that is a source's last-changed date, beside the bodies it reads.
DATE_INPUT = "date:"


def last_updated(derived: Derived, source: Source | None) -> dt.date | None:
    """When `source`'s file last changed (from git), noted as an input of the page being
    rendered: the model's repr, which every page depends on, leaves dates out."""
    if source is None:
        return None
    if derived.bodies.reads is not None:
        derived.bodies.reads.add(DATE_INPUT + source.rel)
    return source.updated


def _template_location(exc: Exception, env: Environment) -> Location | None:
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        return Location(Path(exc.filename), exc.lineno or 0)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.endswith((".html", ".xml", ".json"))]
    if frames:
        return Location(Path(frames[-1].filename), frames[-1].lineno or 0)
    return None


def render(plan: Plan, derived: Derived, env: Environment, problems: Diagnostics,
           progress: Callable[[int], None] | None = None,
           sink: Callable[[str, bytes], Any] | None = None,
           reuse: Reuse | None = None) -> dict[str, Any]:
    """Every route's page, rendered on every core: output path → its bytes or, with a
    `sink`, what `sink(path, bytes)` returned (it runs in the workers, so pages need not
    travel back: see output.Staging.put). `progress` hears how many pages are done.
    With `reuse`, a page whose inputs are unchanged is kept rather than rendered (its
    value is what `reuse.keep` returned), and `reuse.inputs` gets every page's inputs."""
    handbook = derived.handbook
    urls = derived.urls
    shared: dict[str, Any] = {
        "site": handbook.settings,
        "handbook": handbook,
        "urls": urls,
        "url": urls.href,
        "asset": lambda name: urls.href(Urls.asset(name)),
        "body": derived.body,
        # Short Markdown in front matter (an exemplar's next step), as descriptors are shown.
        "inline_markdown": lambda text: Markup(render_inline(text, handbook.settings.allow_html)),
        "version": __version__,
        "routes": plan.routes,
        "last_updated": lambda source: last_updated(derived, source),
    }

    def render_one(route: Route) -> tuple[str, bytes | Diagnostic]:
        output = Urls.output_file(route.site_path)
        try:
            views = {name: value() if isinstance(value, Later) else value
                     for name, value in route.context.items()}
            context = {**shared, **views, "page_path": route.site_path,
                       "title": route.title, "source": route.source,
                       "edit_url": edit_url(derived, route),
                       "updated": last_updated(derived, route.source)}
            html = env.get_template(route.template).render(context)
        # A template is code a handbook may bring: whatever it raises is its error.
        except (TemplateError, LookupError, TypeError, ValueError, AttributeError,
                ArithmeticError, RecursionError) as exc:
            return output, Diagnostic(
                Severity.ERROR, "template-error",
                f"{exc.__class__.__name__} in template {route.template} while building "
                f"/{route.site_path}: {exc}",
                _template_location(exc, env),
            )
        return output, html.encode("utf-8")

    if len(plan.routes) >= MIN_ITEMS:
        # Workers inherit the environment: compile every template once, here, first.
        for name in {route.template for route in plan.routes} | {"base.html", "macros.html"}:
            with contextlib.suppress(TemplateError):
                env.get_template(name)
    bodies = derived.bodies
    # What a page's inputs are looked up in: the bodies' keys, and the sources' dates.
    keys = {**derived.body_keys, **{DATE_INPUT + item.source.rel: str(item.source.updated)
                                   for item in all_items(handbook)}}

    def render_chunk(chunk: Sequence[Route]) -> list[tuple[str, object, list[object] | None]]:
        results: list[tuple[str, object, list[object] | None]] = []
        for route in chunk:
            if reuse:
                bodies.reads = set()
            try:
                output, page = render_one(route)
            finally:
                reads, bodies.reads = bodies.reads, None
            inputs = None
            if reuse and reads is not None:
                inputs = [page_digest(reuse.site, output, reads, keys), sorted(reads)]
            results.append((output, sink(output, page) if sink and isinstance(page, bytes)
                            else page, inputs))
        return results

    done: dict[str, Any] = {}
    routes = _kept_pages(plan.routes, reuse, keys, done) if reuse else plan.routes
    kept = len(done)
    if progress and kept:
        progress(kept)
    rendered = map_chunks(render_chunk, routes,
                          (lambda count: progress(kept + count)) if progress else None)
    for output, result, inputs in rendered:
        if isinstance(result, Diagnostic):
            problems.items.append(result)
        else:
            done[output] = result
            if reuse and inputs:
                reuse.inputs[output] = inputs
    return done


def _kept_pages(routes: Sequence[Route], reuse: Reuse, keys: dict[str, str],
                done: dict[str, Any]) -> list[Route]:
    """Keep the pages whose inputs did not change into `done`; the routes left to render."""
    left = []
    for route in routes:
        output = Urls.output_file(route.site_path)
        as_before = reuse.keep(output) if reuse.unchanged(output, keys) else None
        if as_before is None:
            left.append(route)
        else:
            done[output] = as_before
            reuse.inputs[output] = reuse.previous[output]
    reuse.kept = len(done)
    return left
