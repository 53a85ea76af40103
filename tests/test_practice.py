"""The member's practice loop as the built pages carry it: the self-assessment sheet, the
next-steps file, practising judgement, boundary exemplars, and feedback themes that lead to
criteria and exercises. (What the pages' scripts do with them:
tests/browser/test_practice_loop.py.)"""

from __future__ import annotations

import itertools
import json
import re

from cophandbook import practice
from cophandbook.build import build
from cophandbook.views import Trend
from tests.conftest import EXEMPLAR, MINIMAL, RUBRIC, SETTINGS, page

EXEMPLAR_FILE = "content/skills/toasts/exemplars/wedding-toast.md"
NOVICE_FILE = "content/skills/toasts/exemplars/first-toast.md"
LINKED_THEMES = SETTINGS.replace(
    "  - {id: rushing, name: Rushing the ending}",
    "  - {id: rushing, name: Rushing the ending, criteria: [delivery],"
    " exercises: [one-minute-ladder]}")


def text(node) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def with_front_matter(body: str, **fields: str) -> str:
    """`body` (a file with front matter) with `fields` added to it."""
    extra = "".join(f"{key}: {value}\n" for key, value in fields.items())
    return body.replace("---\n", "---\n" + extra, 1)


# -- where am I? ------------------------------------------------------------------------------

def test_the_self_assessment_asks_each_criterion_with_every_levels_descriptor(built):
    _, out = built()
    doc = page(out, "skills/toasts/assess/")
    form = doc.select_one("form#assessment")
    assert form["data-skill"] == "toasts"
    assert form["data-steps"] == "/skills/toasts/assess/steps.json"
    questions = form.select("fieldset.question")
    assert [q["data-criterion"] for q in questions] == ["structure", "delivery"]
    structure = questions[0]
    assert "Structure" in text(structure.legend)
    choices = [(i["name"], i["value"]) for i in structure.select("input[type=radio]")]
    assert choices == [("structure", "novice"), ("structure", "competent"), ("structure", "expert")]
    labels = [text(label) for label in structure.select("label")]
    assert labels[0] == "Novice Ideas in the order they occur."
    assert structure.select("label")[2].em.text == "call-back"  # descriptors keep their Markdown
    assert re.fullmatch(r"[0-9a-f]{8}", structure["data-digest"])
    assert structure["data-digest"] != questions[1]["data-digest"]
    # Without JavaScript it is a sheet to fill in by hand: nothing of it is hidden.
    assert not form.has_attr("hidden") and not structure.select("[hidden]")
    assert doc.select_one("#assess-tools").has_attr("hidden")  # the tools need the script
    assert doc.select_one("script[src$='assets/assess.js']") is not None
    # It repeats the rubric: the rubric page is what search finds.
    assert doc.select_one("[data-pagefind-body]") is None


def test_a_criterions_digest_changes_with_what_a_member_chose_between(make_site):
    sites = iter(range(10))

    def digests(changes):
        site = make_site(changes, name=f"site-{next(sites)}")
        assert build(site).written
        doc = page(site / "_site", "skills/toasts/assess/")
        return ({q["data-criterion"]: q["data-digest"] for q in doc.select("fieldset.question")},
                doc.select_one("form#assessment")["data-digest"])

    before, rubric = digests({})
    edited, edited_rubric = digests({"content/skills/toasts/rubric.md": RUBRIC.replace(
        "Quiet and fast.", "Quiet, and fast.")})
    assert edited["delivery"] != before["delivery"] and edited["structure"] == before["structure"]
    assert edited_rubric != rubric
    renamed, _ = digests({"handbook.yml": SETTINGS.replace("name: Expert", "name: Master")})
    assert renamed["structure"] != before["structure"] and renamed["delivery"] != before["delivery"]
    name, _ = digests({"content/skills/toasts/rubric.md": RUBRIC.replace(
        "name: Structure", "name: Shape")})
    assert name["structure"] != before["structure"] and name["delivery"] == before["delivery"]
    summary, same = digests({"content/skills/toasts/rubric.md": RUBRIC.replace(
        "    name: Delivery\n", "    name: Delivery\n    summary: How it sounds.\n")})
    assert summary == before and same == rubric  # what a member chose between did not change


def test_the_next_steps_file_has_a_passage_and_exercises_for_every_criterion_and_level(built):
    _, out = built()
    steps = json.loads((out / "skills/toasts/assess/steps.json").read_text())
    assess = page(out, "skills/toasts/assess/")
    assert steps["rubric"] == assess.select_one("form#assessment")["data-digest"]
    by_id = {c["id"]: c for c in steps["criteria"]}
    structure = by_id["structure"]
    assert structure["name"] == "Structure"
    assert structure["url"] == "/skills/toasts/criteria/structure/"
    assert set(structure["levels"]) == {"novice", "competent", "expert"}
    passage = structure["levels"]["competent"]["passage"]
    assert passage["exemplar"] == "Wedding toast" and passage["band"] == "secure"
    assert passage["url"] == "/skills/toasts/exemplars/wedding-toast/#note-1"
    assert "bus stop in the rain" in passage["passage"] and "concrete scene" in passage["note"]
    assert structure["levels"]["expert"]["passage"] is None  # no exemplar shows it yet
    assert [e["title"] for e in structure["levels"]["novice"]["exercises"]] == ["One-minute ladder"]
    assert structure["levels"]["expert"]["exercises"] == []
    # The wedding toast is placed at expert for delivery, but has no note on delivery.
    assert by_id["delivery"]["levels"]["expert"]["passage"] is None
    assert by_id["delivery"]["levels"]["novice"]["passage"]["exemplar"] == "First toast"


def test_criteria_that_recurring_feedback_points_at_come_first_in_the_next_steps(built):
    _, out = built()
    plain = json.loads((out / "skills/toasts/assess/steps.json").read_text())
    assert [c["id"] for c in plain["criteria"]] == ["structure", "delivery"]
    assert all(c["themes"] == [] for c in plain["criteria"])
    _, out = built({"handbook.yml": LINKED_THEMES})
    linked = json.loads((out / "skills/toasts/assess/steps.json").read_text())
    assert [c["id"] for c in linked["criteria"]] == ["delivery", "structure"]
    assert linked["criteria"][0]["themes"] == [
        {"name": "Rushing the ending", "url": "/feedback/rushing/", "sessions": 2}]


def test_the_next_steps_file_stays_small_on_the_example_site(example_out):
    for steps in example_out.glob("skills/*/assess/steps.json"):
        assert steps.stat().st_size <= 30 * 1024, steps


# -- practise judging -------------------------------------------------------------------------

def test_practising_judgement_shows_the_work_without_its_level_notes_or_maker(built):
    _, out = built({EXEMPLAR_FILE: with_front_matter(EXEMPLAR, summary="A competent toast.")})
    index = page(out, "skills/toasts/calibrate/")
    listed = [(li["data-slug"], li.a["href"]) for li in index.select("#calibration-list li")]
    assert sorted(listed) == [("first-toast", "/skills/toasts/calibrate/first-toast/"),
                              ("wedding-toast", "/skills/toasts/calibrate/wedding-toast/")]
    doc = page(out, "skills/toasts/calibrate/wedding-toast/")
    judged = doc.select_one("main")
    reveal = judged.select_one("details#reveal").extract()
    form = judged.select_one("form#placing").extract()  # every level, to choose from
    shown = text(judged)
    assert "We met at a bus stop in the rain." in shown and "Raise your glasses." in shown
    for secret in ("Opens with a concrete scene", "Competent", "Sam R.", "A competent toast"):
        assert secret not in shown, secret
    assert not judged.select(".annotation, .notes, .level-badge")
    assert not judged.has_attr("data-pagefind-body")  # the exemplar's own page is found instead
    fieldsets = form.select("fieldset")
    assert [f["data-criterion"] for f in fieldsets] == ["structure", "delivery"]
    assert [i["value"] for i in fieldsets[0].select("input")] == ["novice", "competent", "expert"]
    # The handbook's placement waits in a <details>, which works without JavaScript.
    assert reveal.summary.text == "The handbook's placement" and not reveal.has_attr("open")
    rows = {row["data-criterion"]: row for row in reveal.select(".reveal-row")}
    assert rows["structure"]["data-level"] == "competent"
    assert rows["delivery"]["data-level"] == "expert"
    assert "The handbook: Competent" in text(rows["structure"])
    assert "A point and an example." in text(rows["structure"])
    assert "Opens with a concrete scene." in text(rows["structure"].select_one(".reveal-note"))
    assert "By Sam R." in text(reveal) and "A competent toast" in text(reveal)


def test_an_anonymous_exemplar_stays_anonymous_when_judged(built):
    _, out = built()
    doc = page(out, "skills/toasts/calibrate/first-toast/")
    assert "Hidden Name" not in doc.text and "Shared anonymously" in text(doc.select_one("#reveal"))


def test_calibration_false_keeps_an_exemplar_out_of_practising_judgement(built):
    _, out = built({NOVICE_FILE: with_front_matter(
        MINIMAL[NOVICE_FILE], calibration="false")})
    assert not (out / "skills/toasts/calibrate/first-toast").exists()
    index = page(out, "skills/toasts/calibrate/")
    assert [li["data-slug"] for li in index.select("#calibration-list li")] == ["wedding-toast"]
    assert page(out, "skills/toasts/exemplars/first-toast/")  # still published as itself


def test_the_calibration_set_is_bounded_spread_over_levels_and_boundary_first(make_site):
    files = {}
    for level in ("novice", "competent", "expert"):
        for number in range(8):
            band = "high" if number == 5 else "low" if number == 6 else "secure"
            files[f"content/skills/toasts/exemplars/{level}-{number}.md"] = (
                f"---\ntitle: {level} {number}\nlevel: {level}\nband: {band}\n---\n"
                "Work.\n\n::: annotation structure\nNote.\n:::\n")
    files["content/skills/toasts/exemplars/unplaced.md"] = (
        "---\ntitle: Unplaced\nlevel: novice\n---\nNo note on any criterion.\n")
    site = make_site(files)
    result = build(site)
    assert result.written
    doc = page(site / "_site", "skills/toasts/calibrate/")
    slugs = [li["data-slug"] for li in doc.select("#calibration-list li")]
    assert len(slugs) == practice.CALIBRATION_SET == 12
    assert "unplaced" not in slugs
    level_of = {"first-toast": "novice", "wedding-toast": "competent"}  # the minimal site's
    per_level = {level: [s for s in slugs if level_of.get(s, s.split("-")[0]) == level]
                 for level in ("novice", "competent", "expert")}
    # Four of each of the three levels; both boundary exemplars of each level among them.
    assert {level: len(found) for level, found in per_level.items()} == {
        "novice": 4, "competent": 4, "expert": 4}
    for level, found in per_level.items():
        assert {f"{level}-5", f"{level}-6"} <= set(found), found
    # Each page of the set leads to the next, in the order of the list.
    for here, there in itertools.pairwise(slugs):
        item = page(site / "_site", f"skills/toasts/calibrate/{here}/")
        assert item.select_one(".pager a[rel=next]")["href"] == \
            f"/skills/toasts/calibrate/{there}/"


# -- boundary exemplars -----------------------------------------------------------------------

def test_a_boundary_exemplar_shows_its_band_and_next_step_wherever_it_is_listed(built):
    exemplar = with_front_matter(EXEMPLAR, band="high",
                                 next_step="Let the *pause* before the toast do the work.")
    result, out = built({EXEMPLAR_FILE: exemplar})
    assert result.written, [str(d) for d in result.problems]
    own = page(out, "skills/toasts/exemplars/wedding-toast/")
    assert text(own.select_one(".facts .band-tag")) == "nearly Expert"
    further = own.select_one("section.further")
    assert further.h2.text == "What would take it further" and further.em.text == "pause"
    level = page(out, "skills/toasts/levels/competent/")
    item = level.select_one("#exemplars-heading").find_parent("section").select_one("li")
    assert text(item.select_one(".band-tag")) == "nearly Expert"
    assert "Let the pause before the toast do the work." in text(item.select_one(".next-step"))
    ladder = page(out, "skills/toasts/")
    assert text(ladder.select_one("#competent .band-tag")) == "nearly Expert"
    rubric = page(out, "skills/toasts/rubric/")
    assert text(rubric.select_one("td#structure--competent .band-tag")) == "nearly Expert"
    assert rubric.select_one("td#delivery--expert .band-tag") is None  # high at competent only
    climb = page(out, "skills/toasts/criteria/structure/")
    quote = climb.select_one("#competent figure.passage-quote")
    assert "nearly Expert" in text(quote) and "pause" in text(quote.select_one(".next-step"))
    judged = page(out, "skills/toasts/calibrate/wedding-toast/")
    assert "Let the pause" in text(judged.select_one("#reveal .next-step"))
    assert "nearly Expert" in text(judged.select_one("#reveal .reveal-level"))
    assert "pause" not in text(judged.select_one(".work"))


def test_a_low_exemplar_is_only_just_at_its_level_and_comes_first_there(built):
    low = ("---\ntitle: Anniversary toast\nlevel: competent\nband: low\n---\nIt was fine.\n\n"
           "::: annotation structure\nJust about.\n:::\n")
    result, out = built({"content/skills/toasts/exemplars/anniversary.md": low})
    assert result.written
    rung = page(out, "skills/toasts/").select_one("#competent")
    titles = [a.text for a in rung.select(".card-list")[0].select("li > a")]
    assert titles == ["Anniversary toast", "Wedding toast"]  # low, then secure
    assert text(rung.select_one(".band-tag")) == "only just Competent"


# -- feedback that leads somewhere ------------------------------------------------------------

def test_a_theme_that_names_criteria_and_exercises_says_what_to_work_on(built):
    result, out = built({"handbook.yml": LINKED_THEMES})
    assert result.written, [str(d) for d in result.problems]
    doc = page(out, "feedback/rushing/")
    work = doc.select_one("section.work-on")
    assert work.h2.text == "Work on this"
    criterion = work.select_one(".work-on-criterion")
    assert criterion["data-skill"] == "toasts"
    assert criterion.h3.a["href"] == "/skills/toasts/criteria/delivery/"
    levels = [(div["data-level-id"], text(div.dd)) for div in criterion.select("[data-level-id]")]
    assert levels == [("novice", "Quiet and fast."), ("competent", "Audible and steady."),
                      ("expert", "Pauses used on purpose.")]
    assert [a.text for a in work.select(".card-list li > a")] == ["One-minute ladder"]
    index = page(out, "feedback/")
    rushing = index.select_one("a[href='/feedback/rushing/']").find_parent("li")
    assert text(rushing.select_one(".practises")) == "Work on Delivery"
    assert page(out, "feedback/filler-words/").select_one("section.work-on") is None


def test_a_theme_naming_only_criteria_offers_the_exercises_that_practise_them(built):
    settings = SETTINGS.replace(
        "  - {id: rushing, name: Rushing the ending}",
        "  - {id: rushing, name: Rushing the ending, criteria: [structure]}")
    _, out = built({"handbook.yml": settings})
    work = page(out, "feedback/rushing/").select_one("section.work-on")
    assert [a.text for a in work.select(".card-list li > a")] == ["One-minute ladder"]


def test_the_themes_index_tells_a_recurring_theme_from_a_fading_one(built):
    later = ("---\ntitle: Summer\ndate: 2026-05-20\nskills: [toasts]\n"
             "feedback: [{theme: rushing, note: Again.}]\n---\nSummer.\n")
    _, out = built({"content/sessions/2026-05-20-summer.md": later})
    index = page(out, "feedback/")

    def trend(theme: str):
        item = index.select_one(f"a[href='/feedback/{theme}/']").find_parent("li")
        return item.select_one(".trend")

    rushing, filler = trend("rushing"), trend("filler-words")
    assert "trend-recurring" in rushing["class"]
    assert text(rushing.select_one(".trend-label")).startswith("Keeps coming up: raised in 2 of")
    assert "trend-fading" in filler["class"]
    assert text(filler.select_one(".trend-label")).startswith("Fading: raised in 0 of the last")
    bars = rushing.select_one(".trend-bars")
    assert [b["style"] for b in bars.select(".trend-bar")] == [f"--n: {n}" for n in
                                                                (1, 0, 0, 1, 1)]
    assert bars["aria-label"].endswith("January 2026 to May 2026: 1, 0, 0, 1, 1")


def test_trend_labels_compare_rates_per_session():
    assert Trend((), (0, 3), (0, 5)).label == ""
    assert Trend((), (2, 3), (0, 5)).label == "new"
    assert Trend((), (1, 2), (2, 4)).label == "recurring"  # half of sessions, as before
    assert Trend((), (1, 4), (3, 4)).label == "fading"
    assert Trend((), (0, 2), (3, 4)).label == "fading"


# -- cards, level pages, home -----------------------------------------------------------------

def test_exercise_cards_say_what_they_practise_everywhere(built):
    _, out = built()
    for path in ("exercises/", "skills/toasts/", "skills/toasts/levels/novice/",
                 "skills/toasts/criteria/structure/"):
        card = page(out, path).select_one("li[data-levels]")
        assert text(card.select_one(".practises")) == "Practises Structure", path


def test_each_step_of_a_level_page_shows_real_work_at_the_next_level_and_exercises(built):
    _, out = built()
    doc = page(out, "skills/toasts/levels/novice/")
    structure, delivery = doc.select(".compare-row")
    quote = structure.select_one("figure.passage-quote")
    assert text(quote.select_one(".compare-label")) == "Real work at Competent"
    assert "bus stop in the rain" in text(quote.blockquote)
    assert [a.text for a in structure.select(".practise a")] == ["One-minute ladder"]
    # No exemplar shows delivery at competent, and no exercise practises it: say where to look.
    assert delivery.select_one("figure") is None
    assert delivery.select_one(".practise a")["href"] == \
        "/skills/toasts/criteria/delivery/#practise-heading"


def test_the_home_page_links_every_skills_levels_and_practice_pages(built):
    _, out = built()
    card = page(out, "").select_one(".skill-card")
    assert card["data-skill"] == "toasts"
    assert [(li["data-level-id"], li.a["href"]) for li in card.select(".level-pills li")] == [
        (level, f"/skills/toasts/levels/{level}/") for level in ("novice", "competent", "expert")]
    links = {a.text: a["href"] for a in card.select(".links a")}
    assert links["Where am I?"] == "/skills/toasts/assess/"
    assert links["Practise judging"] == "/skills/toasts/calibrate/"


def test_every_page_of_a_skill_has_its_header_with_the_level_chooser(built):
    _, out = built()
    for path in ("skills/toasts/", "skills/toasts/rubric/", "skills/toasts/levels/novice/",
                 "skills/toasts/criteria/structure/", "skills/toasts/assess/",
                 "skills/toasts/calibrate/"):
        doc = page(out, path)
        assert doc.select_one("main")["data-skill"] == "toasts", path
        bar = doc.select_one(".skill-bar")
        assert bar.select_one("form.my-level select#my-level"), path
        assert [li["data-level-id"] for li in bar.select(".level-pills li")] == [
            "novice", "competent", "expert"], path
