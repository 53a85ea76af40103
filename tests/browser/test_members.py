"""What members use, in a real browser: search, the catalog's filters, "my level", the phone
menu and keyboard use, accessibility (axe-core) in both colour schemes, phones, page weight,
and the printable level pack."""

from __future__ import annotations

import itertools
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from pypdf import PdfReader

from cophandbook import search
from cophandbook.build import build
from tests.browser.conftest import LAPTOP, PHONE, serve_folder
from tests.browser.pages import every_page, one_of_each_kind, url_path
from tests.conftest import EXAMPLE_SITE, SETTINGS, soup

PAGE_BUDGET = 100 * 1024  # HTML, CSS and JS of a typical page, uncompressed


def results(page: Page) -> list[dict[str, str]]:
    page.wait_for_function("document.getElementById('search-status').textContent.endsWith('.')")
    return page.eval_on_selector_all(".search-result", """items => items.map(item => ({
        title: item.querySelector('a').textContent, href: item.querySelector('a').href,
        meta: item.querySelector('.result-meta').textContent,
        excerpt: item.querySelector('.result-excerpt').textContent}))""")


# -- search ---------------------------------------------------------------------------------

def test_the_header_search_box_leads_to_results_with_kind_skill_and_level(open_page,
                                                                          example_origin):
    page = open_page(example_origin + "/skills/impromptu-speaking/")
    page.fill("#site-search-q", "pause")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/?q=pause")
    found = results(page)
    assert len(found) >= 3
    for result in found:
        assert result["title"] and "pause" in result["excerpt"].lower()
        assert result["meta"].split(" · ")[0] in {"Exemplar", "Exercise", "Rubric", "Skill",
                                                  "Level", "Criterion", "Session", "Guide",
                                                  "Feedback theme"}
    exemplars = [r for r in found if r["meta"].startswith("Exemplar")]
    assert exemplars and all(len(r["meta"].split(" · ")) == 3 for r in exemplars)
    assert page.locator(".result-excerpt mark").count() >= len(found)
    assert not page.js_errors


def test_the_search_page_opens_the_index_once_its_box_has_the_focus(open_page, example_origin):
    """Opening the index takes a phone seconds, so it begins while the member types."""
    page = open_page(example_origin + "/search/")
    page.wait_for_load_state("networkidle")

    def fetched() -> list[str]:
        urls = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        return [urlsplit(url).path for url in urls if "/pagefind/" in url]

    assert fetched() == []  # nobody is searching yet
    page.focus("#search-q")
    page.wait_for_function("performance.getEntriesByType('resource')"
                           ".some(entry => entry.name.endsWith('/pagefind.js'))", timeout=10_000)
    assert not page.input_value("#search-q")  # opened before a word was typed
    page.keyboard.type("pause")
    assert any("pause" in r["excerpt"].lower() for r in results(page))
    assert fetched().count("/pagefind/bundles.json") == 1
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_filters_narrow_search_to_exemplars_at_one_level(open_page, example_origin):
    page = open_page(example_origin + "/search/?q=pause")
    everything = results(page)
    page.select_option("#search-kind", "Exemplar")
    page.select_option("#search-level", "Novice")
    page.wait_for_url("**/search/?q=pause&kind=Exemplar&level=Novice")
    narrowed = results(page)
    assert 0 < len(narrowed) < len(everything)
    for result in narrowed:
        assert result["meta"].startswith("Exemplar · ") and result["meta"].endswith(" · Novice")
        target = page.context.new_page()
        target.goto(result["href"])
        assert target.locator(".facts .level-badge").inner_text() == "Novice"
        target.close()
    # With no words, the filters alone list every exemplar at the level.
    page.fill("#search-q", "")
    page.press("#search-q", "Enter")
    listed = results(page)
    assert len(listed) >= len(narrowed)
    assert all(r["meta"].endswith(" · Novice") for r in listed)


def test_annotations_and_descriptors_are_found_but_navigation_and_footers_are_not(
        open_page, example_origin, example_out):
    page = open_page(example_origin + "/search/")

    def search(words: str, kind: str = "") -> list[dict[str, str]]:
        page.select_option("#search-kind", kind)
        page.fill("#search-q", words)
        page.press("#search-q", "Enter")
        return results(page)

    # A note's own words find its exemplar; a descriptor's words find the rubric.
    exemplar = next(p for p in sorted(example_out.glob("skills/*/exemplars/*/index.html")))
    note = soup(exemplar).select_one("aside.annotation .note-body, aside.annotation p:last-child")
    words = " ".join(note.get_text(" ", strip=True).split()[:6])
    assert any(r["href"].endswith(url_path(example_out, exemplar)) for r in search(words))
    rubric = soup(example_out / "skills/impromptu-speaking/rubric/index.html")
    descriptor = " ".join(rubric.select_one(".matrix td p").get_text(" ").split()[:6])
    assert any(r["meta"].startswith("Rubric") for r in search(descriptor, "Rubric"))


def test_navigation_and_footers_are_not_indexed(browser, make_site):
    settings = SETTINGS.replace("title: Test Circle", "title: Zyzzyva Circle")
    site = make_site({"handbook.yml": settings + "search: true\ndescription: quokka tales\n"})
    assert build(site).written
    with serve_folder(site / "_site") as origin:
        page = browser.new_page()
        page.goto(origin + "/search/?q=toast")
        assert results(page)  # the content is indexed
        for chrome in ("zyzzyva", "quokka", "Skip"):  # header, footer, skip link
            page.goto(origin + f"/search/?q={chrome}")
            assert results(page) == [], chrome
        page.close()


def test_search_works_under_a_sub_path(browser, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("_site", ".*"))
    settings = (site / "handbook.yml").read_text()
    (site / "handbook.yml").write_text(settings.replace("base_url: /\n", "base_url: /handbook/\n"))
    host = tmp_path / "host"
    result = build(site, host / "handbook")
    assert result.written, [str(d) for d in result.problems]
    with serve_folder(host) as origin:
        page = browser.new_page()
        page.goto(origin + "/handbook/exercises/")
        page.fill("#site-search-q", "toast")
        page.press("#site-search-q", "Enter")
        page.wait_for_url("**/handbook/search/?q=toast")
        found = results(page)
        assert found
        for result_ in found:
            assert urlsplit(result_["href"]).path.startswith("/handbook/skills/") or \
                urlsplit(result_["href"]).path.startswith("/handbook/")
            response = page.context.request.get(result_["href"])
            assert response.status == 200
        page.close()


def test_search_results_show_content_as_text_never_as_markup(browser, make_site):
    site = make_site({"handbook.yml": _with_search(), "content/guides/giving-feedback.md":
                      "---\ntitle: Feedback\n---\nUnsafe: `<img src=x onerror=window.pwned=1>` "
                      "and &lt;b&gt;zebra&lt;/b&gt; zebra.\n"})
    result = build(site)
    assert result.written, [str(d) for d in result.problems]
    with serve_folder(site / "_site") as origin:
        page = browser.new_page()
        page.goto(origin + "/search/?q=onerror")
        found = results(page)
        assert found and "<img src=x onerror=window.pwned=1>" in found[0]["excerpt"]
        page.goto(origin + "/search/?q=zebra")
        results(page)
        assert page.locator("#search-results img, #search-results b").count() == 0
        assert page.evaluate("window.pwned") is None
        page.close()


def test_results_from_every_shard_rank_as_one_index_would(browser, make_site, monkeypatch):
    """The index is in shards (a skill, a year of sessions, the rest), merged as the page
    searches. Where no word of a shard begins with a search term, Pagefind would match the
    longest word that begins the term instead ("hand" for "handoverlap"): the one page
    with the word would drown among loose matches from the other shards."""
    monkeypatch.setattr(search, "SHARD_PAGES", 1)  # a shard for each part, as on a large site
    exemplar = "content/skills/toasts/exemplars/first-toast.md"
    site = make_site({
        "handbook.yml": _with_search(),
        exemplar: "---\ntitle: First toast\nlevel: novice\n---\nThe handoverlap came late.\n",
        "content/guides/safety.md": "---\ntitle: Safety\n---\nHand on hand, hand in hand.\n",
        "content/sessions/2026-04-01-spring-restart.md":
            "---\ntitle: Spring restart\ndate: 2026-04-01\n---\nA hand for everyone.\n",
    })
    result = build(site)
    assert result.written, [str(d) for d in result.problems]
    with serve_folder(site / "_site") as origin:
        page = browser.new_page()
        page.goto(origin + "/search/?q=handoverlap")
        assert [r["title"] for r in results(page)] == ["First toast"]
        page.goto(origin + "/search/?q=hand")  # each shard's pages are found, and extensions
        assert {r["title"] for r in results(page)} == {"Safety", "Spring restart", "First toast"}
        page.goto(origin + "/search/?level=Novice")  # filters alone, across shards
        found = results(page)
        assert "First toast" in {r["title"] for r in found}
        assert all("Novice" in r["meta"] for r in found)
        assert page.locator("#search-results a[href*=vocabulary]").count() == 0
        page.close()


def _with_search() -> str:
    return SETTINGS + "search: true\n"


# -- exercise catalog filters ----------------------------------------------------------------

def visible_exercises(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(".catalog-skill li[data-levels]", """items => items
        .filter(item => item.offsetParent !== null)
        .map(item => ({href: item.querySelector('a').href, levels: item.dataset.levels,
                       skill: item.dataset.skill, criteria: item.dataset.criteria,
                       minutes: item.dataset.minutes || ''}))""")


def test_the_catalog_filters_by_level_criterion_and_duration(open_page, example_origin):
    page = open_page(example_origin + "/exercises/")
    everything = visible_exercises(page)
    total = len({e["href"] for e in everything})
    assert page.locator(".filter-count").inner_text() == f"All {total} exercises."

    page.select_option("#filter-level", "novice")
    novice = visible_exercises(page)
    assert novice and all("novice" in e["levels"].split() for e in novice)
    assert len(novice) == len({e["href"] for e in novice})  # each listed once
    assert page.locator(".filter-count").inner_text().startswith(f"{len(novice)} of {total}")
    assert "level=novice" in page.url

    criterion = page.eval_on_selector("#filter-criterion option:nth-child(2)", "o => o.value")
    page.select_option("#filter-criterion", criterion)
    skill, crit = criterion.split("/")
    both = visible_exercises(page)
    assert all(e["skill"] == skill and crit in e["criteria"].split() for e in both)
    assert all("novice" in e["levels"].split() for e in both)

    page.click("button[type=reset]")
    page.select_option("#filter-minutes", "15")
    short = visible_exercises(page)
    assert short and all(e["minutes"] and int(e["minutes"]) <= 15 for e in short)
    assert len(short) < len(everything)

    page.reload()  # the filters are in the address, so a shared link keeps them
    assert page.input_value("#filter-minutes") == "15"
    assert visible_exercises(page) == short


def test_without_javascript_the_catalog_lists_everything_and_hides_the_filters(open_page,
                                                                               example_origin,
                                                                               example_out):
    page = open_page(example_origin + "/exercises/?level=novice", java_script_enabled=False)
    assert not page.locator("#catalog-filters").is_visible()
    listed = page.locator(".catalog-skill li[data-levels]")
    assert listed.count() == len([li for li in listed.all() if li.is_visible()]) > 0


# -- my level ----------------------------------------------------------------------------------

def test_my_level_is_kept_per_skill_and_marked_with_the_next_one(open_page, example_origin):
    page = open_page(example_origin + "/skills/impromptu-speaking/")
    assert page.locator(".is-my-level").count() == 0
    page.select_option("#my-level", "developing")
    assert page.get_attribute(".rung.is-my-level", "data-level-id") == "developing"
    assert page.get_attribute(".rung.is-next-level", "data-level-id") == "proficient"
    assert page.locator(".rung.is-my-level .my-level-tag").inner_text() == "Your level"
    assert page.locator(".rung.is-next-level .my-level-tag").inner_text() == "Your next level"
    assert page.locator(".level-pills .is-my-level .my-level-tag").inner_text() == "you"
    assert page.locator(".my-level-hint a").get_attribute("href").endswith("/levels/developing/")

    page.goto(example_origin + "/skills/prepared-talks/rubric/")  # another skill: its own level
    assert page.input_value("#my-level") == ""
    assert page.locator(".is-my-level").count() == 0
    page.select_option("#my-level", "expert")  # the top: no next level
    assert page.locator(".is-next-level").count() == 0

    page.goto(example_origin + "/skills/impromptu-speaking/rubric/")
    assert page.input_value("#my-level") == "developing"
    mine = page.eval_on_selector_all(".matrix .is-my-level", "els => els.map(e => e.tagName)")
    assert "TH" in mine and mine.count("TD") == page.locator(".matrix tbody tr").count()
    # The column's header says so in words, not only in colour.
    assert page.locator(".matrix th.is-my-level .my-level-tag").inner_text() == "Your level"
    assert page.locator(".matrix th.is-next-level .my-level-tag").inner_text() == \
        "Your next level"
    page.select_option("#my-level", "")
    page.reload()
    assert page.locator(".is-my-level").count() == 0


def test_a_level_chosen_for_the_whole_site_before_still_counts_where_none_is_chosen(
        open_page, example_origin):
    page = open_page(example_origin + "/")
    page.evaluate("""() => localStorage.setItem(
        `cophandbook:my-level:${location.host}/`, 'proficient')""")
    page.goto(example_origin + "/skills/prepared-talks/")
    assert page.input_value("#my-level") == "proficient"
    page.select_option("#my-level", "novice")
    page.goto(example_origin + "/skills/impromptu-speaking/")
    assert page.input_value("#my-level") == "proficient"
    page.goto(example_origin + "/skills/prepared-talks/")
    assert page.input_value("#my-level") == "novice"


# -- keyboard and phone menu -----------------------------------------------------------------

def focused(page: Page) -> dict[str, str]:
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {tag: e.tagName, text: e.textContent.trim(), cls: e.className, id: e.id,
                outline: s.outlineStyle, outlineWidth: s.outlineWidth}; }""")


def test_keyboard_skip_link_focus_ring_and_phone_menu(open_page, example_origin):
    page = open_page(example_origin + "/skills/impromptu-speaking/", viewport=PHONE)
    nav_link = page.locator("#site-nav a").first
    assert not nav_link.is_visible()  # folded away on a phone
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to content" and page.locator(".skip-link").is_visible()
    assert first["outline"] != "none" and first["outlineWidth"] != "0px"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"

    page.goto(example_origin + "/skills/impromptu-speaking/")
    for _ in range(6):
        page.keyboard.press("Tab")
        if focused(page)["cls"] == "menu-toggle":
            break
    toggle = focused(page)
    assert toggle["cls"] == "menu-toggle" and toggle["outline"] != "none"
    page.keyboard.press("Enter")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    assert nav_link.is_visible()
    page.keyboard.press("Tab")
    assert focused(page)["text"] == nav_link.inner_text()
    page.keyboard.press("Escape")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "false"
    assert focused(page)["cls"] == "menu-toggle" and not nav_link.is_visible()


def test_on_a_laptop_the_menu_is_always_open(open_page, example_origin):
    page = open_page(example_origin + "/")
    assert page.locator("#site-nav a").first.is_visible()
    assert not page.locator(".menu-toggle").is_visible()


# -- accessibility ----------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_kind_of_page(open_page, example_origin, example_out,
                                                     axe_source, scheme):
    problems = {}
    for kind, path in one_of_each_kind(example_out).items():
        page = open_page(example_origin + path + ("?q=pause" if kind == "search" else ""),
                         color_scheme=scheme)
        if kind == "search":
            results(page)
        if kind in ("ladder", "rubric"):
            page.select_option("#my-level", "developing")  # the highlighted state too
        page.add_script_tag(content=axe_source)
        violations = page.evaluate("""async () => (await axe.run()).violations.map(v =>
            `${v.id}: ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)""")
        if violations:
            problems[f"{kind} {path}"] = violations
        page.context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


# -- phones and weight ------------------------------------------------------------------------

def test_no_page_scrolls_sideways_on_a_phone(browser, example_origin, example_out):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    wide = {}
    for path in every_page(example_out):
        page.goto(example_origin + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    context.close()
    assert not wide, wide


def test_the_ladder_and_the_rubric_are_readable_on_a_phone(open_page, example_origin, artifacts):
    page = open_page(example_origin + "/skills/impromptu-speaking/", viewport=PHONE)
    rungs = page.eval_on_selector_all(".rung", "els => els.map(e => e.getBoundingClientRect())")
    assert all(r["width"] >= PHONE["width"] * 0.8 for r in rungs)  # stacked, full width
    assert all(a["y"] < b["y"] for a, b in itertools.pairwise(rungs))
    page.goto(example_origin + "/skills/impromptu-speaking/rubric/")
    cells = page.eval_on_selector_all(".matrix td", """els => els.map(e => ({
        width: e.getBoundingClientRect().width,
        size: parseFloat(getComputedStyle(e).fontSize)}))""")
    assert cells and all(c["width"] >= PHONE["width"] * 0.6 and c["size"] >= 14 for c in cells)


def test_a_typical_page_weighs_under_100_kb_and_asks_nothing_of_other_sites(
        browser, example_origin, example_out):
    over, foreign = {}, set()
    for kind, path in one_of_each_kind(example_out).items():
        if kind in ("level pack", "search"):  # a whole level's text; the search index
            continue
        context = browser.new_context()
        page = context.new_page()
        sizes: dict[str, int] = {}

        def count(response, sizes=sizes) -> None:
            if response.request.resource_type in ("document", "stylesheet", "script"):
                sizes[response.url] = len(response.body())

        page.on("response", count)
        page.on("request", lambda request: foreign.add(request.url)
                if not request.url.startswith((example_origin, "data:")) else None)
        page.goto(example_origin + path)
        page.wait_for_load_state("networkidle")
        if sum(sizes.values()) > PAGE_BUDGET:
            over[path] = sizes
        context.close()
    assert not over, over
    assert not foreign, foreign


# -- screenshots and print ---------------------------------------------------------------------

def test_screenshots_of_the_main_pages_at_both_widths(open_page, example_origin, example_out,
                                                      artifacts):
    kinds = one_of_each_kind(example_out)
    for kind in ("home", "ladder", "exemplar", "rubric"):
        for name, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
            page = open_page(example_origin + kinds[kind], viewport=viewport)
            shot = artifacts / f"{kind}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert not page.js_errors


def test_the_level_pack_prints_cleanly(open_page, example_origin, example_out, artifacts):
    kinds = one_of_each_kind(example_out)
    page = open_page(example_origin + kinds["level pack"])
    titles = page.eval_on_selector_all(".pack-item h3", "els => els.map(e => e.textContent)")
    assert page.locator(".print-button").is_visible()
    page.emulate_media(media="print")
    for hidden in (".site-nav", ".site-search", ".breadcrumbs", ".print-button", ".skip-link"):
        assert not page.locator(hidden).first.is_visible(), hidden
    pdf = artifacts / "level-pack.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    reader = PdfReader(pdf)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3  # rubric, exemplars and exercises each start a page
    for title in titles:
        assert " ".join(title.split()[:3]) in " ".join(text.split())
    assert "Skip to content" not in text and "Search" not in text.split("\n")[0]


def test_the_pack_button_opens_the_print_dialog(open_page, example_origin, example_out):
    page = open_page(example_origin + one_of_each_kind(example_out)["level pack"])
    page.evaluate("window.print = () => { window.printed = true; }")
    page.click(".print-button")
    assert page.evaluate("window.printed") is True


def test_pages_work_without_any_console_errors(browser, example_origin, example_out):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for path in one_of_each_kind(example_out).values():
        page.goto(example_origin + path)
    context.close()
    assert errors == []

