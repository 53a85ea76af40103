from cophandbook.derive import derive
from cophandbook.diagnostics import Diagnostics
from cophandbook.routes import plan
from cophandbook.schema import validate
from cophandbook.settings import load_settings
from cophandbook.sources import discover
from cophandbook.theme import default_theme


def routes_of(site):
    problems = Diagnostics()
    settings = load_settings(site, problems)
    derived = derive(validate(discover(site, problems).sources, settings, problems), problems)
    return plan(derived, site, default_theme() / "static", problems), problems


def test_every_level_and_criterion_gets_a_page(make_site):
    routes, problems = routes_of(make_site())
    assert not problems.items
    paths = {r.site_path for r in routes.routes}
    for level in ("novice", "competent", "expert"):
        assert f"skills/toasts/levels/{level}/" in paths
    for crit in ("structure", "delivery"):
        assert f"skills/toasts/criteria/{crit}/" in paths
    assert len(paths) == len(routes.routes)
    assert {s.site_path for s in routes.static} >= {"assets/style.css", "assets/favicon.svg"}


def test_intro_pages_feed_generated_pages_instead_of_their_own(make_site):
    routes, _ = routes_of(make_site({"content/guides/index.md": "---\ntitle: Our guides\n---\n"}))
    guides = [r for r in routes.routes if r.site_path == "guides/"]
    assert len(guides) == 1 and guides[0].template == "guides.html"
    assert guides[0].title == "Our guides"


def test_every_static_file_a_browser_renders_as_a_page_or_runs_is_warned_about(make_site):
    # Served by common hosts as HTML (.shtml), as an XML document, in which script in the
    # XHTML namespace runs (.xhtm, .xslt, feeds, RDF), or as script.
    active = ["page.shtml", "page.SHTML", "page.xhtm", "style.xslt", "news.rss", "news.atom",
              "data.rdf", "page.html", "drawing.svg", "run.js", "data.xml", "style.xsl"]
    # Shown as text, offered as a download, or (MHTML) rendered by Chromium with script off.
    inert = ["photo.png", "notes.pdf", "saved.mht", "saved.mhtml", "notes.txt", "data.json",
             "table.csv", "talk.mp3", "settings.yml"]
    site = make_site({f"static/files/{name}": "x" for name in active + inert})
    _, problems = routes_of(site)
    flagged = sorted(d.location.path.name for d in problems if d.code == "active-static-file")
    assert flagged == sorted(active)
