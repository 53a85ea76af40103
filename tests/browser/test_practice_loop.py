"""A member's practice loop in a real browser: "Where am I?" and its next steps, practising
judgement, the level per skill everywhere, and what each page is without its script, on a
phone, in print, and to axe-core."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cophandbook.build import build
from tests.browser.conftest import LAPTOP, PHONE, serve_folder
from tests.conftest import MINIMAL, RUBRIC, SETTINGS, write_files

PREPARED = "/skills/prepared-talks"
ASSESS = PREPARED + "/assess/"
# A member's answers on the prepared talks rubric: one criterion at the top, none stale.
ANSWERS = {"opening": "proficient", "signposting": "developing", "examples": "novice",
           "close": "expert"}
BUDGET = 100 * 1024
CRITERIA = "rows => rows.map(r => r.dataset.criterion)"  # of the piece being judged


def answer(page: Page, answers: dict[str, str]) -> None:
    for criterion, level in answers.items():
        page.check(f"input[name='{criterion}'][value='{level}']")


def checked(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all("#assessment input:checked", """inputs =>
        Object.fromEntries(inputs.map(i => [i.name, i.value]))""")


def words(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def stored(page: Page, what: str, skill: str = "prepared-talks") -> object:
    return page.evaluate(f"""() => JSON.parse(localStorage.getItem(
        `cophandbook:{what}:${{location.host}}/:{skill}`))""")


# -- where am I? ------------------------------------------------------------------------------

def test_answers_survive_a_reload_and_set_my_level_in_that_skill_only(open_page, example_origin):
    page = open_page(example_origin + ASSESS)
    assert page.locator(".step").count() == 0
    answer(page, ANSWERS)
    page.reload()
    assert checked(page) == ANSWERS
    assert "4 of 4 criteria answered, saved in this browser" in page.inner_text("#assess-status")
    kept = stored(page, "assessment")
    assert {c: a["level"] for c, a in kept["answers"].items()} == ANSWERS
    # The level more than half of the answers reach: proficient, proficient... here developing.
    assert stored(page, "my-level") == {"level": "developing", "from": "assessment"}
    assert page.input_value("#my-level") == "developing"
    assert "From your self-assessment" in page.inner_text(".my-level-hint")
    page.goto(example_origin + "/skills/impromptu-speaking/")
    assert page.input_value("#my-level") == ""  # another skill keeps its own
    assert not page.js_errors


def test_next_steps_match_the_answers_with_recurring_feedback_first(open_page, example_origin):
    page = open_page(example_origin + ASSESS)
    steps = page.request.get(example_origin + ASSESS + "steps.json").json()
    answer(page, ANSWERS)
    page.wait_for_selector(".step")
    cards = page.locator(".step")
    below_top = [c for c in steps["criteria"] if ANSWERS[c["id"]] != "expert"]
    assert [cards.nth(i).get_attribute("data-criterion") for i in range(cards.count())] == \
        [c["id"] for c in below_top]
    levels = ["novice", "developing", "proficient", "expert"]
    for index, criterion in enumerate(below_top):
        card = cards.nth(index)
        mine = ANSWERS[criterion["id"]]
        after = levels[levels.index(mine) + 1]
        descriptors = {level: page.inner_text(
            f"input[name='{criterion['id']}'][value='{level}'] ~ .choice-text")
            for level in (mine, after)}
        you, following = card.locator(".step-compare .compare-cell").all()
        assert you.locator("p").nth(1).inner_text() == descriptors[mine]
        assert following.locator("p").nth(1).inner_text() == descriptors[after]
        assert following.locator(".compare-label").inner_text().lower() == f"next: {after}"
        passage = criterion["levels"][after]["passage"]
        if passage:
            assert " ".join(card.locator("blockquote").inner_text().split()) == \
                words(passage["passage"])
            assert card.locator("figcaption a").get_attribute("href") == passage["url"]
        exercises = [e["title"] for e in criterion["levels"][mine]["exercises"]]
        assert card.locator(".practise a").all_inner_texts() == (
            exercises or [f"exercises for {criterion['name']}"])
        themes = [t["name"] for t in criterion["themes"]]
        assert card.locator(".step-why a").all_inner_texts() == themes
    assert "At the top of the ladder for Close" in page.inner_text("#next-steps-list")
    themed = [c["id"] for c in steps["criteria"] if c["themes"]]
    assert themed and [c["id"] for c in steps["criteria"]][:len(themed)] == themed
    assert not page.js_errors


def test_export_then_import_brings_the_same_answers_back(open_page, example_origin, tmp_path):
    page = open_page(example_origin + ASSESS)
    answer(page, ANSWERS)
    with page.expect_download() as download:
        page.click("[data-action=export]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    exported = json.loads(saved.read_text())
    assert saved.name == "prepared-talks-self-assessment.json"
    assert exported["format"] == "cophandbook-self-assessment"
    assert exported["skill"] == "prepared-talks"
    assert {c: a["level"] for c, a in exported["answers"].items()} == ANSWERS
    assert exported["answers"]["opening"]["descriptor"].startswith("Opens with a concrete")

    page.click("[data-action=forget]")
    assert checked(page) == {} and stored(page, "assessment") is None
    page.set_input_files("input[data-action=import]", str(saved))
    expect(page.locator("#assess-status")).to_contain_text(f"Imported 4 answers from {saved.name}")
    page.wait_for_selector(".step")
    assert checked(page) == ANSWERS
    page.reload()
    assert checked(page) == ANSWERS

    wrong = tmp_path / "other.json"
    wrong.write_text(json.dumps({**exported, "skill": "impromptu-speaking",
                                 "skill_title": "Impromptu speaking"}))
    page.set_input_files("input[data-action=import]", str(wrong))
    expect(page.locator("#assess-status")).to_contain_text("holds answers for Impromptu speaking")
    junk = tmp_path / "junk.json"
    junk.write_text("<script>window.pwned = 1</script>")
    page.set_input_files("input[data-action=import]", str(junk))
    expect(page.locator("#assess-status")).to_contain_text("is not a file of answers")
    assert checked(page) == ANSWERS and page.evaluate("window.pwned") is None


def test_a_share_link_shows_the_answers_elsewhere_and_keeps_them_only_when_asked(
        open_page, example_origin):
    page = open_page(example_origin + ASSESS)
    answer(page, ANSWERS)
    page.click("[data-action=share]")
    link = page.input_value(".share-link input")
    assert link.startswith(example_origin + ASSESS + "#answers=")

    other = open_page(link)  # another browser: nothing stored there
    other.wait_for_selector(".step")
    assert checked(other) == ANSWERS
    assert "come from a link and are not saved" in other.inner_text("#assess-status")
    assert stored(other, "assessment") is None
    other.click("text=Keep them as my answers")
    assert {c: a["level"] for c, a in stored(other, "assessment")["answers"].items()} == ANSWERS
    other.goto(example_origin + ASSESS)
    assert checked(other) == ANSWERS


def test_a_changed_rubric_marks_the_answers_it_may_have_outdated(browser, make_site):
    site = make_site()
    assert build(site).written
    with serve_folder(site / "_site") as origin:
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        page.goto(origin + "/skills/toasts/assess/")
        answer(page, {"structure": "competent", "delivery": "novice"})
        # Each build is asked for at an address of its own: a rebuild in the same second
        # would otherwise be answered from the browser's cache.

        # A descriptor of delivery is edited: that answer may be out of date, not the other.
        write_files(site, {"content/skills/toasts/rubric.md": RUBRIC.replace(
            "Quiet and fast.", "Too quiet to hear, and fast.")})
        assert build(site).written
        page.goto(origin + "/skills/toasts/assess/?build=2")
        assert page.locator("fieldset.is-stale").count() == 1
        delivery = page.locator("fieldset[data-criterion=delivery]")
        assert "is-stale" in delivery.get_attribute("class")
        assert "has changed since you answered" in delivery.locator(".question-note").inner_text()
        assert checked(page) == {"structure": "competent", "delivery": "novice"}  # kept
        assert "One answer may be out of date" in page.inner_text("#assess-status")
        delivery.locator("text=It still fits").click()
        assert page.locator("fieldset.is-stale").count() == 0

        # A criterion removed, another added: the old answer is kept and named.
        shaped = RUBRIC.replace("  - id: structure\n    name: Structure\n",
                                "  - id: shape\n    name: Shape\n")
        write_files(site, {
            "content/skills/toasts/rubric.md": shaped,
            **{rel: MINIMAL[rel].replace("structure", "shape") for rel in MINIMAL
               if "structure" in MINIMAL[rel] and rel.startswith("content/skills/toasts/e")}})
        assert build(site).written
        page.goto(origin + "/skills/toasts/assess/?build=3")
        assert "no longer in the rubric: Structure (Competent)" in \
            page.inner_text("#assess-status")
        assert "New since you answered" in page.inner_text("fieldset[data-criterion=shape]")
        assert stored(page, "assessment", "toasts")["answers"]["structure"]["level"] == \
            "competent"

        # A level added: every answer may be out of date.
        write_files(site, {"handbook.yml": SETTINGS.replace(
            "  - {id: expert,", "  - {id: master, name: Master}\n  - {id: expert,"),
            "content/skills/toasts/rubric.md": shaped.replace(
                "      expert: An arc", "      master: Shaped.\n      expert: An arc").replace(
                "      expert: Pauses", "      master: Paced.\n      expert: Pauses")})
        assert build(site).written, "the rubric describes the new level"
        page.goto(origin + "/skills/toasts/assess/?build=4")
        assert page.locator("fieldset[data-criterion=delivery].is-stale").count() == 1
        context.close()


# -- practise judging -------------------------------------------------------------------------

def place(page: Page, offsets: dict[str, int]) -> dict[str, str]:
    """Place the piece on the page `offset` levels from the handbook on each criterion
    named; returns the handbook's placements."""
    levels = page.evaluate("document.documentElement.dataset.levels.split(' ')")
    theirs = page.eval_on_selector_all(".reveal-row", """rows => Object.fromEntries(
        rows.map(r => [r.dataset.criterion, r.dataset.level]))""")
    for criterion, offset in offsets.items():
        level = levels[max(0, min(len(levels) - 1, levels.index(theirs[criterion]) + offset))]
        page.check(f"#placing input[name='{criterion}'][value='{level}']")
    page.click("#placing button[type=submit]")
    return theirs


def test_practising_judgement_reveals_the_placement_and_keeps_count(open_page, example_origin):
    page = open_page(example_origin + PREPARED + "/calibrate/")
    pieces = page.eval_on_selector_all("#calibration-list a", "links => links.map(a => a.href)")
    assert len(pieces) >= 5 and page.locator("#calibration-summary").is_hidden()
    page.click("#calibration-start")
    assert page.url == pieces[0]
    page.click("#placing button[type=submit]")  # nothing placed yet
    assert "at least one criterion" in page.inner_text("#placing")
    assert page.locator("#reveal[open]").count() == 0

    # The first piece: its first criterion one level low, the others as the handbook has them.
    criteria = page.eval_on_selector_all(".reveal-row", CRITERIA)
    theirs = place(page, {c: -1 if c == criteria[0] else 0 for c in criteria})
    assert page.locator("#reveal[open]").count() == 1
    low = page.locator(f".reveal-row[data-criterion={criteria[0]}]")
    assert low.locator(".yours").is_visible()
    assert low.locator(".verdict").inner_text() == (
        "Agreed." if theirs[criteria[0]] == "novice" else "You placed it one level lower.")
    assert page.locator(".reveal-row .verdict:visible").count() == len(criteria)
    first_agreed = page.locator(".verdict-agreed").count()
    assert first_agreed >= len(criteria) - 1
    assert f"So far: {first_agreed} of {len(criteria)} placements agreed, over 1 piece" in \
        page.inner_text("#calibration-progress")

    # The second piece: every criterion one level high (the top of the ladder stays there).
    page.click(".pager a[rel=next]")
    second = page.eval_on_selector_all(".reveal-row", CRITERIA)
    place(page, dict.fromkeys(second, 1))
    second_agreed = page.locator(".verdict-agreed").count()
    page.reload()  # kept, and shown again
    assert page.locator(".reveal-row .yours:visible").count() == len(second)

    page.goto(example_origin + PREPARED + "/calibrate/")
    summary = page.locator("#calibration-summary")
    assert summary.is_visible()
    total = len(criteria) + len(second)
    headline = summary.locator(".agreement").inner_text()
    assert headline == (f"{first_agreed + second_agreed} of {total} placements agreed, "
                        "over 2 pieces of work.")
    assert summary.locator("tbody tr").count() == total
    statuses = page.locator(".calibration-status").all_inner_texts()
    assert statuses[0] == f"Placed: {first_agreed} of {len(criteria)} agreed"
    assert statuses[1] == f"Placed: {second_agreed} of {len(second)} agreed"
    assert statuses[2] == "Not placed yet"
    assert page.locator("#calibration-start").evaluate("a => a.href") == pieces[2]

    with page.expect_download() as download:
        page.click("[data-action=download]")
    text = Path(download.value.path()).read_text()
    assert headline in text and "the handbook" in text
    page.click("#calibration-summary [data-action=forget]")
    assert summary.is_hidden() and stored(page, "calibration") is None


def test_a_member_who_places_work_high_hears_where(open_page, example_origin):
    page = open_page(example_origin + PREPARED + "/calibrate/")
    pieces = page.eval_on_selector_all("#calibration-list a", "links => links.map(a => a.href)")
    placed = 0
    for piece in pieces:
        page.goto(piece)
        theirs = page.eval_on_selector_all(".reveal-row", """rows => Object.fromEntries(
            rows.map(r => [r.dataset.criterion, r.dataset.level]))""")
        if theirs.get("opening") in (None, "expert"):
            continue  # placed nowhere there, or at the top: it cannot be placed higher
        place(page, {"opening": 1})
        placed += 1
        if placed == 2:
            break
    page.goto(example_origin + PREPARED + "/calibrate/")
    assert "On Opening you place one level high (over 2 pieces)." in \
        page.locator(".leanings").all_inner_texts()


# -- the level per skill, everywhere ----------------------------------------------------------

def test_the_level_from_a_self_assessment_shows_on_rubric_level_pages_and_catalog(
        open_page, example_origin):
    page = open_page(example_origin + ASSESS)
    answer(page, ANSWERS)  # developing in prepared talks; nothing in impromptu speaking
    page.goto(example_origin + PREPARED + "/rubric/")
    column = page.eval_on_selector_all(".matrix .is-my-level", """els => els.map(e =>
        [e.tagName, e.dataset.levelId])""")
    rows = page.locator(".matrix tbody tr").count()
    assert column == [["TH", "developing"]] + [["TD", "developing"]] * rows
    assert page.inner_text(".matrix th.is-my-level .my-level-tag") == "Your level"
    page.goto(example_origin + PREPARED + "/levels/developing/")
    assert page.inner_text(".page-header .my-level-tag") == "Your level"
    page.goto(example_origin + PREPARED + "/levels/proficient/")
    assert page.inner_text(".page-header .my-level-tag") == "Your next level"
    assert page.inner_text(".level-pills .is-my-level") .startswith("Developing")

    page.goto(example_origin + "/exercises/")
    section = page.locator(".catalog-skill[data-skill=prepared-talks] .catalog-level.is-my-level")
    assert section.get_attribute("data-level-id") == "developing"
    assert section.locator(".my-level-tag").inner_text() == "Your level"
    options = page.eval_on_selector_all("#filter-level option", "os => os.map(o => o.text)")
    assert "Developing (you: Prepared talks)" in options
    assert options[1] == "My level in each skill"
    page.select_option("#filter-level", "mine")
    assert "level=mine" in page.url
    shown = page.eval_on_selector_all(".catalog-skill li[data-levels]", """items => items
        .filter(item => item.offsetParent !== null)
        .map(item => [item.dataset.skill, item.dataset.levels])""")
    assert shown and all(skill == "prepared-talks" and "developing" in levels.split()
                         for skill, levels in shown)
    page.goto(example_origin + "/")
    card = page.locator(".skill-card[data-skill=prepared-talks]")
    assert card.locator(".is-my-level .my-level-tag").inner_text() == "you"
    assert page.locator(".skill-card[data-skill=impromptu-speaking] .is-my-level").count() == 0


@pytest.mark.parametrize("path", ["/", "/rubric/", "/levels/developing/", "/criteria/close/",
                                  "/assess/", "/calibrate/"])
def test_the_level_chooser_is_in_view_on_a_phone(open_page, example_origin, path):
    page = open_page(example_origin + PREPARED + path, viewport=PHONE)
    box = page.locator(".my-level").bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], box


def test_from_home_a_member_reaches_a_next_step_for_a_criterion_in_few_clicks(open_page,
                                                                              example_origin):
    """My descriptor, the next level's, a passage of real work at the next level and an
    exercise for it, for one criterion: on the level page, one click from home."""
    page = open_page(example_origin + "/", viewport=PHONE)
    clicks = 0
    page.locator(".skill-card[data-skill=prepared-talks] .level-pills a",
                 has_text="Developing").click()
    clicks += 1
    page.wait_for_url("**" + PREPARED + "/levels/developing/")
    row = page.locator(".compare-row").first
    for part in (".compare-cell:not(.compare-next)", ".compare-next", "figure.passage-quote",
                 ".practise a"):
        assert row.locator(part).first.is_visible(), part
    row.locator(".practise a").first.click()
    clicks += 1
    page.wait_for_url("**" + PREPARED + "/exercises/**")
    assert clicks <= 3

    # With answers already given, "Where am I?" on the home page leads straight to them.
    page.goto(example_origin + ASSESS)
    answer(page, ANSWERS)
    page.goto(example_origin + "/")
    page.locator(".skill-card[data-skill=prepared-talks] .links a",
                 has_text="Where am I?").click()
    first = page.locator(".step").first
    first.wait_for()
    for part in (".compare-cell:not(.compare-next)", ".compare-next", "figure.passage-quote",
                 ".practise a"):
        assert first.locator(part).first.count() == 1, part


def test_on_a_laptop_a_level_page_puts_each_criterion_beside_the_next_with_work_below(
        open_page, example_origin):
    page = open_page(example_origin + PREPARED + "/levels/developing/")
    for row in page.locator(".compare-row").all():
        here, following = (row.locator(part).bounding_box()
                           for part in (".compare-cell:not(.compare-next)", ".compare-next"))
        more = row.locator(".compare-more").bounding_box()
        assert here["y"] == following["y"] and here["x"] + here["width"] <= following["x"]
        assert more["y"] >= here["y"] + max(here["height"], following["height"])
        assert more["x"] == here["x"] and more["width"] > here["width"] + following["width"]


# -- without JavaScript, in print, on phones, to axe --------------------------------------------

def test_without_javascript_each_new_page_still_reads(open_page, example_origin):
    page = open_page(example_origin + ASSESS, java_script_enabled=False)
    assert page.locator("fieldset.question").count() == 4
    assert page.locator("input[type=radio]").first.is_visible()
    assert page.locator(".no-js-only").first.is_visible()
    assert not page.locator("#assess-tools").is_visible()
    page.goto(example_origin + PREPARED + "/calibrate/")
    assert page.locator("#calibration-list a").count() >= 5
    page.locator("#calibration-list a").first.click()
    assert page.locator(".work").is_visible()
    assert not page.locator(".reveal-row").first.is_visible()
    page.click("#reveal summary")
    assert page.locator(".reveal-row").first.is_visible()
    assert "the handbook: " in page.inner_text(".reveal-row").lower()


def test_my_next_steps_print_on_one_sheet(open_page, example_origin, artifacts):
    page = open_page(example_origin + ASSESS)
    answer(page, ANSWERS)
    page.wait_for_selector(".step")
    page.emulate_media(media="print")
    pdf = artifacts / "next-steps.pdf"
    page.pdf(path=str(pdf), format="A4")
    reader = PdfReader(pdf)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert len(reader.pages) == 1, len(reader.pages)
    assert "my next steps" in text.lower() and "real work at" in text.lower()
    assert "Copy a link" not in text and "Not chosen" not in text


def test_without_answers_the_sheet_prints_every_description(open_page, example_origin,
                                                            artifacts):
    page = open_page(example_origin + ASSESS, java_script_enabled=False)
    page.emulate_media(media="print")
    pdf = artifacts / "self-assessment-sheet.pdf"
    page.pdf(path=str(pdf), format="A4")
    printed = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    printed = unicodedata.normalize("NFKC", printed)
    text = " ".join(re.findall(r"\w+", printed))  # the PDF's words, ligatures undone
    for descriptor in page.locator(".choice-text").all_inner_texts():
        assert " ".join(re.findall(r"\w+", descriptor)[:5]) in text, descriptor


def _states(page: Page, origin: str) -> dict[str, str]:
    """The new pages in the states a member sees: answered, revealed, summarised."""
    page.goto(origin + ASSESS)
    answer(page, ANSWERS)
    page.click("[data-action=share]")
    page.wait_for_selector(".step")
    page.goto(origin + PREPARED + "/calibrate/")
    page.locator("#calibration-list a").first.click()
    criteria = page.eval_on_selector_all(".reveal-row", CRITERIA)
    place(page, dict.fromkeys(criteria, 1))
    return {"answered": ASSESS, "revealed": page.url.split(origin)[1],
            "summary": PREPARED + "/calibrate/", "theme": "/feedback/rushing-the-ending/",
            "level": PREPARED + "/levels/developing/"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_practice_pages_as_used(open_page, example_origin,
                                                                axe_source, scheme):
    page = open_page(example_origin + "/", color_scheme=scheme)
    problems = {}
    for state, path in _states(page, example_origin).items():
        page.goto(example_origin + path)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(content=axe_source)
        violations = page.evaluate("""async () => (await axe.run()).violations.map(v =>
            `${v.id}: ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)""")
        if violations:
            problems[state] = violations
    assert not problems, problems


def test_the_practice_pages_as_used_fit_a_phone_and_the_budget(browser, example_origin):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sizes: dict[str, int] = {}
    foreign: set[str] = set()
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()))
            if r.request.resource_type in ("document", "stylesheet", "script", "fetch") else None)
    page.on("request", lambda r: foreign.add(r.url)
            if not r.url.startswith((example_origin, "data:", "blob:")) else None)
    wide, heavy = {}, {}
    for state, path in _states(page, example_origin).items():
        sizes.clear()
        page.goto(example_origin + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[state] = width
        if sum(sizes.values()) > BUDGET:
            heavy[state] = sizes.copy()
    context.close()
    assert not wide and not heavy and not foreign, (wide, heavy, foreign)


def test_screenshots_of_the_practice_pages(browser, example_origin, artifacts):
    for name, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport=viewport, color_scheme=scheme)
            page = context.new_page()
            for state, path in _states(page, example_origin).items():
                page.goto(example_origin + path)
                page.wait_for_load_state("networkidle")
                shot = artifacts / f"practice-{state}-{name}-{scheme}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
            context.close()
