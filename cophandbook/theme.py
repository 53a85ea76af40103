"""The Jinja2 environment: the site's templates/ over the theme's, with the theme's also
reachable as "theme/<name>" so a site template can extend the one it replaces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
)

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
    env.filters["plural"] = lambda n, word, many=None: (
        f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}")
    return env
