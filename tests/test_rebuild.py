"""Rebuilds: one with nothing changed does nothing; any change gives exactly the files a clean
build gives (never stale); pages that did not change are not written again; and building on
several cores gives the same bytes as building on one."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cophandbook
import cophandbook.build
import cophandbook.fingerprint
import cophandbook.pipeline
from cophandbook.build import build
from cophandbook.theme import default_theme
from tests.conftest import EXEMPLAR, EXERCISE, NOVICE_EXEMPLAR, RUBRIC, SETTINGS, write_files

EXEMPLAR_FILE = "content/skills/toasts/exemplars/wedding-toast.md"


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_as_a_clean_build(site: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    assert build(site, clean).written
    assert digests(site / "_site") == digests(clean)


def inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino
            for p in folder.rglob("*") if p.is_file()}


def test_a_build_with_nothing_changed_does_nothing(make_site):
    site = make_site({"content/guides/giving-feedback.md":
                      "---\ntitle: Feedback\n---\n[gone](missing.md)\n"})
    first = build(site)
    assert first.written and [d.code for d in first.problems] == ["broken-link"]
    before = inodes(site / "_site")
    again = build(site)
    assert again.unchanged and not again.written
    assert again.pages == first.pages and again.output == first.output
    assert [d.code for d in again.problems] == ["broken-link"]  # still reported
    assert inodes(site / "_site") == before


def test_a_deleted_output_file_is_rebuilt(make_site):
    site = make_site()
    assert build(site).written
    (site / "_site" / "exercises" / "index.html").unlink()
    assert build(site).written
    assert (site / "_site" / "exercises" / "index.html").is_file()


CHANGES = {
    "a template": {"templates/exemplar.html":
                   "{% extends 'theme/exemplar.html' %}\n{% block title %}T{% endblock %}\n"},
    "a level's name": {"handbook.yml": SETTINGS.replace("name: Expert", "name: Master")},
    "a rubric descriptor": {"content/skills/toasts/rubric.md":
                            RUBRIC.replace("Quiet and fast.", "Hurried.")},
    "the target of a reference": {"content/skills/toasts/exercises/one-minute-ladder.md":
                                  EXERCISE.replace("title: One-minute ladder",
                                                   "title: Two-minute ladder")},
    "handbook.yml": {"handbook.yml": SETTINGS.replace("title: Test Circle", "title: Circle")},
    "a static file": {"static/notes.txt": "new"},
    # Bodies: pages that show them are rendered again, the others kept as they were.
    "an exemplar's body": {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"},
    "an annotated passage": {EXEMPLAR_FILE: EXEMPLAR.replace("at a bus stop in the rain",
                                                             "on a night train")},
    "an annotation's note": {EXEMPLAR_FILE: EXEMPLAR.replace("Opens with a concrete scene.",
                                                             "Starts inside a scene.")},
    # ...which moves an exemplar without criteria of its own on the rubric.
    "an annotation's criterion": {"content/skills/toasts/exemplars/first-toast.md":
                                  NOVICE_EXEMPLAR.replace("::: annotation delivery",
                                                          "::: annotation structure")},
    "an exemplar's title": {EXEMPLAR_FILE: EXEMPLAR.replace("title: Wedding toast",
                                                            "title: Toast at a wedding")},
    "a new exemplar": {"content/skills/toasts/exemplars/another.md":
                       EXEMPLAR.replace("Wedding toast", "Another toast")},
    "a deleted exemplar": {"content/skills/toasts/exemplars/first-toast.md": None},
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_rebuilds_to_exactly_what_a_clean_build_gives(make_site, tmp_path,
                                                                 change):
    site = make_site()
    assert build(site).written
    write_files(site, change)
    incremental = build(site)
    assert incremental.written, [str(d) for d in incremental.problems]
    assert_same_as_a_clean_build(site, tmp_path)


def test_an_edit_to_one_body_renders_again_only_the_pages_that_show_it(make_site,
                                                                      monkeypatch):
    import jinja2
    site = make_site()
    rendered: list[str] = []
    original = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **kw: rendered.append(
        a[0]["page_path"]) or original(self, *a, **kw))
    first = build(site)
    assert first.written and first.pages_reused == 0
    every = len(rendered)  # pages, the feed and the sitemap
    rendered.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    again = build(site)
    assert again.written
    # Its own page, its level's pack, the climbs and level pages that quote its annotations
    # or could (it is placed on both criteria), the next steps that quote them, and its
    # page for practising judgement.
    assert sorted(rendered) == [
        "skills/toasts/assess/steps.json", "skills/toasts/calibrate/wedding-toast/",
        "skills/toasts/criteria/delivery/", "skills/toasts/criteria/structure/",
        "skills/toasts/exemplars/wedding-toast/", "skills/toasts/levels/competent/",
        "skills/toasts/levels/competent/pack/", "skills/toasts/levels/novice/"]
    assert len(rendered) < every
    assert again.pages_reused == every - len(rendered)
    assert "skills/toasts/exercises/one-minute-ladder/" not in rendered
    # A front matter change can show anywhere: every page is rendered again.
    rendered.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("Sam R.", "Sam Rivers")})
    assert build(site).pages_reused == 0
    assert len(rendered) == every


def test_an_edited_static_file_is_copied_and_no_page_is_rendered_again(make_site, tmp_path,
                                                                      monkeypatch):
    import jinja2
    theme = tmp_path / "theme"
    shutil.copytree(default_theme(), theme)
    monkeypatch.setattr(cophandbook.build, "default_theme", lambda: theme)
    monkeypatch.setattr(cophandbook.pipeline, "default_theme", lambda: theme)
    site = make_site({"static/notes.txt": "old"})
    assert build(site).written
    rendered: list[str] = []
    original = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **kw: rendered.append(
        a[0]["page_path"]) or original(self, *a, **kw))
    write_files(site, {"static/notes.txt": "new, and longer"})
    stylesheet = theme / "static" / "style.css"
    stylesheet.write_text(stylesheet.read_text() + "\n/* later */\n")
    again = build(site)
    assert again.written and not again.unchanged
    assert rendered == []  # no page shows what a static file holds
    out = site / "_site"
    assert (out / "notes.txt").read_text() == "new, and longer"
    assert (out / "assets" / "style.css").read_text().endswith("/* later */\n")
    assert_same_as_a_clean_build(site, tmp_path)
    # A template of the theme is on every page: each is rendered again.
    rendered.clear()
    base = theme / "templates" / "base.html"
    base.write_text(base.read_text().replace("</html>", "<!-- later --></html>"))
    assert build(site).pages_reused == 0 and rendered
    assert "<!-- later -->" in (out / "index.html").read_text()


def test_a_rebuild_updates_the_output_in_place(make_site, tmp_path):
    site = make_site({"static/notes.txt": "old", "static/media/clip.txt": "clip"})
    assert build(site).written
    before = inodes(site / "_site")
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n",
                       "content/skills/toasts/exemplars/first-toast.md": None,
                       "static/notes.txt": "new", "static/media/clip.txt": None})
    result = build(site)
    assert result.written
    after = inodes(site / "_site")
    assert after["exercises/index.html"] == before["exercises/index.html"]  # not touched
    assert "skills/toasts/exemplars/first-toast/index.html" not in after
    assert not (site / "_site/skills/toasts/exemplars/first-toast").exists()  # nor its folder
    assert not (site / "_site/media").exists()
    assert (site / "_site/notes.txt").read_text() == "new"
    assert_same_as_a_clean_build(site, tmp_path)


def output_folder_error(result) -> str:
    """The message of a build's only error, which must be about the output folder."""
    assert not result.written
    [problem] = result.problems.errors
    assert problem.code == "output-folder"
    return problem.message


def test_a_rebuild_never_writes_through_a_link_out_of_the_output(make_site, tmp_path):
    site = make_site()
    assert build(site).written
    folder = site / "_site/skills/toasts/exemplars/wedding-toast"
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)
    before = digests(elsewhere)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("Raise your glasses.", "Cheers.")})
    assert "link" in output_folder_error(build(site))
    assert digests(elsewhere) == before


def test_an_update_cut_short_is_redone_in_full(make_site, tmp_path, monkeypatch):
    import cophandbook.output
    site = make_site()
    assert build(site).written
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("Raise your glasses.", "Cheers.")})
    real_replace = os.replace

    def disk_full(source, target):
        if str(target).endswith("wedding-toast/index.html"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(cophandbook.output.os, "replace", disk_full)
    # Every rename of that page fails, putting the old one back too: the error names it.
    failed = build(site)
    assert "the disk is full" in output_folder_error(failed)
    assert failed.output_changed == ("skills/toasts/exemplars/wedding-toast/index.html",)
    monkeypatch.setattr(cophandbook.output.os, "replace", real_replace)
    again = build(site)
    assert again.written and not again.unchanged and again.pages_reused == 0
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_new_cophandbook_version_rebuilds(make_site, monkeypatch):
    site = make_site()
    assert build(site).written
    assert build(site).unchanged
    monkeypatch.setattr(cophandbook.fingerprint, "__version__", "99.0")
    assert build(site).written


def test_unchanged_pages_are_linked_not_written_again(make_site):
    site = make_site()
    assert build(site).written
    before = inodes(site / "_site")
    write_files(site, {EXEMPLAR_FILE: (site / EXEMPLAR_FILE).read_text() + "\nOne more line.\n"})
    result = build(site)
    assert result.written and 0 < result.files_written < result.files_kept
    after = inodes(site / "_site")
    page = "skills/toasts/exemplars/wedding-toast/index.html"
    assert after[page] != before[page]  # written anew
    assert after["exercises/index.html"] == before["exercises/index.html"]  # the same file


def test_several_cores_give_the_same_bytes_as_one(tmp_path):
    """A site large enough to use worker processes, built with one and with two."""
    generator = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_handbook.py"
    site = tmp_path / "big"
    if generator.is_file():
        subprocess.run([sys.executable, str(generator), str(site), "--pages", "300"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        settings = site / "handbook.yml"  # Pagefind's own files differ from run to run
        settings.write_text(settings.read_text().replace("search: true", "search: false"))
    else:  # a copy of the project without the shared generator: many small guides
        write_files(site, {"handbook.yml": SETTINGS, **{
            f"content/guides/g{n}.md": f"---\ntitle: Guide {n}\n---\nText *{n}* "
                                       f"[next](g{(n + 1) % 300}.md).\n" for n in range(300)}})
    outputs = {}
    for workers in ("1", "2"):
        env = {**os.environ, "COPHANDBOOK_WORKERS": workers}
        out = tmp_path / f"out-{workers}"
        done = subprocess.run([sys.executable, "-m", "cophandbook", "build", str(site), "-o",
                               str(out)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs[workers] = digests(out)
    assert len(outputs["1"]) > 300
    assert outputs["1"] == outputs["2"]


def age(site: Path, seconds: int = 60) -> None:
    """Date every input file back, as if written a while before the build."""
    past = os.stat(site).st_mtime - seconds
    for path in site.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def test_unchanged_files_are_not_read_again_to_know_nothing_changed(make_site, monkeypatch):
    site = make_site()
    age(site)
    assert build(site).written
    read: list[Path] = []
    original = cophandbook.fingerprint._content_digest
    monkeypatch.setattr(cophandbook.fingerprint, "_content_digest",
                        lambda path: read.append(Path(path)) or original(path))
    assert build(site).unchanged
    assert not [p for p in read if site in p.parents]
    guide = site / "content/guides/giving-feedback.md"
    os.utime(guide)  # a new time, the same bytes: read again, and still nothing changed
    assert build(site).unchanged
    assert [p for p in read if site in p.parents] == [guide]


def test_the_fingerprint_does_not_depend_on_how_the_site_is_named(make_site, monkeypatch):
    from cophandbook.fingerprint import fingerprint
    from cophandbook.theme import default_theme
    site = make_site()
    absolute = fingerprint(site, default_theme(), None, {})
    monkeypatch.chdir(site)
    relative = fingerprint(Path("."), default_theme(), None, {})
    assert relative.digest == absolute.digest and relative.frame == absolute.frame
    monkeypatch.chdir(site.parent)
    assert fingerprint(Path(site.name), default_theme(), None, {}).digest == absolute.digest


def test_an_edit_that_keeps_the_size_is_still_seen(make_site, tmp_path):
    site = make_site()
    age(site)
    assert build(site).written
    page = site / EXEMPLAR_FILE
    text = page.read_text()
    page.write_text(text.replace("Raise your glasses.", "Raise your glassez."))
    assert len(page.read_bytes()) == len(text.encode())
    result = build(site)
    assert result.written
    html = (site / "_site/skills/toasts/exemplars/wedding-toast/index.html").read_text()
    assert "glassez" in html


@pytest.mark.parametrize(("mtime_ns", "racy"), [
    (10**18 + 123_456_789, False),  # a fine clock, a second before the stamp
    (10**18 + 999_999_999 - 20_000_000, True),  # a fine clock, 20 ms before
    (10**18, True),  # whole seconds: could be anywhere in that second and the next
    (10**18 - 3 * 10**9, False),  # whole seconds, 3 s before
])
def test_files_too_new_to_trust_by_their_time_are_read(mtime_ns, racy):
    from cophandbook.fingerprint import _racy
    assert _racy(mtime_ns, 10**18 + 999_999_999) is racy


def test_a_rebuild_renders_only_the_bodies_that_changed(make_site, monkeypatch, tmp_path):
    import cophandbook.derive
    monkeypatch.setenv("COPHANDBOOK_CACHE", str(tmp_path / "cache"))
    site = make_site()
    rendered: list[str] = []
    original = cophandbook.derive.render_markdown
    monkeypatch.setattr(cophandbook.derive, "render_markdown",
                        lambda body, **kw: rendered.append(body) or original(body, **kw))
    assert build(site).written
    everything = len(rendered)
    assert everything > 5
    rendered.clear()
    write_files(site, {EXEMPLAR_FILE: (site / EXEMPLAR_FILE).read_text() + "\nAgain.\n"})
    assert build(site).written
    assert len(rendered) == 1 and rendered[0].endswith("Again.\n")
    # A body whose links now lead elsewhere is rendered again, like every other.
    rendered.clear()
    write_files(site, {"content/skills/toasts/exercises/one-minute-ladder.md": None,
                       "content/skills/toasts/exercises/one-minute-drill.md": EXERCISE})
    build(site)
    assert len(rendered) == everything


def _garbage(entry: bytes) -> bytes:
    return b"\x78\x01not zlib at all"


def _lose_the_html(entry: bytes) -> bytes:
    """Keep the outline (headings, marks, links), cut the HTML after it short."""
    return entry[:4 + int.from_bytes(entry[:4], "big") + 3]


@pytest.mark.parametrize("damage", [_garbage, _lose_the_html])
def test_a_damaged_cache_entry_is_rendered_again(make_site, monkeypatch, tmp_path, damage):
    cache = tmp_path / "cache"
    monkeypatch.setenv("COPHANDBOOK_CACHE", str(cache))
    site = make_site()
    assert build(site).written
    clean = digests(site / "_site")
    entries = list(cache.rglob("*.z"))
    assert entries
    for entry in entries:
        entry.write_bytes(damage(entry.read_bytes()))
    write_files(site, {"static/bump.txt": "x"})  # so the build is not skipped as unchanged
    assert build(site).written
    clean.update({"bump.txt": digests(site / "_site")["bump.txt"]})
    assert digests(site / "_site") == clean
