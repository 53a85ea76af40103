"""The pipeline end to end on small sites: pages, integrity, determinism."""

import hashlib
from pathlib import Path

from cophandbook.build import build
from cophandbook.output import LEGACY_MARKER
from tests.conftest import codes, page


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_minimal_site_builds_every_page(built):
    result, out = built()
    assert not result.problems.items, [d.message for d in result.problems]
    expected = [
        "", "skills/toasts/", "skills/toasts/rubric/", "skills/toasts/levels/novice/",
        "skills/toasts/levels/expert/", "skills/toasts/criteria/structure/",
        "skills/toasts/exemplars/wedding-toast/", "skills/toasts/exercises/one-minute-ladder/",
        "exercises/", "sessions/", "sessions/2026-01-14-toast-night/", "feedback/",
        "feedback/rushing/", "coverage/", "guides/", "guides/giving-feedback/",
    ]
    for site_path in expected:
        assert page(out, site_path).find("h1"), site_path
    for name in ("404.html", "sitemap.xml", "sessions/feed.xml", "assets/style.css"):
        assert (out / name).is_file(), name


def test_failed_build_leaves_previous_output_byte_identical(make_site):
    site = make_site()
    assert build(site).written
    before = tree_digest(site / "_site")
    (site / "content/skills/toasts/exemplars/wedding-toast.md").write_text(
        "---\ntitle: Broken\nlevel: nowhere\n---\n")
    result = build(site)
    assert result.problems.has_errors and not result.written
    assert tree_digest(site / "_site") == before
    assert not list(site.glob(".*staging*"))


def test_deleted_sources_disappear(make_site):
    site = make_site()
    build(site)
    assert (site / "_site/guides/safety/index.html").exists()
    (site / "content/guides/safety.md").unlink()
    (site / "content/guides/giving-feedback.md").write_text(
        "---\ntitle: Giving feedback\n---\nNo more links.\n")
    assert build(site).written
    assert not (site / "_site/guides/safety").exists()


def test_two_builds_are_byte_identical(make_site, tmp_path):
    site = make_site()
    build(site, tmp_path / "one")
    build(site, tmp_path / "two")
    one, two = tree_digest(tmp_path / "one"), tree_digest(tmp_path / "two")
    # What each build records of itself (when it looked at the inputs) is kept beside the
    # output, so every file of the output, which is what gets published, is equal.
    assert one == two and LEGACY_MARKER not in one


def test_source_colliding_with_generated_page_names_both(built):
    result, _ = built({"content/exercises.md": "---\ntitle: Exercises\n---\n"})
    (d,) = [d for d in result.problems if d.code == "path-collision"]
    assert "exercises/index.html" in d.message
    assert "generated page" in d.message and d.location.path.name == "exercises.md"


def test_two_sources_on_one_path_name_both(built):
    result, _ = built({"content/about.md": "---\ntitle: A\n---\n",
                       "content/about/index.md": "---\ntitle: B\n---\n"})
    (d,) = [d for d in result.problems if d.code == "path-collision"]
    assert "about.md" in d.message and "index.md" in d.message


def test_static_files_are_copied_and_may_not_collide(built):
    result, out = built({"static/recordings/toast.mp3": b"ID3"})
    assert (out / "recordings/toast.mp3").read_bytes() == b"ID3"
    result, _ = built({"static/404.html": "<p>mine</p>"})
    assert "path-collision" in codes(result)


def test_refuses_to_replace_a_folder_it_did_not_write(make_site, tmp_path):
    site = make_site()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    result = build(site, precious)
    assert codes(result) == ["output-folder"]
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_output_may_not_be_the_site_or_inside_content(make_site):
    site = make_site()
    assert codes(build(site, site)) == ["output-folder"]
    assert codes(build(site, site / "content" / "out")) == ["output-folder"]


def test_warnings_do_not_fail_a_build(built):
    result, _out = built({"content/guides/safety.md": "---\ntitle: S\n---\n[x](missing.md)\n"})
    assert result.written and result.problems.warnings and not result.problems.errors
    assert "broken-link" in codes(result)
