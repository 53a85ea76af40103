"""Site templates override the theme by name and can extend the original."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cophandbook.build import build
from cophandbook.theme import _scope_ids
from tests.conftest import page


def test_site_template_overrides_and_extends_the_theme(built):
    override = (
        '{% extends "theme/exemplar.html" %}\n'
        '{% block content %}<p class="house-style">Our note</p>{{ super() }}{% endblock %}\n'
    )
    result, out = built({"templates/exemplar.html": override})
    assert result.written, [d.message for d in result.problems]
    doc = page(out, "skills/toasts/exemplars/wedding-toast/")
    assert doc.select_one("main p.house-style").text == "Our note"
    assert doc.select_one("main h1").text == "Wedding toast"  # the original still renders
    assert not page(out, "skills/toasts/").select("p.house-style")


def test_autoescape_protects_front_matter_values(built):
    front = '---\ntitle: "<script>alert(1)</script>"\nsummary: "a \\" onload=x"\n---\n'
    result, out = built({"content/guides/safety.md": front})
    assert result.written
    doc = page(out, "guides/safety/")
    scripts = doc.find_all("script")  # only the theme's own
    assert [s.get("src") for s in scripts] == [None, "/assets/handbook.js"]
    assert "alert" not in scripts[0].text
    assert doc.h1.text == "<script>alert(1)</script>"
    assert doc.find("meta", attrs={"name": "description"})["content"] == 'a " onload=x'


def test_jinja_syntax_in_content_is_literal(built):
    _, out = built({"content/guides/safety.md": "---\ntitle: S\n---\n{{ 7 * 7 }} {% raw %}\n"})
    assert "{{ 7 * 7 }} {% raw %}" in page(out, "guides/safety/").select_one(".prose").text


def test_template_error_names_template_line_and_page(make_site):
    site = make_site({"templates/page.html": '{% extends "base.html" %}\n'
                      "{% block content %}\n{{ page.no_such_field }}\n{% endblock %}\n"})
    result = build(site)
    assert not result.written
    first, second = result.problems.errors  # one per page built with the template
    assert first.code == "template-error" and first.location.path.name == "page.html"
    assert first.location.line == 3 and "/guides/giving-feedback/" in first.message
    assert "/guides/safety/" in second.message


@pytest.mark.parametrize("code", ["{{ 1 / 0 }}", "{{ (1).__class__('x') }}",
                                  "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"])
def test_whatever_a_template_raises_is_a_template_error(make_site, code):
    site = make_site({"templates/page.html": f'{{% extends "base.html" %}}\n'
                      f"{{% block content %}}\n{code}\n{{% endblock %}}\n"})
    result = build(site)
    assert not result.written
    assert {d.code for d in result.problems.errors} == {"template-error"}


def test_template_syntax_error_is_located(make_site):
    site = make_site({"templates/page.html": "{% block content %}\n{% if %}\n"})
    result = build(site)
    d = result.problems.errors[0]
    assert d.location.path.name == "page.html" and d.location.line == 2


SLUG = st.from_regex(r"[a-z0-9_.-]{1,6}", fullmatch=True)  # an exemplar's file name
# Heading ids (word characters and hyphens, "--" included) and, with raw HTML, anything.
BODY_ID = st.from_regex(r"[a-z0-9_-]{1,6}", fullmatch=True) | st.text("ab-:_ é", min_size=1)


@given(st.tuples(st.sampled_from("ex"), SLUG, BODY_ID),
       st.tuples(st.sampled_from("ex"), SLUG, BODY_ID))
@example(("e", "a", "b-intro"), ("e", "a-b", "intro"))
@example(("e", "a", "-b--intro"), ("e", "a-", "b--intro"))
def test_scoped_ids_of_two_bodies_differ_unless_body_and_id_are_the_same(one, other):
    def scoped(kind: str, slug: str, body_id: str) -> str:
        return str(_scope_ids(f'<h2 id="{body_id}">', f"{kind}-{slug}"))

    assert (scoped(*one) == scoped(*other)) == (one == other)


def test_scoped_in_page_links_follow_their_ids_and_the_top_of_the_page_stays():
    html = '<h2 id="intro">I</h2><a href="#intro">i</a> <a href="#">top</a> <a href="a#x">o</a>'
    assert str(_scope_ids(html, "e-a")) == (
        '<h2 id="e-a:intro">I</h2><a href="#e-a:intro">i</a> <a href="#">top</a> '
        '<a href="a#x">o</a>')
    with pytest.raises(ValueError, match="may not hold"):
        _scope_ids(html, "e-a:b")
