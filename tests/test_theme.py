"""Site templates override the theme by name and can extend the original."""

import pytest

from cophandbook.build import build
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
