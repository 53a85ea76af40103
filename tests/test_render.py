"""Page furniture rendered around every page: landmarks, edit links, feed, sitemap."""

import itertools
import xml.etree.ElementTree as ET

from tests.conftest import SETTINGS, page

ATOM = "{http://www.w3.org/2005/Atom}"


def test_every_page_has_landmarks_skip_link_and_one_h1(built):
    _, out = built()
    for path in sorted(out.rglob("*.html")):
        doc = page(out, path.relative_to(out).as_posix())
        assert doc.html["lang"] == "en", path
        assert doc.select_one("a.skip-link")["href"] == "#main", path
        assert doc.select_one("main#main") and doc.select_one("header") and doc.select_one("footer")
        assert len(doc.find_all("h1")) == 1, path
        for nav in doc.find_all("nav"):
            assert nav.get("aria-label"), path
        for el in doc.find_all(["script", "link", "img"]):
            ref = el.get("src") or el.get("href") or ""
            assert not ref.startswith(("http:", "https:", "//")), (path, ref)


def test_heading_levels_never_skip(built):
    _, out = built()
    for path in sorted(out.rglob("*.html")):
        levels = [int(h.name[1]) for h in page(out, path.relative_to(out).as_posix())
                  .find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, levels)


def test_edit_links_when_repo_url_is_set(built):
    _result, out = built({"handbook.yml": SETTINGS + "repo_url: https://github.com/org/hb\n"
                         "edit_branch: trunk\nrepo_path: docs\n"})
    link = page(out, "skills/toasts/exemplars/wedding-toast/").select_one(".edit-link a")
    assert link["href"] == ("https://github.com/org/hb/edit/trunk/docs/content/skills/toasts/"
                            "exemplars/wedding-toast.md")
    home = page(out, "").select_one(".edit-link a")
    assert home["href"].endswith("/content/index.md")
    assert not page(out, "coverage/").select(".edit-link")  # generated, no source


def test_no_edit_links_without_repo_url(built):
    _, out = built()
    assert not page(out, "guides/safety/").select(".edit-link")


def test_atom_feed_lists_sessions_newest_first(built):
    _, out = built({"handbook.yml": SETTINGS + "base_url: https://example.org/hb/\n"})
    feed = ET.parse(out / "sessions/feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Spring restart", "Toast night"]
    assert entries[0].find(f"{ATOM}link").get("href") == \
        "https://example.org/hb/sessions/2026-04-01-spring-restart/"
    assert feed.find(f"{ATOM}updated").text == "2026-04-01T00:00:00Z"
    assert "<p>Back after a break.</p>" in entries[0].find(f"{ATOM}content").text


def test_sitemap_lists_pages_but_not_404(built):
    _, out = built({"handbook.yml": SETTINGS + "base_url: https://example.org/hb/\n"})
    root = ET.parse(out / "sitemap.xml").getroot()
    locs = [loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://example.org/hb/" in locs
    assert "https://example.org/hb/skills/toasts/rubric/" in locs
    assert not any("404" in loc for loc in locs)
    assert len(locs) == len(set(locs)) == len(list(out.rglob("*.html"))) - 1
