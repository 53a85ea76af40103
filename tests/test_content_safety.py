"""Hostile Markdown and front matter: nothing from content runs in a reader's browser, every
value is escaped where it lands, and what was refused is reported at its line."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from cophandbook.build import build
from cophandbook.check import check
from cophandbook.markdown import render_inline, render_markdown
from cophandbook.pageids import TEMPLATE_IDS
from cophandbook.schemes import is_allowed_url
from tests.conftest import EXEMPLAR, MINIMAL, ROOT, SETTINGS, diagnose, page, soup

EXEMPLAR_PATH = "content/skills/toasts/exemplars/wedding-toast.md"
EXEMPLAR_PAGE = "skills/toasts/exemplars/wedding-toast/"
HEAD = "---\ntitle: Hostile\nlevel: competent\n---\n"  # body line 1 is file line 5
ALLOW_HTML = SETTINGS + "markdown: {allow_html: true}\n"


def problems(result, code: str) -> list[tuple[str, int, int]]:
    return [(d.location.path.name, d.location.line, d.location.col)
            for d in result.problems if d.code == code]


def work(out: Path) -> BeautifulSoup:
    """The exemplar's own text, as published."""
    section = page(out, EXEMPLAR_PAGE).find("section", class_="work")
    assert section is not None
    return section


def theme_scripts(out: Path) -> set[tuple[str, str]]:
    found = set()
    for file in out.rglob("*.html"):
        for script in BeautifulSoup(file.read_text(), "html.parser").find_all("script"):
            found.add((script.get("src", ""), script.get_text()))
    return found


def event_handlers(out: Path) -> list[str]:
    found = []
    for file in out.rglob("*.html"):
        for tag in BeautifulSoup(file.read_text(), "html.parser").find_all(True):
            found += [f"{file.name}: <{tag.name} {name}>" for name in tag.attrs
                      if name.lower().startswith("on")]
    return found


# -- raw HTML ---------------------------------------------------------------------------------

RAW = (HEAD + "Plain <script>alert(1)</script> text and `<b>code</b>`.\n"
       "\n"
       "<div onclick=\"steal()\">a block</div>\n"
       "\n"
       "```html\n<iframe src=x></iframe>\n```\n")


def test_raw_html_is_text_by_default_with_a_warning_at_its_line(built):
    result, out = built({EXEMPLAR_PATH: RAW})
    assert result.written
    section = work(out)
    assert section.find("script") is None and section.find("div", onclick=True) is None
    assert "<script>alert(1)</script>" in section.get_text()
    assert '<div onclick="steal()">a block</div>' in section.get_text()
    # Code spans and fences are not raw HTML; the two that are, are named at their lines.
    assert problems(result, "raw-html") == [("wedding-toast.md", 5, 7),
                                            ("wedding-toast.md", 7, 1)]
    assert not event_handlers(out)


def test_raw_html_is_sanitised_when_the_handbook_allows_it(built):
    body = (HEAD + "Kept <b>bold</b>, <abbr title=\"x\">abbr</abbr>; gone <script>alert(1)"
            "</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">a</a>"
            "<iframe src=//evil.example></iframe><span style=\"background:url(//t)\">s</span>\n"
            "\n<form action=/x><input name=q></form>\n\n"
            "| a | b |\n|--:|---|\n| 1 | 2 |\n\n- [x] done\n\nfoot[^1]\n\n[^1]: note\n\n"
            "::: tip\nadvice\n:::\n")
    result, out = built({"handbook.yml": ALLOW_HTML, EXEMPLAR_PATH: body})
    assert result.written and not problems(result, "raw-html")
    section = work(out)
    assert section.find("b").get_text() == "bold"
    assert section.find("abbr")["title"] == "x"
    for tag in ("script", "iframe", "form", "style"):
        assert section.find(tag) is None, tag
    assert section.find("img")["src"] == "x" and "onerror" not in section.find("img").attrs
    assert all(not a.get("href", "").startswith("javascript") for a in section.find_all("a"))
    assert section.find("span").get("style") is None
    # Markdown's own markup survives the sanitiser.
    assert section.find("td").get("style") == "text-align:right"
    assert section.find("input", type="checkbox").has_attr("checked")
    assert section.find("section", class_="footnotes") is not None
    assert section.find("aside", class_="callout-tip") is not None
    assert not event_handlers(out)


def test_rubric_descriptors_are_sanitised_too(built):
    rubric = MINIMAL["content/skills/toasts/rubric.md"].replace(
        "Ideas in the order they occur.",
        "'Ideas <img src=x onerror=alert(1)> [see](javascript:alert(2))'")
    for settings in (SETTINGS, ALLOW_HTML):
        result, out = built({"handbook.yml": settings,
                             "content/skills/toasts/rubric.md": rubric})
        # The refused link is named at the descriptor's line; the image is sanitised.
        assert problems(result, "unsafe-url") == [("rubric.md", 7, 7)]
        result, out = built({"handbook.yml": settings, "content/skills/toasts/rubric.md":
                             rubric.replace("(javascript:alert(2))", "(#)")})
        assert result.written
        rubric_page = page(out, "skills/toasts/rubric/")
        assert not event_handlers(out)
        assert not [a for a in rubric_page.find_all("a")
                    if a.get("href", "").lower().startswith("javascript")]


# -- URLs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
    " javascript:alert(1)", "\x01javascript:alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "tel:123", "ftp://x",
])
def test_only_http_https_mailto_and_relative_urls_are_allowed(url):
    assert not is_allowed_url(url)


@pytest.mark.parametrize("url", ["https://example.org/a", "http://x", "mailto:a@example.org",
                                 "../rubric.md#structure", "/recordings/a.mp3", "#note-1",
                                 "page", "//cdn.example.org/x.png", "%6Aavascript:x"])
def test_allowed_urls(url):
    assert is_allowed_url(url)


def test_links_and_images_with_other_schemes_are_errors_at_their_place(built, make_site):
    body = (HEAD + "[a](javascript:alert(1)) and [b](&#106;avascript:alert(2))\n"
            "\n"
            "![c](data:image/svg+xml,<svg/onload=alert(3)>) <vbscript:msgbox(4)>\n"
            "\n"
            "[ok](https://example.org) [mail](mailto:a@example.org) [rel](../rubric.md)\n")
    result, _ = built({EXEMPLAR_PATH: body})
    assert not result.written
    found = problems(result, "unsafe-url")
    # An entity-encoded target cannot be found as written: its block's start is given.
    assert [(line, col) for _, line, col in found] == [(5, 1), (5, 5), (7, 6), (7, 49)]
    site = make_site({EXEMPLAR_PATH: body}, name="checked")
    assert "unsafe-url" in {d.code for d in check(site).problems.errors}


def test_a_refused_link_keeps_its_text_but_not_its_target():
    rendered = render_markdown("[text](javascript:alert(1)) ![alt](vbscript:x)")
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert soup.find("a").get_text() == "text" and not soup.find("a").has_attr("href")
    assert soup.find("img")["alt"] == "alt" and not soup.find("img").has_attr("src")
    assert [note.code for note in rendered.notes] == ["unsafe-url", "unsafe-url"]
    assert rendered.links == ()


@pytest.mark.parametrize("media", ["JaVaScRiPt:alert(1)", " javascript:alert(1)",
                                   "data:text/html,x", "vbscript:x"])
def test_front_matter_urls_are_held_to_the_same_list(built, media):
    text = EXEMPLAR.replace("date: 2026-03-02\n", f"date: 2026-03-02\nmedia: {media!r}\n")
    result, _ = built({EXEMPLAR_PATH: text})
    assert problems(result, "unsafe-url") == [("wedding-toast.md", 7, 1)]


# -- escaping in every context ----------------------------------------------------------------

NASTY = "</title><script>alert(1)</script>\"'><img src=x onerror=alert(2)>{{ 7*7 }}&amp;"


def test_front_matter_values_are_escaped_everywhere(built):
    quoted = json.dumps(NASTY)  # a JSON string is a YAML string
    session = (f"---\ntitle: {quoted}\ndate: 2026-05-01\nsummary: {quoted}\n"
               f"facilitator: {quoted}\n---\nWe met.\n")
    exemplar = EXEMPLAR.replace("title: Wedding toast", f"title: {quoted}").replace(
        "contributor: Sam R.", f"contributor: {quoted}\nsummary: {quoted}")
    _, plain_out = built()
    result, out = built({EXEMPLAR_PATH: exemplar,
                         "content/sessions/2026-05-01-nasty.md": session})
    assert result.written, result.problems.items
    exemplar_page = page(out, EXEMPLAR_PAGE)
    assert exemplar_page.title.get_text().startswith(NASTY)
    assert exemplar_page.find("h1").get_text() == NASTY
    assert exemplar_page.find("meta", attrs={"name": "description"})["content"] == NASTY
    assert NASTY in exemplar_page.find("dl", class_="facts").get_text()
    # Pages that list the exemplar or session show the title as text too.
    assert NASTY in page(out, "skills/toasts/levels/competent/").get_text()
    assert NASTY in page(out, "sessions/").get_text()
    assert theme_scripts(out) == theme_scripts(plain_out)
    assert not event_handlers(out)
    feed = ET.parse(out / "sessions" / "feed.xml").getroot()
    titles = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert NASTY in titles
    ET.parse(out / "sitemap.xml")


def test_jinja_syntax_in_content_is_shown_as_written(built):
    result, out = built({EXEMPLAR_PATH: HEAD + "{{ 7*7 }} {% if true %}x{% endif %} {# c #}\n"})
    assert result.written
    assert work(out).get_text().strip() == "{{ 7*7 }} {% if true %}x{% endif %} {# c #}"


def test_code_fence_info_strings_are_escaped(built):
    body = HEAD + '```js" onmouseover="alert(1)\ncode\n```\n'
    result, out = built({EXEMPLAR_PATH: body})
    assert result.written
    code = work(out).find("code")
    assert code.get_text() == "code\n" and not event_handlers(out)
    assert code["class"][0].startswith("language-js")


# -- heading ids ------------------------------------------------------------------------------

THEME = ROOT / "themes" / "default"
# Where a template names an id: an element's own, or one a label, control, region name or
# link points to (aria-labelledby may list several).
ID_ATTRIBUTE = re.compile(r'(?<![\w-])(?:id|for|aria-controls|aria-labelledby|aria-describedby)'
                          r'="([^"]*)"|(?<![\w-])href="#([^"]+)"')
JS_ID = re.compile(r'getElementById\("([^"]+)"\)|["\'`]#([a-z][a-z0-9-]*)["\'`]')
# Ids the templates build from a handbook's values (written without spaces), with the ids
# each stands for when it has a fixed few. A bare criterion or level id is refused when the
# theme uses it (`reserved-id`); the others join the values' ids, which never hold "--", with
# "--", after a prefix that no other id of the theme starts with.
BUILT_IDS: dict[str, frozenset[str]] = {
    "{{step.level.id}}": frozenset(), "{{rung.level.id}}": frozenset(),
    "{{row.criterion.id}}": frozenset(), "{{row.criterion.id}}--{{cell.level.id}}": frozenset(),
    "n-{{row.criterion.id}}": frozenset(), "c-{{step.criterion.id}}": frozenset(),
    "cov-{{cov.skill.id}}": frozenset(), "cov-{{cov.skill.id}}--caption": frozenset(),
    "cat-{{group.skill.id}}": frozenset(), "cat-{{group.skill.id}}--{{level.id}}": frozenset(),
    "w-{{item.skill.id}}--{{item.criterion.id}}": frozenset(),
    "pack-e-{{e.slug}}": frozenset(), "pack-x-{{x.slug}}": frozenset(),
    "m-{{month.key}}": frozenset(), "h-{{month.key}}": frozenset(),
    "search-{{name}}": frozenset({"search-kind", "search-skill", "search-level"}),
}


def ids_named_by_the_theme() -> tuple[set[str], set[str]]:
    """(literal ids, built ids) the default theme's templates and scripts name."""
    literal: set[str] = set()
    built: set[str] = set()
    for file in (THEME / "templates").glob("*.html"):
        text = re.sub(r"\{\{\s*(.*?)\s*\}\}", lambda m: "{{" + m.group(1).replace(" ", "") + "}}",
                      file.read_text())
        for written in ID_ATTRIBUTE.findall(text):
            for name in "".join(written).split():
                (built if "{{" in name else literal).add(name)
    for file in (THEME / "static").glob("*.js"):
        literal |= {"".join(found) for found in JS_ID.findall(file.read_text())}
    return literal, built


def test_the_theme_ids_list_is_every_id_the_default_theme_names():
    literal, built = ids_named_by_the_theme()
    assert len(literal) > 40 and {"main", "site-nav", "my-level", "steps-heading"} <= literal
    fixed = frozenset().union(*BUILT_IDS.values())
    assert literal | fixed == TEMPLATE_IDS, (sorted(literal - TEMPLATE_IDS),
                                             sorted(TEMPLATE_IDS - literal - fixed))
    assert built <= set(BUILT_IDS), sorted(built - set(BUILT_IDS))


def test_no_id_the_theme_builds_from_a_prefix_can_be_one_of_its_own():
    for form, fixed in BUILT_IDS.items():
        prefix = form.split("{{")[0]
        if prefix and not fixed:
            assert not [i for i in TEMPLATE_IDS if i.startswith(prefix)], form


def test_a_criterion_or_level_id_the_theme_uses_is_refused_where_it_is_written(built):
    # A level "main" gave the skill page two elements with id "main" (the skip link's
    # target); criteria "site-nav" and "my-level" did the same to the rubric page.
    settings = SETTINGS.replace("id: expert", "id: main")
    rubric = (MINIMAL["content/skills/toasts/rubric.md"].replace("expert:", "main:")
              .replace("id: structure", "id: site-nav").replace("id: delivery", "id: my-level"))
    exemplar = (EXEMPLAR.replace("structure", "site-nav").replace("delivery", "my-level")
                .replace("expert", "main"))
    result, _ = built({"handbook.yml": settings, "content/skills/toasts/rubric.md": rubric,
                       EXEMPLAR_PATH: exemplar, "content/skills/toasts/exemplars/first-toast.md":
                       None, "content/skills/toasts/exercises/one-minute-ladder.md": None,
                       "content/sessions/2026-01-14-toast-night.md": None})
    assert not result.written
    # One mistake, one error: the exemplar naming them hears nothing more.
    found = [(d.code, d.location.path.name, d.location.line, d.message, d.hint)
             for d in result.problems]
    assert [f[:3] for f in found] == [("reserved-id", "handbook.yml", 5),
                                      ("reserved-id", "rubric.md", 4),
                                      ("reserved-id", "rubric.md", 10)]
    assert "level id 'main'" in found[0][3] and "skip link" in found[0][3]
    assert "rename the level" in found[0][4]
    assert "criterion id 'site-nav'" in found[1][3] and "site menu" in found[1][3]
    assert "'My level' chooser" in found[2][3] and "rename the criterion" in found[2][4]


def test_ids_notes_and_footnotes_take_are_refused_too(make_site):
    settings = SETTINGS.replace("id: expert", "id: fn1")
    rubric = (MINIMAL["content/skills/toasts/rubric.md"].replace("expert:", "fn1:")
              .replace("id: delivery", "id: note-2"))
    problems = diagnose(make_site({
        "handbook.yml": settings, "content/skills/toasts/rubric.md": rubric,
        EXEMPLAR_PATH: None, "content/skills/toasts/exemplars/first-toast.md": None,
        "content/skills/toasts/exercises/one-minute-ladder.md": None,
        "content/sessions/2026-01-14-toast-night.md": None}))
    assert [(d.code, d.location.line) for d in problems] == [("reserved-id", 5),
                                                             ("reserved-id", 10)]
    assert "footnote" in problems.items[0].message
    assert "annotation's note" in problems.items[1].message


def test_ids_built_from_two_values_never_meet_another_built_id(built):
    # Joined with "-", skill "toasts-novice" met skill "toasts" at level "novice" in the
    # catalog (cat-toasts-novice), skill "caption-toasts" met the caption of "toasts" on the
    # coverage page, criterion "b-c" of "toasts" met criterion "c" of "toasts-b" on a
    # feedback theme's page, and level "rung-novice" met the rung of level "novice".
    settings = (SETTINGS.replace("id: expert", "id: rung-novice")
                + "  - {id: both, name: Both, criteria: [toasts/b-c, toasts-b/c]}\n")
    rubric = (MINIMAL["content/skills/toasts/rubric.md"].replace("expert:", "rung-novice:")
              .replace("id: delivery", "id: b-c"))
    skill = MINIMAL["content/skills/toasts/index.md"]
    files: dict[str, str | None] = {
        "handbook.yml": settings, "content/skills/toasts/rubric.md": rubric,
        "content/skills/toasts/index.md": skill + "\n## Rung novice\n",
        EXEMPLAR_PATH: None, "content/skills/toasts/exemplars/first-toast.md": None,
        "content/sessions/2026-01-14-toast-night.md": None,
    }
    for other in ("toasts-b", "toasts-novice", "caption-toasts"):
        files[f"content/skills/{other}/index.md"] = skill
        files[f"content/skills/{other}/rubric.md"] = rubric.replace("id: structure", "id: c")
        files[f"content/skills/{other}/exercises/x.md"] = "---\ntitle: X\nlevels: [novice]\n---\n"
    result, out = built(files)
    assert result.written, [str(d) for d in result.problems]
    for file in out.rglob("*.html"):
        ids = Counter(tag["id"] for tag in soup(file).find_all(id=True))
        assert [i for i, n in ids.items() if n > 1] == [], file.relative_to(out)


def test_no_page_has_an_id_twice_whatever_the_headings_say(built):
    names = ["Main", "Site nav", "My level", "Note 1", "fn1", "fnref1", "!!!", "!!!",
             "Structure", "Structure--novice", "N-structure", "Novice", "Delivery",
             "Assessment heading", "Main"]
    headings = "".join(f"## {name}\n\ntext[^{i}]\n\n[^{i}]: n\n\n"
                       for i, name in enumerate(names))
    body = HEAD + headings + "Said.\n\n::: annotation structure\nA note.\n:::\n"
    skill = MINIMAL["content/skills/toasts/index.md"] + "\n## Novice\n\n## Main\n"
    rubric = MINIMAL["content/skills/toasts/rubric.md"] + "## Structure\n\n## Novice\n"
    result, out = built({EXEMPLAR_PATH: body, "content/skills/toasts/index.md": skill,
                         "content/skills/toasts/rubric.md": rubric})
    assert result.written
    for file in out.rglob("*.html"):
        ids = [tag["id"] for tag in BeautifulSoup(file.read_text(), "html.parser")
               .find_all(id=True)]
        repeated = {i for i in ids if ids.count(i) > 1}
        assert not repeated, f"{file.relative_to(out)}: {sorted(repeated)}"
        assert "" not in ids
    # The skip link still lands on the page's main element.
    main = page(out, EXEMPLAR_PAGE).find(id="main")
    assert main.name == "main"


def test_renamed_headings_are_the_anchors_links_are_checked_against(built):
    body = HEAD + "## Main\n\nSee [below](#main-1) and [missing](#main-2).\n"
    result, _ = built({EXEMPLAR_PATH: body})
    anchors = [d.message for d in result.problems if d.code == "broken-anchor"]
    assert len(anchors) == 1 and "#main-2" in anchors[0]


def test_control_characters_never_reach_html_or_xml(built):
    session = "---\ntitle: Bell\x07 and\x1b escape\ndate: 2026-05-01\n---\nText\x0b here\n"
    result, out = built({"content/sessions/2026-05-01-bell.md": session,
                         EXEMPLAR_PATH: HEAD + "nul\x00 and\x1b[31m red\n"})
    assert result.written
    assert {d.code for d in result.problems} == {"control-character"}
    for file in [*out.rglob("*.html"), *out.rglob("*.xml")]:
        text = file.read_text()
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), file.name
    ET.parse(out / "sessions" / "feed.xml")


def test_control_characters_written_as_yaml_escapes_are_errors_at_their_line(built):
    session = '---\ntitle: Bell\ndate: 2026-05-01\nsummary: "ring \\a the \\x1b bell"\n---\nx\n'
    result, _ = built({"content/sessions/2026-05-01-bell.md": session})
    assert not result.written
    assert problems(result, "invalid-yaml") == [("2026-05-01-bell.md", 4, 10)]
    assert "U+0007" in result.problems.errors[0].message


BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def test_bidi_controls_never_reach_a_page_and_each_is_reported_where_it_was(built):
    # Shown with its override, the title reads "Safe lmth.exe": a spoofed file name.
    spoof = "Safe \u202eexe.lmth\u202c"
    exemplar = EXEMPLAR.replace("title: Wedding toast", f"title: {spoof}").replace(
        "Raise your glasses.", "Raise \u2067your\u2069 glasses \u200f(\u05e9).")
    session = f"---\ntitle: Night\ndate: 2026-05-01\nsummary: {spoof}\n---\n{spoof}\n"
    result, out = built({EXEMPLAR_PATH: exemplar,
                         "content/sessions/2026-05-01-night.md": session,
                         "handbook.yml": SETTINGS.replace("Test Circle", spoof)})
    assert result.written
    assert {d.code for d in result.problems} == {"bidi-control"}
    assert all(d.severity.value == "warning" for d in result.problems)
    assert sorted(problems(result, "bidi-control")) == [
        ("2026-05-01-night.md", 4, 15), ("2026-05-01-night.md", 4, 24),
        ("2026-05-01-night.md", 6, 6), ("2026-05-01-night.md", 6, 15),
        ("handbook.yml", 1, 13), ("handbook.yml", 1, 22),
        ("wedding-toast.md", 2, 13), ("wedding-toast.md", 2, 22),
        ("wedding-toast.md", 16, 7), ("wedding-toast.md", 16, 12)]
    assert "U+202E" in result.problems.warnings[0].message
    exemplar_page = page(out, EXEMPLAR_PAGE)
    assert exemplar_page.h1.get_text() == "Safe exe.lmth"
    # The right-to-left mark is text, not a control: it stays.
    assert "glasses \u200f(\u05e9)" in work(out).get_text()
    for file in [*out.rglob("*.html"), *out.rglob("*.xml"), *out.rglob("*.json")]:
        assert not BIDI.search(file.read_text()), file.relative_to(out)


def test_bidi_controls_written_as_yaml_escapes_are_errors_at_their_line(built):
    session = '---\ntitle: Night\ndate: 2026-05-01\nsummary: "Safe \\u202eexe.lmth"\n---\nx\n'
    result, _ = built({"content/sessions/2026-05-01-night.md": session})
    assert not result.written
    assert problems(result, "invalid-yaml") == [("2026-05-01-night.md", 4, 10)]
    assert "U+202E" in result.problems.errors[0].message


def test_static_files_a_browser_would_run_are_warned_about(built):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    result, out = built({"static/logo.svg": svg, "static/page.html": "<script>x</script>",
                         "static/photo.png": b"\x89PNG", "static/notes.pdf": b"%PDF"})
    assert result.written  # published as it is: the organizers decide
    assert sorted(problems(result, "active-static-file")) == [("logo.svg", 0, 0),
                                                             ("page.html", 0, 0)]
    assert (out / "logo.svg").read_text() == svg


def test_a_link_to_a_file_outside_the_site_never_copies_it(make_site, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the treasurer's password")
    body = (HEAD + "[a](../../../../../secret.txt) ![b](/../secret.txt) "
            "[c](../../../../../../../../etc/passwd)\n")
    site = make_site({EXEMPLAR_PATH: body})
    result = build(site)
    assert result.written
    assert len([d for d in result.problems if d.code == "broken-link"]) == 3
    for file in (site / "_site").rglob("*"):
        if file.is_file():
            assert b"treasurer" not in file.read_bytes() and b"root:" not in file.read_bytes()
    assert "unsafe-url" not in {d.code for d in check(site).problems}


def test_short_markdown_drops_refused_targets_too():
    """Rubric descriptors are checked when read; rendering drops a refused target anyway."""
    for allow_html in (False, True):
        soup = BeautifulSoup(render_inline("[a](javascript:x) ![b](data:x) <vbscript:y>",
                                           allow_html), "html.parser")
        assert [a.get("href") for a in soup.find_all("a")] == [None, None]
        assert soup.find("img").get("src") is None


def test_passages_quoted_on_other_pages_bring_no_ids_with_them(built):
    """Two exemplars that open with "## Intro" and a footnote, each annotated there: the
    criterion page and the level page quote both passages, and the self-assessment's steps
    carry one; none holds the exemplars' ids, nor links to them."""
    opening = ("## Intro\n\nWe met in the rain.[^1]\n\n::: annotation structure\nOpens well.\n"
               ":::\n\n[^1]: A bus stop.\n")
    second = HEAD.replace("Hostile", "Second") + opening
    result, out = built({EXEMPLAR_PATH: HEAD + opening,
                         "content/skills/toasts/exemplars/second-toast.md": second})
    assert result.written, [str(d) for d in result.problems]
    for site_path in ("skills/toasts/criteria/structure/", "skills/toasts/levels/competent/",
                      "skills/toasts/levels/novice/"):
        html = page(out, site_path)
        quotes = html.select(".passage-quote blockquote")
        ids = Counter(tag["id"] for tag in html.find_all(id=True))
        assert [i for i, n in ids.items() if n > 1] == [], site_path
        for quote in quotes:
            assert quote.find(id=True) is None
            assert not [a for a in quote.find_all("a") if a.get("href", "").startswith("#")]
    quoted = page(out, "skills/toasts/criteria/structure/").select(".passage-quote blockquote")
    assert len(quoted) == 2 and all(q.find("sup") for q in quoted)  # each keeps its mark
    steps = json.loads((out / "skills/toasts/assess/steps.json").read_text())
    passages = [level["passage"]["passage"] for criterion in steps["criteria"]
                for level in criterion["levels"].values() if level.get("passage")]
    assert passages and all(' id="' not in p and 'href="#' not in p for p in passages)
    # On the exemplar's own page the ids stay, for the links that lead there.
    assert page(out, EXEMPLAR_PAGE).find(id="intro") is not None
