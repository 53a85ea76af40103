"""The Jinja2 environment: the site's templates/ over the theme's, with the theme's also
reachable as "theme/<name>" so a site template can extend the one it replaces."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateSyntaxError,
)
from markupsafe import Markup, escape

from cophandbook.diagnostics import Diagnostics, Location

TEMPLATES_DIR = "templates"


def default_theme() -> Path:
    """The packaged theme in a wheel, or the repository's themes/ in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "themes" / "default", here.parent / "themes" / "default"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the default theme is missing from this installation")


def _long_date(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


_ID_OR_FRAGMENT = re.compile(r'\b(id="|href="#)([^"]*)"')


def _scope_ids(html: str, prefix: str) -> Markup:
    """Prefix every id and in-page link of rendered Markdown, so several bodies can share one
    page (the level pack) without their heading and note ids clashing."""
    return Markup(_ID_OR_FRAGMENT.sub(lambda m: f'{m.group(1)}{escape(prefix)}-{m.group(2)}"',
                                      str(html)))


def make_env(site: Path, theme: Path) -> Environment:
    theme_loader = FileSystemLoader(theme / TEMPLATES_DIR)
    loaders = []
    if (site / TEMPLATES_DIR).is_dir():
        loaders.append(FileSystemLoader(site / TEMPLATES_DIR))
    loaders += [theme_loader, PrefixLoader({"theme": theme_loader})]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = _long_date
    env.filters["scope_ids"] = _scope_ids
    env.filters["plural"] = lambda n, word, many=None: (
        f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}")
    return env


def compile_templates(env: Environment, problems: Diagnostics) -> None:
    """Compile every template without rendering one: a syntax error in a site's override
    is found by `check`, at its file and line."""
    for name in env.list_templates():
        if name.startswith("theme/"):
            continue  # the same files as their unprefixed names
        try:
            env.get_template(name)
        except TemplateSyntaxError as exc:
            where = Location(Path(exc.filename), exc.lineno or 0) if exc.filename else None
            problems.error("template-error", f"template {name}: {exc.message}", where)
        except UnicodeDecodeError:
            file = _template_file(env, name)
            problems.error("invalid-encoding", f"template {name} is not valid UTF-8",
                           Location(file) if file else None, "save the file as UTF-8")


def _template_file(env: Environment, name: str) -> Path | None:
    """The file a template name is loaded from (the first folder that has it)."""
    loaders = env.loader.loaders if isinstance(env.loader, ChoiceLoader) else [env.loader]
    for loader in loaders:
        if isinstance(loader, FileSystemLoader):
            for folder in loader.searchpath:
                if (Path(folder) / name).is_file():
                    return Path(folder) / name
    return None
