"""Stage 4: routes → bytes in memory. A template error names its file:line and the page."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError, TemplateSyntaxError

from cophandbook import __version__
from cophandbook.derive import Derived
from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.routes import Plan, Route
from cophandbook.urls import Urls


def edit_url(derived: Derived, route: Route) -> str:
    settings = derived.handbook.settings
    if not settings.repo_url or route.source is None:
        return ""
    folder = f"{settings.repo_path}/" if settings.repo_path else ""
    return (f"{settings.repo_url}/edit/{settings.edit_branch}/"
            f"{folder}content/{route.source.rel}")


def _template_location(exc: Exception, env: Environment) -> Location | None:
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        return Location(Path(exc.filename), exc.lineno or 0)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.endswith((".html", ".xml"))]
    if frames:
        return Location(Path(frames[-1].filename), frames[-1].lineno or 0)
    return None


def render(plan: Plan, derived: Derived, env: Environment,
           problems: Diagnostics) -> dict[str, bytes]:
    handbook = derived.handbook
    urls = derived.urls
    shared: dict[str, Any] = {
        "site": handbook.settings,
        "handbook": handbook,
        "urls": urls,
        "url": urls.href,
        "asset": lambda name: urls.href(Urls.asset(name)),
        "body": derived.body,
        "version": __version__,
        "routes": plan.routes,
    }
    files: dict[str, bytes] = {}
    for route in plan.routes:
        context = {**shared, **route.context, "page_path": route.site_path,
                   "title": route.title, "source": route.source,
                   "edit_url": edit_url(derived, route),
                   "updated": route.source.updated if route.source else None}
        try:
            html = env.get_template(route.template).render(context)
        except (TemplateError, LookupError, TypeError, ValueError, AttributeError) as exc:
            where = _template_location(exc, env)
            problems.error(
                "template-error",
                f"{exc.__class__.__name__} in template {route.template} while building "
                f"/{route.site_path}: {exc}",
                where,
            )
            continue
        files[Urls.output_file(route.site_path)] = html.encode("utf-8")
    return files
