"""Hostile input: odd keys, bytes, sizes, links, names and paths never crash a build, never
publish what the handbook does not hold, and are reported at their file, line and column."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cophandbook.build import build
from cophandbook.check import check
from cophandbook.diagnostics import Diagnostic, Diagnostics
from tests.conftest import EXEMPLAR, MINIMAL, SETTINGS, diagnose, page

SECRET = "TOP-SECRET-0xC0FFEE"
GUIDE = "---\ntitle: {title}\n---\nText.\n"


def found(problems: Diagnostics, code: str) -> list[Diagnostic]:
    return [d for d in problems if d.code == code]


def where(d: Diagnostic, site: Path) -> tuple[str, int, int]:
    assert d.location is not None
    return d.location.path.relative_to(site).as_posix(), d.location.line, d.location.col


def published(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


# -- 1. unknown keys: a warning in build, an error in check -------------------------------


def test_unknown_front_matter_key_warns_in_build_and_fails_check(make_site):
    site = make_site({"content/skills/toasts/exemplars/wedding-toast.md":
                      EXEMPLAR.replace("contributor: Sam R.", "contributer: Sam R.")})
    result = build(site)
    (d,) = found(result.problems, "unknown-key")
    assert not d.is_error and where(d, site) == (
        "content/skills/toasts/exemplars/wedding-toast.md", 5, 1)
    assert d.message == "unknown key 'contributer' in an exemplar's front matter; it is ignored"
    assert d.hint == "did you mean 'contributor'?"
    assert result.written  # the site still builds, without the misspelt value
    title = page(result.output, "skills/toasts/exemplars/wedding-toast/").find("h1")
    assert title.get_text(strip=True) == "Wedding toast"

    (d,) = found(check(site).problems, "unknown-key")
    assert d.is_error and d.location.line == 5 and d.hint == "did you mean 'contributor'?"


def test_unknown_settings_key_warns_in_build_and_fails_check(make_site):
    site = make_site({"handbook.yml": SETTINGS + "serach: true\n"})
    result = build(site)
    (d,) = found(result.problems, "unknown-key")
    assert not d.is_error and where(d, site) == ("handbook.yml", 9, 1)
    assert d.hint == "did you mean 'search'?" and result.written
    checked = check(site).problems
    assert [(c.code, c.is_error) for c in checked] == [("unknown-key", True)]


def test_a_kind_starting_with_a_consonant_keeps_its_article(make_site):
    site = make_site({"content/guides/safety.md": "---\ntitle: S\nsumary: x\n---\n## Pausing\n"})
    (d,) = found(diagnose(site), "unknown-key")
    assert d.message == "unknown key 'sumary' in a page's front matter; it is ignored"


# -- 2. control characters ------------------------------------------------------------------


def test_control_characters_are_removed_and_reported_where_they_are(make_site):
    site = make_site({"content/guides/safety.md":
                      "---\ntitle: Safe\x07ty\norder: 2\n---\n## Pausing\n\nAny\x1b[0m one\x7f.\n"})
    result = build(site)
    controls = found(result.problems, "control-character")
    assert [(where(d, site), d.message) for d in controls] == [
        (("content/guides/safety.md", 2, 12), "control character U+0007 removed"),
        (("content/guides/safety.md", 7, 4), "control character U+001B removed"),
        (("content/guides/safety.md", 7, 12), "control character U+007F removed"),
    ]
    assert all(not d.is_error for d in result.problems) and result.written
    html = page(result.output, "guides/safety/")
    assert html.find("h1").get_text(strip=True) == "Safety"
    assert "Any[0m one." in html.get_text()
    for name, data in published(result.output).items():
        assert b"\x07" not in data and b"\x1b" not in data, name


def test_control_characters_in_settings_are_removed(make_site):
    site = make_site({"handbook.yml": SETTINGS.replace("Test Circle", "Test\x00 Circle")})
    result = build(site)
    (d,) = result.problems
    assert d.code == "control-character" and where(d, site) == ("handbook.yml", 1, 12)
    assert "U+0000" in d.message
    assert page(result.output, "").find("title").get_text().startswith("Test Circle")


def test_a_file_full_of_control_characters_gives_a_few_warnings(make_site):
    site = make_site({"content/guides/noise.md": "---\ntitle: Noise\n---\n" + "\x01" * 500})
    controls = found(diagnose(site), "control-character")
    assert len(controls) == 6
    assert controls[-1].message == "495 more control characters removed from this file"


def test_yaml_messages_carry_no_parser_positions(make_site):
    site = make_site({"content/guides/bad.md": "---\ntitle: [unclosed\n---\n",
                      "content/guides/tab.md": "---\ntitle: a\n\tlevel: b\n---\n"})
    problems = found(diagnose(site), "invalid-yaml")
    assert sorted(where(d, site)[:2] for d in problems) == [("content/guides/bad.md", 3),
                                                            ("content/guides/tab.md", 3)]
    for d in problems:
        assert "<unicode string>" not in d.message and "position" not in d.message
        assert "\n" not in d.message


def test_characters_xml_refuses_are_removed_like_control_characters(make_site):
    """U+FFFE and U+FFFF would pass YAML's reader only to break the Atom feed."""
    site = make_site({"content/guides/odd.md": "---\ntitle: a\ufffeb\n---\nc\uffffd\n"})
    problems = diagnose(site)
    assert [where(d, site) for d in found(problems, "control-character")] == [
        ("content/guides/odd.md", 2, 9), ("content/guides/odd.md", 4, 2)]
    assert not problems.errors


# -- 3. the file size limit ------------------------------------------------------------------


def test_files_over_the_default_limit_are_refused(make_site):
    big = "---\ntitle: Big\n---\n" + "x" * (5 * 1024 * 1024)
    site = make_site({"content/guides/big.md": big})
    result = build(site)
    (d,) = found(result.problems, "file-too-large")
    assert d.is_error and where(d, site) == ("content/guides/big.md", 0, 0)
    assert d.message == "file is 5.1 MB; the limit is 5 MB"
    assert "max_file_mb" in d.hint and not result.written


def test_max_file_mb_lowers_and_raises_the_limit(make_site, tmp_path):
    body = "---\ntitle: Mid\n---\n" + "word " * 400  # about 2 KB
    site = make_site({"handbook.yml": SETTINGS + "max_file_mb: 0.001\n",
                      "content/guides/mid.md": body})
    (d,) = found(diagnose(site), "file-too-large")
    assert d.message == "file is 2 KB; the limit is 1 KB"

    big = "---\ntitle: Big\n---\n" + "word " * (1200 * 1024)  # 6 MB
    site = make_site({"handbook.yml": SETTINGS + "max_file_mb: 20\n",
                      "content/guides/big.md": big}, name="raised")
    result = build(site)
    assert not result.problems.items and result.written
    assert page(result.output, "guides/big/").find("h1").get_text(strip=True) == "Big"


@pytest.mark.parametrize("value", ["0", "-1", "big", "true", "[5]"])
def test_max_file_mb_must_be_a_positive_number(make_site, value):
    site = make_site({"handbook.yml": SETTINGS + f"max_file_mb: {value}\n"})
    result = build(site)
    (d,) = result.problems
    assert d.code == "invalid-setting" and where(d, site) == ("handbook.yml", 9, 1)
    assert "max_file_mb" in d.message and d.hint == "write it like 'max_file_mb: 10'"
    assert not result.written


# -- 4. links (symlinks) ---------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "passwd").write_text(f"root:x:0:0:{SECRET}\n")
    (folder / "secret.md").write_text(f"---\ntitle: Secret\n---\n{SECRET}\n")
    return folder


def test_links_leading_outside_the_handbook_are_never_published(make_site, outside):
    site = make_site({"static/real.txt": "real"})
    os.symlink(outside / "secret.md", site / "content/guides/secret.md")
    os.symlink(outside / "passwd", site / "static/passwd")
    os.symlink("../../elsewhere/passwd", site / "static/relative")
    (site / ".git").mkdir()
    (site / ".git/config").write_text(f"[remote]\n  url = https://{SECRET}@example.org\n")
    os.symlink("../.git/config", site / "static/config")
    result = build(site)
    skipped = sorted(where(d, site) for d in found(result.problems, "symlink-outside"))
    assert skipped == [("content/guides/secret.md", 0, 0), ("static/config", 0, 0),
                       ("static/passwd", 0, 0), ("static/relative", 0, 0)]
    assert all(not d.is_error for d in result.problems) and result.written
    files = published(result.output)
    assert "real.txt" in files and "passwd" not in files and "guides/secret/index.html" \
        not in files
    assert not [name for name, data in files.items() if SECRET.encode() in data]
    # The next build agrees about what its inputs are: nothing changed, nothing to do.
    assert build(site).unchanged


def test_links_inside_the_handbook_are_read(make_site):
    site = make_site({"static/real.txt": "real"})
    os.symlink("safety.md", site / "content/guides/also-safety.md")
    os.symlink("real.txt", site / "static/alias.txt")
    result = build(site)
    assert not result.problems.items and result.written
    assert (result.output / "alias.txt").read_bytes() == b"real"
    assert page(result.output, "guides/also-safety/").find("h1").get_text(strip=True) == "Safety"


def test_loops_dangling_links_and_folder_links_are_skipped(make_site):
    site = make_site({"static/real.txt": "real"})
    for folder in (site / "content/guides", site / "static"):
        os.symlink("b.md", folder / "a.md")
        os.symlink("a.md", folder / "b.md")
        os.symlink("gone.md", folder / "dangling.md")
        os.symlink("..", folder / "up")
        os.symlink(".", folder / "self")
    result = build(site)
    codes = sorted((d.code, where(d, site)[0]) for d in result.problems)
    assert codes == sorted(
        [("broken-symlink", f"{folder}/{name}") for folder in ("content/guides", "static")
         for name in ("a.md", "b.md", "dangling.md")]
        + [("symlink-folder", f"{folder}/{name}") for folder in ("content/guides", "static")
           for name in ("self", "up")])
    up = next(d for d in result.problems if d.location.path.name == "up")
    assert "copy the folder" in up.hint
    assert result.written and set(published(result.output)) >= {"real.txt"}
    assert not any(name.startswith(("up/", "self/", "a.md", "b.md"))
                   for name in published(result.output))
    assert build(site).unchanged  # the fingerprint walks the same files, loops and all


def test_pipes_are_skipped_not_read(make_site):
    # Reading a pipe waits for a writer that never comes: the build would hang.
    site = make_site({"static/real.txt": "real"})
    os.mkfifo(site / "content/guides/pipe.md")
    os.mkfifo(site / "static/pipe")
    result = build(site)
    assert sorted(where(d, site)[0] for d in found(result.problems, "special-file")) == [
        "content/guides/pipe.md", "static/pipe"]
    assert result.written and "pipe" not in published(result.output)
    assert build(site).unchanged


def test_a_static_folder_that_is_a_link_outside_publishes_nothing(make_site, outside):
    site = make_site()
    os.symlink(outside, site / "static")
    result = build(site)
    (d,) = result.problems
    assert d.code == "symlink-outside" and d.is_error and where(d, site) == ("static", 0, 0)
    assert not result.written and not (site / "_site").exists()


# -- 5. names and ids that are paths -----------------------------------------------------------


def test_file_and_folder_names_that_are_not_url_safe_are_errors(make_site, tmp_path):
    names = {
        "content/guides/%2e%2e.md": "content/guides/2e-2e.md",
        "content/guides/x%2fy.md": "content/guides/x-2fy.md",
        "content/guides/a\\b.md": "content/guides/a-b.md",
        "content/guides/Read Me.md": "content/guides/read-me.md",
        "content/guides/what?#.md": "content/guides/what.md",
        "content/guides/a..b.md": "content/guides/a-b.md",
        "content/my guides/tips.md": "content/my-guides/tips.md",
    }
    site = make_site({name: GUIDE.format(title="T") for name in names})
    before = tree(tmp_path)
    result = build(site)
    errors = {where(d, site)[0]: d for d in found(result.problems, "invalid-filename")}
    assert set(errors) == set(names)
    for name, suggestion in names.items():
        assert errors[name].is_error and errors[name].hint.endswith(f"rename it to {suggestion}")
    assert "folder name 'my guides'" in errors["content/my guides/tips.md"].message
    assert not result.written and tree(tmp_path) == before  # nothing written anywhere


def test_a_name_of_dots_is_hidden_and_cannot_replace_a_page(make_site):
    site = make_site({"content/guides/..md": GUIDE.format(title="Impostor"),
                      "content/guides/index.md": GUIDE.format(title="All guides")})
    result = build(site)
    assert not result.problems.items and result.written
    assert page(result.output, "guides/").find("h1").get_text(strip=True) == "All guides"
    assert not [n for n, data in published(result.output).items() if b"Impostor" in data]


def test_ids_that_are_paths_are_errors_at_their_line(make_site):
    rubric = MINIMAL["content/skills/toasts/rubric.md"].replace("id: structure", "id: ../x")
    site = make_site({
        "handbook.yml": SETTINGS.replace("{id: expert,", "{id: '%2e%2e',").replace(
            "{id: rushing,", "{id: 'a\\\\b',"),
        "content/skills/toasts/rubric.md": rubric,
        "content/guides/extra.md": "---\ntitle: E\ntype: exercise\nskill: ../toasts\n"
                                   "levels: [novice]\n---\n",
        "content/sessions/2026-01-14-toast-night.md": "---\ntitle: T\ndate: 2026-01-14\n"
                                                      "exercises: [../../etc/passwd]\n---\n",
    })
    result = build(site)
    bad = sorted((d.code, *where(d, site)[:2]) for d in result.problems
                 if d.code in ("invalid-id", "unknown-reference"))
    assert bad == [
        ("invalid-id", "content/guides/extra.md", 4),
        ("invalid-id", "content/skills/toasts/rubric.md", 4),
        ("invalid-id", "handbook.yml", 5),
        ("invalid-id", "handbook.yml", 7),
        ("unknown-reference", "content/sessions/2026-01-14-toast-night.md", 4),
    ]
    assert not result.written and not (site / "_site").exists()


def test_a_static_name_that_cannot_be_published_is_an_error_before_writing(make_site):
    site = make_site({"static/a\\b.txt": "x", "static/x%2e%2e.txt": "y"})
    result = build(site)
    bad = sorted(where(d, site)[0] for d in found(result.problems, "invalid-filename"))
    assert bad == ["static/a\\b.txt", "static/x%2e%2e.txt"]
    assert not [d for d in result.problems if d.code == "output-folder"]
    assert not result.written and not (site / "_site").exists()


# -- 6. collisions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("files", "output", "parties", "at"), [
    ({"content/feedback.md": GUIDE.format(title="F")}, "feedback/index.html",
     ["the generated page /feedback/", "content/feedback.md:1"], "content/feedback.md"),
    ({"content/feedback/index.md": GUIDE.format(title="F")}, "feedback/index.html",
     ["the generated page /feedback/", "content/feedback/index.md:1"],
     "content/feedback/index.md"),
    ({"handbook.yml": SETTINGS + "search: true\n", "content/search.md": GUIDE.format(title="S")},
     "search/index.html", ["content/search.md:1", "the generated page /search/"],
     "content/search.md"),
    ({"static/skills/toasts/index.html": "<p>mine</p>"}, "skills/toasts/index.html",
     ["content/skills/toasts/index.md:1", "static/skills/toasts/index.html"],
     "static/skills/toasts/index.html"),
    ({"content/about.md": GUIDE.format(title="A"), "content/about/index.md":
      GUIDE.format(title="B")}, "about/index.html",
     ["content/about.md:1", "content/about/index.md:1"], "content/about/index.md"),
])
def test_collisions_name_both_parties(make_site, files, output, parties, at):
    site = make_site(files)
    (d,) = found(diagnose(site), "path-collision")
    assert d.is_error and d.message == (
        f"/{output} would be written twice: by {parties[0]} and by {parties[1]}")
    assert where(d, site)[0] == at


def test_a_file_where_a_folder_is_needed_collides(make_site):
    site = make_site({"static/guides": "a file"})
    result = build(site)
    (d,) = found(result.problems, "path-collision")
    assert where(d, site) == ("static/guides", 0, 0)
    assert "/guides would be both a file (from static/guides)" in d.message
    assert not result.written


def test_a_source_named_like_a_generated_page_is_fine_without_it(make_site):
    site = make_site({"content/search.md": GUIDE.format(title="Finding things")})
    result = build(site)
    assert not result.problems.items
    assert page(result.output, "search/").find("h1").get_text(strip=True) == "Finding things"
