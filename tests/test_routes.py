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
