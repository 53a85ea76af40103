"""Markdown behaviour as fixture files: tests/fixtures/markdown/*.md, in the format of
markdown-it-py's and mdit-py-plugins' own tests. Each case is a title line, then a line `.`,
the input, a line `.`, the expected HTML, and a line `.`.

Every input is rendered as a build renders a body: read as a file is (decoded, so control
and bidi control characters are removed), then by `render_markdown` as the body of the
minimal site's wedding-toast exemplar (tests/conftest.py), with that handbook's link
targets, criterion names and reserved ids. The files named `html-allowed*.md` are rendered
for a handbook that sets `markdown: {allow_html: true}`, so their raw HTML is sanitised;
every other file's handbook leaves HTML off.

To add a case, write its title and input with an empty expected part, render it with
`render_case`, and read the HTML critically before writing it in as expected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it.utils import read_fixture_file

from cophandbook.build import prepare
from cophandbook.derive import all_items, reserved_ids, site_path_of
from cophandbook.diagnostics import Diagnostics
from cophandbook.markdown import render_markdown
from cophandbook.model import Handbook
from cophandbook.references import make_rewriter
from cophandbook.urls import Urls
from cophandbook.yamltext import decode
from tests.conftest import MINIMAL, SETTINGS, write_files

FIXTURES = Path(__file__).parent / "fixtures" / "markdown"
FILES = sorted(FIXTURES.glob("*.md"))
SKILL = "toasts"
PAGE = "skills/toasts/exemplars/wedding-toast.md"  # the body's file, under content/
BODY_LINE = 8  # where the wedding toast's body starts in its file


def html_allowed(fixture: Path) -> bool:
    return fixture.name.startswith("html-allowed")


def cases() -> list[Any]:
    found = []
    for fixture in FILES:
        for case in read_fixture_file(fixture):
            if len(case) == 4:  # an unfinished case fails test_fixture_files_are_well_formed
                line, title, text, expected = case
                found.append(pytest.param(fixture, line + 1, text, expected,
                                          id=f"{fixture.stem}: {title}"))
    return found


@dataclass(frozen=True)
class Context:
    """What a build of the handbook gives `render_markdown` for the exemplar's body."""

    handbook: Handbook

    @property
    def urls(self) -> Urls:
        return Urls.of(self.handbook.settings)

    def rewrite_link(self) -> Callable[[str], str]:
        page_paths = {item.source.rel: site_path_of(item) for item in all_items(self.handbook)}
        return make_rewriter(PAGE, page_paths, self.urls)

    def criterion_label(self, criterion_id: str) -> tuple[str, str] | None:
        rubric = self.handbook.rubric(SKILL)
        criterion = rubric.criterion(criterion_id) if rubric else None
        if rubric is None or criterion is None:
            return None
        return criterion.name, self.urls.href(Urls.criterion(SKILL, criterion.id))


def handbook_of(site: Path, allow_html: bool) -> Context:
    settings = SETTINGS + ("markdown: {allow_html: true}\n" if allow_html else "")
    write_files(site, {**MINIMAL, "handbook.yml": settings})
    problems = Diagnostics()
    prepared = prepare(site, problems)
    assert prepared is not None and not problems.items, [str(d) for d in problems]
    assert prepared.derived.handbook.settings.allow_html is allow_html
    return Context(prepared.derived.handbook)


def render_case(context: Context, text: str) -> str:
    """The HTML a build writes for `text` as the exemplar's body."""
    problems = Diagnostics()
    body = decode(text.encode("utf-8"), Path(PAGE), problems)
    assert body is not None
    handbook = context.handbook
    return render_markdown(
        body,
        body_line=BODY_LINE,
        allow_html=handbook.settings.allow_html,
        rewrite_link=context.rewrite_link(),
        criterion_label=context.criterion_label,
        reserved_ids=reserved_ids(handbook),
    ).html


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Context]:
    root = tmp_path_factory.mktemp("markdown-fixtures")
    return {allow: handbook_of(root / f"html-{allow}", allow) for allow in (False, True)}


@pytest.mark.parametrize(("fixture", "line", "text", "expected"), cases())
def test_markdown_fixture(contexts, fixture, line, text, expected):
    html = render_case(contexts[html_allowed(fixture)], text)
    assert html == expected, f"{fixture.name}:{line}"


def test_fixture_files_are_well_formed():
    """Every `.` line belongs to a case, and every case has a title of its own: a `.` too
    many or too few would silently merge or drop cases."""
    assert FILES and any(html_allowed(f) for f in FILES)
    total = 0
    for fixture in FILES:
        found = read_fixture_file(fixture)
        lines = fixture.read_text(encoding="utf-8").splitlines()
        dots = sum(line.rstrip() == "." for line in lines)
        assert dots == 3 * len(found), fixture.name
        assert all(len(case) == 4 for case in found), fixture.name
        titles = [case[1] for case in found]
        assert all(titles) and len(set(titles)) == len(titles), fixture.name
        total += len(found)
    assert total >= 60
