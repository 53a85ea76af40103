from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from cophandbook.references import is_external, make_rewriter, split_md_link, split_relative
from cophandbook.urls import Urls
from tests.conftest import codes, page

URLS = Urls("/sub/", "")
PATHS = {"guides/safety.md": "guides/safety/", "skills/a/rubric.md": "skills/a/rubric/"}


def test_split_md_link():
    assert split_md_link("../rubric.md#x", "skills/a/exercises/e.md") == ("skills/a/rubric.md", "x")
    assert split_md_link("https://x.org/a.md", "index.md") is None
    assert split_md_link("#top", "index.md") is None
    assert split_md_link("photo.png", "index.md") is None


def test_rewriter():
    rewrite = make_rewriter("skills/a/exercises/e.md", PATHS, URLS)
    assert rewrite("../rubric.md#structure") == "/sub/skills/a/rubric/#structure"
    assert rewrite("../../../guides/safety.md") == "/sub/guides/safety/"
    assert rewrite("/recordings/a.mp3") == "/sub/recordings/a.mp3"
    assert rewrite("https://example.org/") == "https://example.org/"
    assert rewrite("missing.md") == "missing.md"


def test_links_in_pages_resolve_with_anchors(built):
    result, out = built()
    assert not result.problems.items
    link = page(out, "guides/giving-feedback/").select_one(".prose a")
    assert link["href"] == "/guides/safety/#pausing"


def test_broken_links_and_anchors_are_reported_at_their_line(built):
    result, _ = built({"content/guides/giving-feedback.md":
                       "---\ntitle: G\n---\nText\n\n[a](nope.md) and [b](safety.md#nowhere)\n"})
    found = [(d.code, d.location.line) for d in result.problems]
    assert found == [("broken-link", 6), ("broken-anchor", 6)]
    assert "broken-anchor" in codes(result)


@given(st.text(alphabet="ab./#?%-_ \t\n\x01md", max_size=16))
def test_splitting_a_relative_url_agrees_with_urlsplit(href):
    """The fast split of a link without a scheme gives what urlsplit gives."""
    parts = urlsplit(href)
    if is_external(href):  # "//" included, which urlsplit gives no host
        return  # not a relative link: never given to split_relative
    assert split_relative(href) == (parts.path, parts.fragment)
