import os
import random
import re
import sys
from collections.abc import Callable
from types import FrameType

import pytest
from bs4 import BeautifulSoup
from mdit_py_plugins.anchors.index import slugify, unique_slug

from cophandbook.deadline import time_limit
from cophandbook.markdown import TEMPLATE_IDS, render_inline, render_markdown, without_annotations


def html(text: str, **kwargs) -> BeautifulSoup:
    return BeautifulSoup(render_markdown(text, **kwargs).html, "html.parser")


def test_extensions_render():
    doc = html(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Term\n: Definition\n\n"
        "- [x] done\n- [ ] todo\n\n"
        "Note[^1]\n\n[^1]: The footnote.\n"
    )
    assert doc.select_one(".table-scroll table td").text == "1"
    assert doc.select_one("dl dt").text == "Term" and doc.select_one("dl dd").text == "Definition"
    boxes = doc.select("input[type=checkbox]")
    assert len(boxes) == 2 and boxes[0].has_attr("checked")
    assert "The footnote." in doc.select_one("section.footnotes").text


def test_heading_ids_are_github_slugs_and_unique():
    body = render_markdown("## What's next?\n\n## What's next?\n\n### Café & co\n")
    assert [h.id for h in body.headings] == ["whats-next", "whats-next-1", "café--co"]


def test_raw_html_is_escaped_unless_allowed():
    doc = html("<script>alert(1)</script>\n\nText <b>bold</b>\n")
    assert doc.find("script") is None and doc.find("b") is None
    assert "<script>" in doc.text
    allowed = html("Text <b>bold</b>\n", allow_html=True)
    assert allowed.find("b").text == "bold"


def test_annotation_sits_beside_its_passage_with_file_line():
    body = render_markdown(
        "Intro.\n\nThe passage.\n\n::: annotation structure\nA *note*.\n:::\n\nAfter.\n",
        body_line=10,
        criterion_label=lambda c: ("Structure", "/skills/x/criteria/structure/"),
    )
    (note,) = body.annotations
    assert note.criterion == "structure" and note.line == 14
    assert "The passage." in note.passage_html and "<em>note</em>" in note.note_html
    doc = BeautifulSoup(body.html, "html.parser")
    (wrapper,) = doc.select(".annotated")
    assert wrapper.select_one(".passage").text.strip() == "The passage."
    aside = wrapper.select_one(".notes aside.annotation")
    assert aside["id"] == note.anchor
    assert aside.select_one(".annotation-criterion a")["href"] == "/skills/x/criteria/structure/"
    paragraphs = [p.text for p in doc.find_all("p", recursive=False)]
    assert paragraphs == ["Intro.", "After."]


def test_consecutive_annotations_share_one_passage():
    body = render_markdown("P.\n\n::: annotation a\nOne\n:::\n\n::: annotation b\nTwo\n:::\n")
    assert [a.criterion for a in body.annotations] == ["a", "b"]
    assert BeautifulSoup(body.html, "html.parser").select(".annotated .notes aside")[1].text


def test_the_work_without_annotations_keeps_every_passage_and_no_note():
    body = render_markdown("## Part\n\nIntro.\n\nP.\n\n::: annotation a\nOne\n:::\n\n"
                           "::: annotation b\nTwo\n:::\n\n- Listed\n\n::: annotation a\nThree\n"
                           ":::\n\nAfter.\n")
    work = BeautifulSoup(without_annotations(body.html), "html.parser")
    assert [t.name for t in work.find_all(recursive=False)] == ["h2", "p", "p", "ul", "p"]
    assert work.get_text(" ", strip=True) == "Part Intro. P. Listed After."
    assert not work.select(".annotated, .passage, .notes, aside")


def test_a_body_cannot_forge_what_marks_its_notes():
    text = "Keep <!--/a--> me. <!--a--> and me.\n\n::: annotation a\nNote.\n:::\n\nLast.\n"
    for allow_html in (False, True):
        body = render_markdown(text, allow_html=allow_html)
        work = BeautifulSoup(without_annotations(body.html), "html.parser").get_text(" ")
        assert "Keep" in work and "and me." in work and "Last." in work, allow_html
        assert "Note." not in work, allow_html


def test_callouts():
    doc = html("::: tip Breathe first\nSlow down.\n:::\n\n::: safety\nPause any time.\n:::\n")
    tip, safety = doc.select("aside.callout")
    assert "callout-tip" in tip["class"]
    assert tip.select_one(".callout-title").text == "Breathe first"
    assert safety.select_one(".callout-title").text == "Safety"


def test_containers_open_where_commonmark_blocks_do_and_nowhere_else():
    doc = html(
        "A paragraph\n::: warning Hot\nIt ends the paragraph.\n:::\n\n"
        "- item\n\n  ::: tip\n  Inside the list.\n  :::\n\n"
        "::: tip Outer\n:::: safety\nNested.\n::::\n:::\n\n"
        "::: unknown\nStays text.\n:::\n\n"
        "    ::: tip\n    Indented code.\n    :::\n"
    )
    warning, listed, outer, nested = doc.select("aside.callout")
    assert doc.find("p").text == "A paragraph"
    assert warning.select_one(".callout-title").text == "Hot"
    assert listed.find_parent("li") is not None and "Inside the list." in listed.text
    assert nested.find_parent("aside") is outer and "callout-safety" in nested["class"]
    assert "::: unknown" in doc.text and "Stays text." in doc.text
    assert "::: tip" in doc.find("pre").text
    body = render_markdown("Passage.\n::: annotation structure\nNote.\n:::\n")
    assert [a.criterion for a in body.annotations] == ["structure"]


def test_links_are_rewritten_and_recorded_with_lines():
    body = render_markdown("Line one.\n\nSee [a](other.md#x) and ![i](/img.png).\n",
                           body_line=4, rewrite_link=lambda h: "NEW:" + h)
    assert [(link.href, link.line, link.col, link.image) for link in body.links] == [
        ("other.md#x", 6, 9, False), ("/img.png", 6, 30, True)]
    doc = BeautifulSoup(body.html, "html.parser")
    assert doc.a["href"] == "NEW:other.md#x" and doc.img["src"] == "NEW:/img.png"


def test_inline_markdown_for_descriptors():
    assert render_inline("A *call-back* <b>") == "A <em>call-back</em> &lt;b&gt;"


def test_link_positions_in_tables_lists_quotes_and_reference_definitions():
    body = render_markdown(
        "| a | b |\n|---|---|\n| [t](t.md) | x |\n\n"
        "- one [u](u.md)\n  [u again](u.md) [r][ref]\n\n"
        "> ![q](/q.png)\n\n[ref]: r.md\n",
        body_line=10,
    )
    assert [(link.href, link.line, link.col) for link in body.links] == [
        ("t.md", 12, 7), ("u.md", 14, 11), ("u.md", 15, 13), ("r.md", 19, 8),
        ("/q.png", 17, 8)]


# -- heading ids ------------------------------------------------------------------------------

def ids_as_before(titles: list[str], reserved: frozenset[str]) -> list[str]:
    """The ids headings were given by mdit-py-plugins' anchors plugin and the rule that made
    them free, as written before: every repeat searched its number from 1."""
    slugs: set[str] = set()
    taken: set[str] = set()
    unavailable = TEMPLATE_IDS | reserved
    ids = []
    for title in titles:
        slug = unique_slug(slugify(title), slugs)
        if not any(char.isalnum() for char in slug):
            slug = "section"

        def free(candidate: str) -> bool:
            return (candidate not in taken and candidate not in unavailable
                    and not re.fullmatch(r"note-\d+|fn\d+|fnref\d+(?::\d+)?", candidate))

        if not free(slug):
            suffix = 1
            while not free(f"{slug}-{suffix}"):
                suffix += 1
            slug = f"{slug}-{suffix}"
        taken.add(slug)
        ids.append(slug)
    return ids


TITLES = ["Same", "Same 1", "Same-1", "Same 1 1", "same-2", "!", "?", "_", "-", "Section",
          "Section 1", "Main", "Main 1", "Note 1", "Note 2", "fn1", "fnref1", "Novice",
          "Structure", "Structure--novice", "Café & co", "`Same`", "What's next?"]


@pytest.mark.parametrize("seed", range(20))
def test_heading_ids_are_those_given_before(seed):
    rng = random.Random(seed)
    titles = [rng.choice(TITLES) for _ in range(80)]
    reserved = frozenset({"novice", "structure", "structure--novice", "section-2", "same-3"})
    body = render_markdown("".join(f"## {title}\n\ntext\n\n" for title in titles),
                           reserved_ids=reserved)
    assert [h.id for h in body.headings] == ids_as_before(titles, reserved)


def lines_run(work: Callable[[], object]) -> int:
    """Python lines run by `work`, but for markdown-it's own (parsing, linear)."""
    count = 0

    def line(_frame: FrameType, event: str, _arg: object) -> object:
        nonlocal count
        count += event == "line"
        return line

    def call(frame: FrameType, _event: str, _arg: object) -> object:
        return None if f"{os.sep}markdown_it{os.sep}" in frame.f_code.co_filename else line

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


def test_ids_for_a_repeated_heading_take_linear_work():
    def work(repeats: int) -> int:
        return lines_run(lambda: render_markdown("## Same\n\nx\n" * repeats))

    work(10)  # the parser's first use compiles what it keeps
    # Linear: twice the repeats, twice the work (numbering each repeat from 1 is quadratic).
    assert work(600) <= 2.2 * work(300)


def test_a_heading_whose_numbered_ids_are_all_taken_gets_another():
    # A criterion named "note" reserves the id, and every "note-<number>" is an
    # annotation's: numbering "note" searched for a free one without end.
    with time_limit(5):
        body = render_markdown("## Note\n\n## Note\n", reserved_ids=frozenset({"note"}))
    assert [h.id for h in body.headings] == ["note-heading", "note-1-1"]
