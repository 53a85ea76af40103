"""The example handbook, built once: a member can find, for every skill, each level's
descriptors, exemplars and exercises, and for every criterion its climb with real passages."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE_SITE, page

CONTENT = EXAMPLE_SITE / "content"
SETTINGS = yaml.safe_load((EXAMPLE_SITE / "handbook.yml").read_text())
LEVELS = [lvl["id"] for lvl in SETTINGS["levels"]]
SKILLS = sorted(p.parent.name for p in CONTENT.glob("skills/*/index.md"))


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n")[1])


def criteria_of(skill: str) -> list[str]:
    return [c["id"] for c in front(CONTENT / "skills" / skill / "rubric.md")["criteria"]]


def test_example_is_a_complete_handbook():
    assert len(SKILLS) >= 2 and 4 <= len(LEVELS) <= 5
    assert all(lvl.get("summary") for lvl in SETTINGS["levels"])
    assert len(list(CONTENT.glob("skills/*/exemplars/*.md"))) >= 12
    assert len(list(CONTENT.glob("skills/*/exercises/*.md"))) >= 8
    sessions = [front(p) for p in CONTENT.glob("sessions/*.md")]
    assert len(sessions) >= 8
    assert len({(s["date"].year, s["date"].month) for s in sessions}) >= 3
    for skill in SKILLS:
        assert len(criteria_of(skill)) >= 4
        levels = {front(p)["level"] for p in CONTENT.glob(f"skills/{skill}/exemplars/*.md")}
        assert levels == set(LEVELS), skill
    for guide in ("giving-feedback", "reflection-prompts", "safety", "healthy-practice-group"):
        assert list(CONTENT.glob(f"guides/**/{guide}.md")), guide


def test_ladder_shows_every_level_with_its_descriptors_exemplars_and_exercises(example_out):
    for skill in SKILLS:
        doc = page(example_out, f"skills/{skill}/")
        rungs = doc.select(".ladder section.rung")
        assert [r["id"] for r in rungs] == LEVELS
        for rung in rungs:
            assert len(rung.select("dl.descriptors dd")) == len(criteria_of(skill))
            assert all(dd.text.strip() for dd in rung.select("dl.descriptors dd"))
            assert rung.select("a[href*='/exemplars/']"), (skill, rung["id"])
            assert rung.select("a[href*='/exercises/']"), (skill, rung["id"])


def test_every_criterion_climbs_lowest_to_highest_with_annotated_passages(example_out):
    for skill in SKILLS:
        for criterion in criteria_of(skill):
            doc = page(example_out, f"skills/{skill}/criteria/{criterion}/")
            steps = doc.select("ol.climb > li")
            assert [s["id"] for s in steps] == LEVELS
            assert all(s.select_one(".descriptor").text.strip() for s in steps)
            passages = doc.select("figure.passage-quote")
            assert passages, (skill, criterion)
            for figure in passages:
                assert figure.figcaption.select_one(".note").text.strip()
                link = figure.figcaption.select_one("a[href*='/exemplars/']")["href"]
                target, anchor = link.split("#")
                exemplar = page(example_out, target.lstrip("/"))
                assert exemplar.find(id=anchor) is not None


def test_every_source_annotation_appears_on_its_exemplar_page(example_out):
    for path in CONTENT.glob("skills/*/exemplars/*.md"):
        written = re.findall(r"^::: annotation (\S+)", path.read_text(), re.M)
        assert written, path.name  # every example exemplar is annotated
        skill = path.parent.parent.name
        doc = page(example_out, f"skills/{skill}/exemplars/{path.stem}/")
        shown = doc.select(".work .annotated aside.annotation")
        assert len(shown) == len(written)
        for aside in shown:
            assert aside.find_parent(class_="annotated").select_one(".passage").text.strip()


def test_matrix_cells_and_exemplars_link_each_other(example_out):
    for skill in SKILLS:
        matrix = page(example_out, f"skills/{skill}/rubric/")
        links = matrix.select("td .cell-exemplars a")
        assert links
        for link in links:
            cell_id = link.find_parent("td")["id"]
            exemplar = page(example_out, link["href"].lstrip("/"))
            backlinks = [a["href"] for a in exemplar.select("a.rubric-cell-link")]
            assert f"/skills/{skill}/rubric/#{cell_id}" in backlinks


def test_feed_has_every_session(example_out):
    feed = ET.parse(example_out / "sessions/feed.xml").getroot()
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == len(list(CONTENT.glob("sessions/*.md")))
    dates = [e.find("{http://www.w3.org/2005/Atom}updated").text for e in entries]
    assert dates == sorted(dates, reverse=True)


def test_timeline_calls_out_a_long_gap_and_themes_recur(example_out):
    assert page(example_out, "sessions/").select("li.gap")
    themes = page(example_out, "feedback/").select("ol.themes > li")
    counts = [int(re.search(r"raised in (\d+)", t.text).group(1)) for t in themes]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 3


def test_coverage_matches_the_matrix(example_out):
    doc = page(example_out, "coverage/")
    for skill in SKILLS:
        matrix = page(example_out, f"skills/{skill}/rubric/")
        empty = {td["id"] for td in matrix.select("td") if not td.select(".cell-exemplars a")}
        section = doc.find(id=f"cov-{skill}").find_parent("section")
        gaps = len(section.select("td.gap-cell")) - len(section.select("tfoot td.gap-cell"))
        assert gaps == len(empty)


def test_anonymous_exemplars_name_nobody(example_out):
    for path in CONTENT.glob("skills/*/exemplars/*.md"):
        meta = front(path)
        if meta.get("anonymous"):
            doc = page(example_out, f"skills/{path.parent.parent.name}/exemplars/{path.stem}/")
            assert "Anonymous" in doc.select_one("dl.facts").text
