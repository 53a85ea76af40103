"""The Jinja2 environment: the site's templates/ over the theme's, with the theme's also
reachable as "theme/<name>" so a site template can extend the one it replaces."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import marshal
import os
import re
from pathlib import Path

import jinja2
from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateSyntaxError,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.pageids import without_ids

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


# Rendered Markdown separates attributes by one space, and escapes '"' in text. Matching
# the space, not a word boundary, lets the regex engine skip ahead, which a level pack of
# many bodies feels (docs/benchmarks.md). An empty fragment ("#") is the top of the page:
# left alone.
_ID_OR_FRAGMENT = re.compile(r'( id="| href="#)([^"]+)"')
SCOPE_SEPARATOR = ":"


def _scope_ids(html: str, prefix: str) -> Markup:
    """Prefix every id and in-page link of rendered Markdown, so several bodies can share one
    page (the level pack) without their heading and note ids clashing.

    An id becomes `prefix:id`. No two (prefix, id) pairs give the same result, whatever the
    ids hold (a heading id may hold "-", "--" or, with raw HTML allowed, ":"): the prefix
    holds no ":" (exemplar and exercise slugs are file names of a-z, 0-9, "_", "." and "-"),
    so the first ":" ends it. Joined with "-", exemplar "a" with a heading "B intro" and
    exemplar "a-b" with one "Intro" both gave "e-a-b-intro". Nor can a scoped id meet one
    of the theme's, none of which holds a ":"."""
    if SCOPE_SEPARATOR in prefix:
        raise ValueError(f"scope_ids: the prefix {prefix!r} may not hold '{SCOPE_SEPARATOR}'")
    scope = escape(prefix)
    return Markup(_ID_OR_FRAGMENT.sub(
        lambda m: f'{m.group(1)}{scope}{SCOPE_SEPARATOR}{m.group(2)}"', str(html)))


class CompiledTemplates(BytecodeCache):
    """Templates as Python code, kept between builds: compiling the theme's templates costs
    a build more time than a small handbook takes to render.

    An entry is used only if it was written for the same template text (Jinja's checksum),
    by the same Python, Jinja and cophandbook (`version`). The code is kept with marshal,
    never pickle; like Python's own __pycache__, the folder is trusted (it is the user's
    cache folder, outside the handbook: see docs/security.md)."""

    def __init__(self, folder: Path, version: str) -> None:
        self.folder = folder
        self.header = (f"{importlib.util.MAGIC_NUMBER.hex()} jinja2 {jinja2.__version__} "
                       f"{version}\n")

    def _file(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.code"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = self._file(bucket).read_bytes()
        except OSError:
            return
        header = f"{self.header}{bucket.checksum}\n".encode()
        if data.startswith(header):
            with contextlib.suppress(ValueError, EOFError, TypeError):  # damaged: compile
                bucket.code = marshal.loads(data[len(header):])

    def dump_bytecode(self, bucket: Bucket) -> None:
        file = self._file(bucket)
        partial = file.with_name(f"{file.name}.{os.getpid()}.partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(f"{self.header}{bucket.checksum}\n".encode()
                                + marshal.dumps(bucket.code))
            os.replace(partial, file)
        except OSError:
            partial.unlink(missing_ok=True)  # that only costs the next build time


def make_env(site: Path, theme: Path, compiled: CompiledTemplates | None = None
             ) -> Environment:
    """`compiled` keeps compiled templates between builds (none for `check`, which writes
    nothing)."""
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
        bytecode_cache=compiled,
    )
    env.filters["long_date"] = _long_date
    env.filters["scope_ids"] = _scope_ids
    env.filters["without_ids"] = lambda html: Markup(without_ids(str(html)))
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
