"""The link checker: every body link, image and media path against what the build writes."""

import pytest

from cophandbook.links import natural_site_path
from tests.conftest import EXEMPLAR, diagnose

GUIDE = "content/guides/giving-feedback.md"


def link_problems(make_site, body: str, changes=None, path: str = GUIDE):
    """(code, line, col) of each link problem in a page whose body starts on line 4."""
    site = make_site({path: f"---\ntitle: G\n---\n{body}", **(changes or {})})
    return [(d.code, d.location.line, d.location.col) for d in diagnose(site)
            if d.code in ("broken-link", "broken-anchor", "missing-file")]


def test_problems_point_at_the_link_target(make_site):
    body = "Intro.\n\nSee [a](nope.md) and\n[b](safety.md#nowhere).\n"
    assert link_problems(make_site, body) == [("broken-link", 6, 9), ("broken-anchor", 7, 5)]


def test_good_links_of_every_kind_pass(make_site):
    body = (
        "[md](safety.md#pausing) [self](#be-specific) [root](/feedback/)\n"
        "[cell](/skills/toasts/rubric/#structure--expert)\n"
        "[rung](../skills/toasts/index.md#expert)\n"
        "[rubric row](../skills/toasts/rubric.md#delivery) [no slash](/exercises)\n"
        "[asset](/assets/style.css) ![photo](/img/photo.png) [ext](https://example.org/x)\n"
        "[mail](mailto:a@b.org) [relative](../../sessions/)\n\n## Be specific\n"
    )
    assert link_problems(make_site, body, {"static/img/photo.png": b"PNG"}) == []


def test_relative_links_resolve_from_the_page_url_not_the_source_file(make_site):
    # The guide's page is /guides/giving-feedback/, so ../feedback/ is /guides/feedback/,
    # and it takes ../../feedback/ to reach /feedback/.
    site = make_site({GUIDE: "---\ntitle: G\n---\n[a](../feedback/) [b](../../feedback/)\n"})
    (d,) = [d for d in diagnose(site) if d.code == "broken-link"]
    assert (d.location.line, d.location.col) == (4, 5)
    assert "/guides/feedback/" in d.message


def test_missing_images_files_and_media_are_missing_file(make_site):
    body = "![photo](/img/none.png) and [notes](/files/notes.pdf)\n"
    assert link_problems(make_site, body) == [("missing-file", 4, 10), ("missing-file", 4, 37)]
    exemplar = EXEMPLAR.replace("date: 2026-03-02", "date: 2026-03-02\nmedia: /rec/toast.mp3")
    problems = diagnose(make_site({"content/skills/toasts/exemplars/wedding-toast.md": exemplar}))
    (d,) = [d for d in problems if d.code == "missing-file"]
    assert d.location.line == 7 and "static/rec/toast.mp3" in d.hint


def test_anchors_on_generated_pages_are_checked_where_known(make_site):
    body = ("[cell](/skills/toasts/rubric/#structure--master)\n\n"
            "[climb](/skills/toasts/criteria/structure/#anything)\n")
    # The rubric's cells are known; the climb page's ids are only known once rendered.
    assert link_problems(make_site, body) == [("broken-anchor", 4, 8)]


def test_a_link_written_with_the_base_path_gets_a_hint(make_site):
    site = make_site({"handbook.yml": "title: T\nbase_url: /circle/\n",
                      GUIDE: "---\ntitle: G\n---\n[x](/circle/feedback/)\n"})
    (d,) = [d for d in diagnose(site) if d.code == "broken-link"]
    assert "base_url (/circle/) is added for you" in d.hint


def test_links_leading_outside_the_site(make_site):
    assert link_problems(make_site, "[up](/../../etc/passwd)\n") == [("broken-link", 4, 6)]


def test_links_to_files_that_failed_validation_are_not_reported_twice(make_site):
    broken = "---\ntitle: S\norder: first\n---\n## Pausing\n"
    body = "[a](safety.md) [b](/guides/safety/)\n"
    site = make_site({GUIDE: f"---\ntitle: G\n---\n{body}", "content/guides/safety.md": broken})
    assert [d.code for d in diagnose(site)] == ["wrong-type"]


@pytest.mark.parametrize(("rel", "site_path"), [
    ("skills/a/index.md", "skills/a/"), ("skills/a/rubric.md", "skills/a/rubric/"),
    ("guides/x/y.md", "guides/x/y/"), ("index.md", ""), ("guides/index.md", "guides/"),
])
def test_natural_site_path(rel, site_path):
    assert natural_site_path(rel) == site_path
