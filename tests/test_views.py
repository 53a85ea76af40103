"""Read-models seen through the pages they feed: ladder, level, climb, matrix, neighbours,
catalog, timeline, feedback and coverage on the minimal site."""

from tests.conftest import EXEMPLAR, SESSION_B, page


def texts(nodes) -> list[str]:
    return [" ".join(n.get_text(" ", strip=True).split()) for n in nodes]


def test_ladder_shows_every_level_with_descriptors_exemplars_exercises(built):
    _, out = built()
    doc = page(out, "skills/toasts/")
    rungs = doc.select(".ladder section.rung")
    assert [r.h3.text for r in rungs] == ["Novice", "Competent", "Expert"]
    novice, competent, expert = rungs
    assert texts(novice.select("dl.descriptors dd")) == ["Ideas in the order they occur.",
                                                         "Quiet and fast."]
    assert texts(competent.select(".card-list a")) == ["Wedding toast", "One-minute ladder"]
    assert expert.select_one("dd em").text == "call-back"
    assert "No exercise for this level yet." in expert.text


def test_level_page_puts_next_level_beside_this_one(built):
    _, out = built()
    doc = page(out, "skills/toasts/levels/novice/")
    rows = doc.select(".compare-row")
    assert [r.h3.text for r in rows] == ["Structure", "Delivery"]
    here, nxt = rows[0].select(".compare-cell")
    assert "Ideas in the order they occur." in here.text
    assert "A point and an example." in nxt.text and "Competent" in nxt.text
    top = page(out, "skills/toasts/levels/expert/")
    assert not top.select(".compare-next") and "top of the ladder" in top.text


def test_criterion_climb_goes_lowest_to_highest_with_passages(built):
    _, out = built()
    doc = page(out, "skills/toasts/criteria/delivery/")
    steps = doc.select("ol.climb > li")
    assert [s["id"] for s in steps] == ["novice", "competent", "expert"]
    (novice_passage,) = steps[0].select("figure.passage-quote")
    assert "Um, so, hi." in novice_passage.blockquote.text
    assert "Very quiet." in novice_passage.figcaption.text
    link = novice_passage.figcaption.a["href"]
    assert link.startswith("/skills/toasts/exemplars/first-toast/#note-")
    # the wedding toast is assessed expert for delivery but has no delivery annotation
    assert "Wedding toast" in steps[2].select_one(".also").text


def test_rubric_matrix_cells_link_exemplars_and_exemplar_links_back(built):
    _, out = built()
    matrix = page(out, "skills/toasts/rubric/")
    cell = matrix.select_one("td#structure--competent")
    assert [a.text for a in cell.select(".cell-exemplars a")] == ["Wedding toast"]
    assert cell.select_one(".cell-exemplars a")["href"] == "/skills/toasts/exemplars/wedding-toast/"
    exemplar = page(out, "skills/toasts/exemplars/wedding-toast/")
    backlinks = [a["href"] for a in exemplar.select("table.assessment a.rubric-cell-link")]
    assert backlinks == ["/skills/toasts/rubric/#structure--competent",
                         "/skills/toasts/rubric/#delivery--expert"]
    for href in backlinks:
        assert matrix.select_one("td#" + href.split("#")[1]) is not None


def test_exemplar_neighbours_one_level_down_and_up(built):
    _, out = built()
    doc = page(out, "skills/toasts/exemplars/wedding-toast/")
    structure, delivery = doc.select("section.neighbours")
    down, up = structure.select(".neighbour")
    assert "Novice" in down.text and "Ideas in the order they occur." in down.text
    assert "Expert" in up.text and "call-back" in up.text
    assert "top of the ladder" in delivery.select(".neighbour")[1].text
    assert "First toast" not in down.text  # first-toast is not assessed for structure


def test_anonymous_exemplar_hides_the_contributor_everywhere(built):
    _, out = built()
    for path in out.rglob("*.html"):
        assert "Hidden Name" not in path.read_text(), path
    doc = page(out, "skills/toasts/exemplars/first-toast/")
    assert "Anonymous" in doc.select_one("dl.facts").text


def test_catalog_groups_by_skill_and_level(built):
    _, out = built()
    doc = page(out, "exercises/")
    levels = doc.select(".catalog-skill .catalog-level")
    assert [lvl.h3.text for lvl in levels] == ["Novice", "Competent", "Expert"]
    item = levels[0].select_one("li.card-item")
    assert item["data-levels"] == "novice competent" and item["data-minutes"] == "15"


def test_timeline_by_month_with_rhythm_and_gap(built):
    _, out = built()
    doc = page(out, "sessions/")
    months = [m["id"] for m in doc.select("section.month")]
    assert months == ["m-2026-04", "m-2026-03", "m-2026-02", "m-2026-01"]
    counts = texts(doc.select(".rhythm .rhythm-count"))
    assert counts == ["1 session", "0 sessions", "0 sessions", "1 session"]
    (gap,) = doc.select("li.gap")
    assert gap.text.startswith("11 weeks without a session")


def test_no_gap_called_out_under_six_weeks(built):
    _, out = built({"content/sessions/2026-04-01-spring-restart.md":
                    SESSION_B.replace("2026-04-01", "2026-02-20")})
    assert not page(out, "sessions/").select("li.gap")


def test_feedback_themes_ordered_by_sessions(built):
    _, out = built()
    doc = page(out, "feedback/")
    assert texts(doc.select("ol.themes > li > a")) == ["Rushing the ending", "Filler words"]
    theme = page(out, "feedback/rushing/")
    assert texts(theme.select("ol.mentions a")) == ["Spring restart", "Toast night"]


def test_coverage_lists_missing_cells_and_levels_without_exercise(built):
    _, out = built()
    doc = page(out, "coverage/")
    wanted = texts(doc.select("ul.gaps li"))
    assert "Structure at Novice" in wanted and "Delivery at Competent" in wanted
    assert "Structure at Competent" not in wanted
    assert "An exercise for Expert" in wanted and "An exercise for Novice" not in wanted


def test_session_page_links_what_it_used(built):
    _, out = built()
    doc = page(out, "sessions/2026-01-14-toast-night/")
    hrefs = [a["href"] for a in doc.select("main a")]
    assert "/skills/toasts/exercises/one-minute-ladder/" in hrefs
    assert "/skills/toasts/exemplars/wedding-toast/" in hrefs
    assert "/feedback/filler-words/" in hrefs


def test_neighbours_name_a_few_exemplars_and_point_to_the_rubric_for_the_rest(built):
    expert = EXEMPLAR.replace("level: competent", "level: expert").replace(
        "criteria: {structure: competent, delivery: expert}", "criteria: {structure: expert}")
    extra = {f"content/skills/toasts/exemplars/expert-{n}.md":
             expert.replace("title: Wedding toast", f"title: Expert toast {n}")
             for n in range(5)}
    result, out = built(extra)
    assert result.written
    structure = page(out, "skills/toasts/exemplars/wedding-toast/").select("section.neighbours")[0]
    up = structure.select(".neighbour")[1]
    named = [a for a in up.select("p.meta a") if "/exemplars/" in a["href"]]
    assert len(named) == 3
    more = up.select("p.meta a")[-1]
    assert more.text == "2 more on the rubric"
    assert more["href"] == "/skills/toasts/rubric/#structure--expert"
