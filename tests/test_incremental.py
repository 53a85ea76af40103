"""What a build keeps for the next one besides rendered bodies: parsed content files
(sourcecache.py), the bodies' outlines, and compiled templates. A rebuild reads only the
files that changed, never gives anything but what a clean build gives, and survives a
damaged cache or a file that changes while it runs."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

import cophandbook.build
import cophandbook.pipeline
import cophandbook.sources
from cophandbook.bodycache import OUTLINES_FILE, default_folder
from cophandbook.build import build
from cophandbook.caches import LINKS_FILE
from cophandbook.sourcecache import FILE_NAME
from tests.conftest import EXEMPLAR, EXERCISE, write_files
from tests.test_rebuild import EXEMPLAR_FILE, assert_same_as_a_clean_build, digests


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("COPHANDBOOK_CACHE", str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The content files each build parses, by path under content/."""
    seen: list[str] = []
    original = cophandbook.sources.parse_source

    def counting(data, path, rel, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(rel.as_posix())
        return original(data, path, rel, *args, **kwargs)

    monkeypatch.setattr(cophandbook.sources, "parse_source", counting)
    return seen


def test_a_rebuild_parses_only_the_files_that_changed(make_site, cache, parses, tmp_path):
    site = make_site()
    assert build(site).written
    files = len(list((site / "content").rglob("*.md")))
    assert len(parses) == files > 5
    parses.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    assert build(site).written
    assert parses == [EXEMPLAR_FILE.removeprefix("content/")]
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_change_of_front_matter_alone_is_read_again(make_site, cache, parses, tmp_path):
    site = make_site()
    assert build(site).written
    parses.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("title: Wedding toast",
                                                       "title: Toast at a wedding")})
    assert build(site).written
    assert parses == [EXEMPLAR_FILE.removeprefix("content/")]
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_file_with_problems_is_parsed_on_every_build_and_reported_each_time(
        make_site, cache, parses):
    site = make_site({"content/guides/odd.md": "---\ntitle: Odd\n---\nA bell\x07 here.\n"})
    codes = [d.code for d in build(site).problems]
    assert "control-character" in codes
    parses.clear()
    write_files(site, {"static/bump.txt": "x"})  # so the build is not skipped as unchanged
    again = build(site)
    assert parses == ["guides/odd.md"]
    assert [d.code for d in again.problems] == codes


def _cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes) -> bytes:
    return bytes(byte ^ 0x5A for byte in data)


def _another_version(data: bytes) -> bytes:
    _, entries = marshal.loads(data)
    return marshal.dumps(("0 elsewhere", entries))


def _wrong_shapes(data: bytes) -> bytes:
    header, entries = marshal.loads(data)
    return marshal.dumps((header, {key: marshal.dumps([1, 2]) for key in entries}))


def _values_not_marshalled(data: bytes) -> bytes:
    header, entries = marshal.loads(data)
    return marshal.dumps((header, {key: value[: len(value) // 2]
                                   for key, value in entries.items()}))


@pytest.mark.parametrize("damage", [_cut_short, _garbage, _another_version, _wrong_shapes,
                                    _values_not_marshalled])
@pytest.mark.parametrize("name", [FILE_NAME, OUTLINES_FILE, LINKS_FILE])
def test_a_damaged_index_is_read_again_from_the_files(make_site, cache, tmp_path, damage,
                                                      name):
    site = make_site()
    assert build(site).written
    index = default_folder(site) / name
    index.write_bytes(damage(index.read_bytes()))
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    result = build(site)
    assert result.written and not result.problems.has_errors
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_file_changed_before_its_body_is_read_fails_the_build_and_keeps_the_output(
        make_site, cache, monkeypatch):
    site = make_site()
    assert build(site).written
    before = digests(site / "_site")
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    validate = cophandbook.pipeline.validate

    def validate_then_edit(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Read and parsed; its body is read again when it is rendered, after this.
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA different paragraph.\n"})
        return validate(*args, **kwargs)

    monkeypatch.setattr(cophandbook.pipeline, "validate", validate_then_edit)
    result = build(site)
    assert not result.written
    [problem] = result.problems.errors
    assert problem.code == "changed-during-build"
    assert problem.location is not None and problem.location.path.name == "wedding-toast.md"
    assert digests(site / "_site") == before
    monkeypatch.setattr(cophandbook.pipeline, "validate", validate)
    assert build(site).written  # the next build reads the file as it is now


def test_a_file_changed_after_the_fingerprint_fails_the_build(make_site, cache, monkeypatch,
                                                              tmp_path):
    """The fingerprint names the version of each file the output is built from: a build
    that read another version of a file must not claim to be that output, nor keep its
    parse under that version's digest."""
    site = make_site()
    assert build(site).written
    original = (site / EXEMPLAR_FILE).read_text()
    fingerprint = cophandbook.build.fingerprint

    def fingerprint_then_edit(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = fingerprint(*args, **kwargs)
        write_files(site, {EXEMPLAR_FILE: original.replace("title: Wedding toast",
                                                           "title: Racing toast")})
        return found

    write_files(site, {EXEMPLAR_FILE: original + "\nOne more paragraph.\n"})
    monkeypatch.setattr(cophandbook.build, "fingerprint", fingerprint_then_edit)
    racing = build(site)
    assert not racing.written
    assert [d.code for d in racing.problems.errors] == ["changed-during-build"]
    monkeypatch.setattr(cophandbook.build, "fingerprint", fingerprint)
    write_files(site, {EXEMPLAR_FILE: original + "\nOne more paragraph.\n"})
    assert build(site).written
    assert_same_as_a_clean_build(site, tmp_path)
    write_files(site, {EXEMPLAR_FILE: original})
    assert build(site).written
    assert_same_as_a_clean_build(site, tmp_path)


def test_templates_are_compiled_once_and_a_damaged_entry_compiles_again(
        make_site, cache, monkeypatch, tmp_path):
    import jinja2
    compiled: list[str | None] = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, source, name=None, *a, **kw:
                        compiled.append(name) or original(self, source, name, *a, **kw))
    site = make_site()
    assert build(site).written
    assert "exemplar.html" in compiled
    compiled.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    assert build(site).written
    assert compiled == []
    for entry in (default_folder(site) / "templates").iterdir():
        entry.write_bytes(entry.read_bytes()[:-20])
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nAnother paragraph.\n"})
    assert build(site).written
    assert "exemplar.html" in compiled
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_site_template_edit_is_compiled_again(make_site, cache, tmp_path):
    site = make_site({"templates/exemplar.html":
                      "{% extends 'theme/exemplar.html' %}\n{% block title %}A{% endblock %}\n"})
    assert build(site).written
    write_files(site, {"templates/exemplar.html":
                       "{% extends 'theme/exemplar.html' %}\n{% block title %}B{% endblock %}\n"})
    assert build(site).written
    assert_same_as_a_clean_build(site, tmp_path)


def test_the_caches_hold_nothing_of_a_deleted_file(make_site, cache):
    site = make_site({"content/guides/temporary.md": "---\ntitle: Temporary\n---\nSoon gone.\n"})
    assert build(site).written
    index = default_folder(site) / FILE_NAME

    def kept_files() -> set[str]:
        _, entries = marshal.loads(index.read_bytes())
        return {key.split("\0")[0] for key in entries}

    assert "guides/temporary.md" in kept_files()
    os.remove(site / "content/guides/temporary.md")
    assert build(site).written
    assert "guides/temporary.md" not in kept_files() and "index.md" in kept_files()


EXERCISE_FILE = "content/skills/toasts/exercises/one-minute-ladder.md"
LINKING = EXERCISE + ("See [the toast](../exemplars/wedding-toast.md#transcript) "
                      "and [gone](nowhere.md).\n")


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The content files whose links each build checks."""
    import cophandbook.links
    seen: list[str] = []
    original = cophandbook.links._LinkChecker.check

    def counting(self, link, rel, *args):  # type: ignore[no-untyped-def]
        seen.append(rel)
        return original(self, link, rel, *args)

    monkeypatch.setattr(cophandbook.links._LinkChecker, "check", counting)
    return seen


def _link_problems(result: cophandbook.build.BuildResult) -> list[tuple[str, str, int]]:
    return [(d.code, d.location.path.name, d.location.line) for d in result.problems
            if d.code.startswith("broken") and d.location]


def test_a_rebuild_checks_only_the_links_of_the_file_that_changed(make_site, cache, checked):
    site = make_site({EXERCISE_FILE: LINKING})
    first = build(site)
    assert "skills/toasts/exercises/one-minute-ladder.md" in checked
    assert _link_problems(first) == [("broken-link", "one-minute-ladder.md", 11)]
    checked.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    again = build(site)
    assert set(checked) <= {EXEMPLAR_FILE.removeprefix("content/")}
    # The unchanged file's broken link is still reported, from what was kept.
    assert _link_problems(again) == _link_problems(first)


def test_a_kept_link_check_damaged_midway_is_reported_once(make_site, cache, checked):
    site = make_site({EXERCISE_FILE: LINKING + "And [lost](elsewhere.md).\n"})
    first = build(site)
    assert len(_link_problems(first)) == 2
    index = default_folder(site) / LINKS_FILE
    header, entries = marshal.loads(index.read_bytes())
    for key, value in entries.items():
        found, files = marshal.loads(value)
        if found:  # the first problem as it was, the second unreadable
            entries[key] = marshal.dumps([[found[0], {"code": "broken-link"}], files])
    index.write_bytes(marshal.dumps((header, entries)))
    checked.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more paragraph.\n"})
    again = build(site)
    assert "skills/toasts/exercises/one-minute-ladder.md" in checked
    assert _link_problems(again) == _link_problems(first)


def test_a_heading_that_goes_is_missed_by_the_links_to_it(make_site, cache, checked):
    site = make_site({EXERCISE_FILE: LINKING})
    assert _link_problems(build(site)) == [("broken-link", "one-minute-ladder.md", 11)]
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("## Transcript", "## What was said")})
    again = build(site)
    assert "skills/toasts/exercises/one-minute-ladder.md" in checked
    assert _link_problems(again) == [("broken-anchor", "one-minute-ladder.md", 11),
                                     ("broken-link", "one-minute-ladder.md", 11)]
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})
    assert _link_problems(build(site)) == [("broken-link", "one-minute-ladder.md", 11)]


def test_links_of_a_kept_outline_damaged_inside_are_read_from_the_body(make_site, cache,
                                                                       tmp_path):
    site = make_site({EXERCISE_FILE: LINKING})
    build(site)
    index = default_folder(site) / OUTLINES_FILE
    header, entries = marshal.loads(index.read_bytes())
    for key, value in entries.items():  # each outline readable, its packed links cut short
        headings, marks, links, notes = marshal.loads(value)
        entries[key] = marshal.dumps((headings, marks, links[:-2], notes))
    index.write_bytes(marshal.dumps((header, entries)))
    # A heading gone: every file's links are checked again, from the outlines above.
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("## Transcript", "## What was said")})
    again = build(site)
    assert _link_problems(again) == [("broken-anchor", "one-minute-ladder.md", 11),
                                     ("broken-link", "one-minute-ladder.md", 11)]
    assert_same_as_a_clean_build(site, tmp_path)


def test_the_build_after_a_mistake_is_fixed_reads_only_the_fixed_file(make_site, cache, parses,
                                                                      tmp_path):
    site = make_site()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: nope")})
    failed = build(site)
    assert not failed.written and [d.code for d in failed.problems.errors] == ["unknown-level"]
    parses.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})
    assert build(site).written
    assert parses == [EXEMPLAR_FILE.removeprefix("content/")]
    assert_same_as_a_clean_build(site, tmp_path)
