"""The printable level pack: for each skill and level, the level's descriptors and the full
text of its exemplars and exercises on one page (printing is checked in
tests/browser/test_members.py)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import unquote

from tests.conftest import page


def text(element) -> str:
    return " ".join(element.get_text(" ").split())


def test_a_pack_for_every_skill_and_level_linked_from_the_level_page(example_out):
    skills = [p.parent.name for p in example_out.glob("skills/*/rubric")]
    levels = [p.name for p in (example_out / "skills" / skills[0] / "levels").iterdir()]
    assert skills and len(levels) == 4
    for skill in skills:
        for level in levels:
            level_page = page(example_out, f"skills/{skill}/levels/{level}/")
            link = level_page.select_one(".pack-link a")
            assert link["href"] == f"/skills/{skill}/levels/{level}/pack/"
            assert page(example_out, f"skills/{skill}/levels/{level}/pack/").h1


def test_the_pack_holds_the_descriptors_and_the_full_text_of_exemplars_and_exercises(
        example_out):
    skill, level = "impromptu-speaking", "developing"
    pack = page(example_out, f"skills/{skill}/levels/{level}/pack/")
    level_page = page(example_out, f"skills/{skill}/levels/{level}/")
    # Every descriptor of the level and of the next, as the level page states them.
    cells = level_page.select(".compare-row .compare-cell p:last-child")
    here = [text(cell) for cell in cells]
    assert here and all(d in text(pack.select_one(".pack-descriptors")) for d in here)
    # Every exemplar and exercise listed on the level page, in full.
    listed = [a["href"] for a in level_page.select("#exemplars-heading + ul a, "
                                                   "#exercises-heading + ul a")]
    items = pack.select(".pack-item")
    assert [item.h3.a["href"] for item in items] == listed
    for item in items:
        own = page(example_out, item.h3.a["href"].lstrip("/"))
        body = own.select_one(".work") or own.select_one(".prose")
        assert text(body) == text(item.select_one(".work, .prose"))


def test_ids_in_a_pack_are_unique_and_its_in_page_links_land(example_out):
    for pack_file in example_out.glob("skills/*/levels/*/pack/index.html"):
        pack = page(example_out, pack_file.relative_to(example_out).parent.as_posix() + "/")
        ids = Counter(element["id"] for element in pack.select("[id]"))
        assert [i for i, n in ids.items() if n > 1] == [], pack_file
        for link in pack.select('a[href^="#"]'):
            assert link["href"][1:] in ids, (pack_file, link["href"])


def test_the_catalog_offers_filters_for_every_level_criterion_and_length(example_out):
    catalog = page(example_out, "exercises/")
    form = catalog.select_one("form#catalog-filters")
    assert form.has_attr("hidden")  # shown by the script; without it every list is there
    levels = [o["value"] for o in form.select("#filter-level option")][1:]
    assert levels == ["novice", "developing", "proficient", "expert"]
    criteria = [o["value"] for o in form.select("#filter-criterion option")][1:]
    rubric = page(example_out, "skills/impromptu-speaking/rubric/")
    assert [f"impromptu-speaking/{tr['id']}" for tr in rubric.select(".matrix tbody tr")] == \
        [c for c in criteria if c.startswith("impromptu-speaking/")]
    for item in catalog.select(".catalog-skill li.card-item"):
        assert item["data-skill"] and item["data-levels"] and "data-criteria" in item.attrs


def test_skill_pages_offer_my_level_over_rungs_that_name_their_level(example_out):
    ladder = page(example_out, "skills/impromptu-speaking/")
    chooser = ladder.select_one("form.my-level")
    assert chooser.has_attr("hidden")
    options = [o["value"] for o in chooser.select("option")]
    rungs = [r["data-level-id"] for r in ladder.select(".rung")]
    assert options == ["", *rungs] and len(rungs) == 4
    assert chooser["data-level-href"] == "/skills/impromptu-speaking/levels/__level__/"


def test_scoped_ids_of_two_exemplars_never_meet_and_in_page_links_follow_them(built):
    # Exemplar "a" and exemplar "a-b": scoped by "slug-" alone, "B intro" in the first and
    # "Intro" in the second both became e-a-b-intro.
    head = "---\ntitle: {}\nlevel: competent\n---\n"
    result, out = built({
        "content/skills/toasts/exemplars/a.md": head.format("A") + (
            "## B intro\n\nSee [the start](#b-intro), a note[^1] and [the top](#).\n\n"
            "[^1]: A footnote.\n"),
        "content/skills/toasts/exemplars/a-b.md": head.format("A-B") + (
            "## Intro\n\nSee [the start](#intro).\n\n"
            "::: annotation structure\nA note.\n:::\n\n## Intro\n\nAgain [here](#intro-1).\n"),
    })
    assert result.written, [str(d) for d in result.problems]
    pack = page(out, "skills/toasts/levels/competent/pack/")
    ids = Counter(element["id"] for element in pack.select("[id]"))
    assert [i for i, n in ids.items() if n > 1] == []
    articles = {article.h3.a.get_text(): article for article in pack.select(".pack-item")}
    for title, heading in [("A", "B intro"), ("A-B", "Intro")]:
        body = articles[title].select_one(".work")
        targets = [unquote(a["href"][1:]) for a in body.select('a[href^="#"]')
                   if a["href"] != "#"]
        assert targets and all(t in ids for t in targets), (title, targets)
        # Each link lands in its own exemplar, on the heading it names.
        first = pack.find(id=targets[0])
        assert first.find_parent(class_="work") is body and first.get_text() == heading
    # A link to the top of the page is left as it is.
    assert articles["A"].select_one('.work a[href="#"]')
