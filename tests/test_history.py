"""'Last updated' dates from git: one call for the site, none in a shallow clone or outside git."""

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from cophandbook import history
from cophandbook.build import build
from cophandbook.diagnostics import Diagnostics
from tests.conftest import MINIMAL, git, page, write_files

EXEMPLAR_PAGE = "skills/toasts/exemplars/wedding-toast/"
GUIDE = "content/guides/safety.md"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the minimal site in `handbook/`, committed twice."""
    root = tmp_path / "repo"
    write_files(root / "handbook", MINIMAL)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first", date="2026-01-05T12:00:00")
    (root / "handbook" / GUIDE).write_text("---\ntitle: Safety\n---\n## Pausing\n\nAny time.\n")
    git(root, "commit", "-qam", "second", date="2026-03-09T23:30:00")
    return root


def last_updated(out: Path, site_path: str) -> str | None:
    time = page(out, site_path).select_one(".page-meta .last-updated time")
    return time["datetime"] if time else None


def test_each_page_shows_the_last_commit_that_touched_its_file(repo):
    site = repo / "handbook"
    result = build(site)
    assert not result.problems.items
    out = site / "_site"
    assert last_updated(out, "guides/safety/") == "2026-03-09"
    assert last_updated(out, EXEMPLAR_PAGE) == "2026-01-05"
    text = page(out, "guides/safety/").select_one(".last-updated").text
    assert text == "Last updated 9 March 2026"
    assert last_updated(out, "exercises/") is None  # generated pages have no source file
    sitemap = (out / "sitemap.xml").read_text()
    assert "/guides/safety/</loc><lastmod>2026-03-09</lastmod>" in sitemap


def test_a_new_date_renders_again_only_the_pages_that_show_it(repo, tmp_path, monkeypatch):
    """A commit on a later day changes one file's date: its page and the sitemap show it,
    and no other page is rendered again; the output is what a clean build writes."""
    import jinja2
    site = repo / "handbook"
    assert build(site).written
    rendered: list[str] = []
    original = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **kw: rendered.append(
        a[0]["page_path"]) or original(self, *a, **kw))
    guide = site / GUIDE
    guide.write_text(guide.read_text() + "\nAnd tell the facilitator.\n")
    git(repo, "commit", "-qam", "third", date="2026-04-20T09:00:00")
    again = build(site)
    assert again.written and last_updated(site / "_site", "guides/safety/") == "2026-04-20"
    assert sorted(rendered) == ["guides/safety/", "sitemap.xml"]
    clean = tmp_path / "clean"
    assert build(site, clean).written
    pages = {p.relative_to(clean).as_posix(): p.read_bytes() for p in clean.rglob("*")
             if p.is_file()}
    assert pages == {p.relative_to(site / "_site").as_posix(): p.read_bytes()
                     for p in (site / "_site").rglob("*") if p.is_file()}


def test_one_git_log_for_the_whole_site(repo, monkeypatch):
    calls = []
    real_run = subprocess.run

    def counting_run(command, *args, **kwargs):
        calls.append(command)
        return real_run(command, *args, **kwargs)

    for n in range(20):
        write_files(repo / "handbook", {f"content/guides/extra-{n}.md": "---\ntitle: E\n---\n"})
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "more")
    monkeypatch.setattr(history.subprocess, "run", counting_run)
    build(repo / "handbook")
    git_calls = [c for c in calls if c[0] == "git"]
    assert len(git_calls) == 2  # is it shallow? then the log
    assert sum("log" in c for c in git_calls) == 1


def test_a_shallow_clone_shows_no_dates_and_warns_once(repo, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", repo.as_uri(), str(clone)],
                   check=True, capture_output=True)
    result = build(clone / "handbook")
    assert [d.code for d in result.problems] == ["shallow-clone"]
    assert "fetch-depth: 0" in result.problems.items[0].hint
    out = clone / "handbook" / "_site"
    assert last_updated(out, "guides/safety/") is None
    assert last_updated(out, EXEMPLAR_PAGE) is None


def test_outside_git_there_are_no_dates_and_no_warning(make_site):
    site = make_site()
    result = build(site)
    assert not result.problems.items
    assert last_updated(site / "_site", "guides/safety/") is None


def test_uncommitted_files_have_no_date(repo):
    site = repo / "handbook"
    write_files(site, {"content/guides/new.md": "---\ntitle: New\n---\n"})
    build(site)
    assert last_updated(site / "_site", "guides/new/") is None
    assert last_updated(site / "_site", "guides/safety/") == "2026-03-09"


def test_parse_log_keeps_the_newest_date_and_odd_names():
    log = ("\x012026-03-09\0\nguides/safety.md\0\0"
           "\x012026-01-05\0\nguides/safety.md\0café b.md\x002026-01-01.md\0")
    assert history.parse_log(log) == {
        "guides/safety.md": dt.date(2026, 3, 9),
        "café b.md": dt.date(2026, 1, 5),
        "2026-01-01.md": dt.date(2026, 1, 5),
    }


def test_without_git_installed_there_are_no_dates(repo, monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert history.last_changed(repo / "handbook" / "content", Diagnostics()) == {}
