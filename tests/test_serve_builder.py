"""The preview's builds: incremental, yet always the same bytes as a clean build."""

import base64
import gc
import gzip
import hashlib
import io
import json
import threading
import time
from pathlib import Path

import pytest

from cophandbook import search
from cophandbook.build import build
from cophandbook.output import record_path
from cophandbook.serve.builder import FOLDERS, PreviewBuilder
from tests.conftest import EXEMPLAR, RUBRIC, SETTINGS, write_files

EXEMPLAR_FILE = "content/skills/toasts/exemplars/wedding-toast.md"


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def same_as_clean_build(site: Path, served: Path, tmp_path: Path) -> None:
    clean = tmp_path / f"clean-{served.name}"
    assert build(site, clean).written
    assert digests(served) == digests(clean)


@pytest.fixture
def preview(make_site, tmp_path):
    site = make_site({"static/recordings/toast.mp3": b"ID3 audio"})
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return site, PreviewBuilder(site, workspace)


EDITS = {
    "an exemplar's body": {EXEMPLAR_FILE: EXEMPLAR + "\nA new closing line.\n"},
    "a rubric descriptor": {"content/skills/toasts/rubric.md":
                            RUBRIC.replace("Quiet and fast.", "Hurried.")},
    "a level's name": {"handbook.yml": SETTINGS.replace("name: Expert", "name: Master")},
    "a template": {"templates/exemplar.html": "{% extends 'theme/exemplar.html' %}\n"
                                              "{% block body_class %}mine{% endblock %}\n"},
    "a static file": {"static/recordings/toast.mp3": b"ID3 new audio"},
    "a new static file": {"static/recordings/other.mp3": b"ID3 other audio"},
    "a new guide": {"content/guides/new.md": "---\ntitle: New\n---\nSee [safety](safety.md).\n"},
    "a deleted session": {"content/sessions/2026-04-01-spring-restart.md": None},
    "a criterion's name": {"content/skills/toasts/rubric.md":
                           RUBRIC.replace("name: Structure", "name: Shape")},
    "base_url": {"handbook.yml": SETTINGS + "base_url: /circle/\n"},
    "a link target's title": {"content/guides/safety.md": "---\ntitle: Staying safe\n---\n"
                                                          "## Pausing\n"},
}


@pytest.mark.parametrize("earlier", [1, 2], ids=["into an empty folder", "into a used one"])
@pytest.mark.parametrize("edit", EDITS)
def test_every_kind_of_edit_matches_a_clean_build(preview, tmp_path, edit, earlier):
    site, builder = preview
    first = builder.build()
    assert first.root is not None and first.changed == len(digests(first.root))  # all new
    if earlier == 2:  # a build between, into the other folder
        write_files(site, {"content/guides/between.md": "---\ntitle: Between\n---\nText.\n"})
        assert builder.build().root not in (None, first.root)
    write_files(site, EDITS[edit])
    after = builder.build()
    assert after.root is not None and (after.root == first.root) == (earlier == 2)
    assert 0 < after.changed <= len(digests(after.root))
    same_as_clean_build(site, after.root, tmp_path)


def counted(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """A list that grows by one at each call of `module.name`."""
    calls: list[int] = []
    original = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **kw: calls.append(1) or original(*a, **kw))
    return calls


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the builds that got as far as preparing the handbook."""
    import cophandbook.serve.builder
    return counted(monkeypatch, cophandbook.serve.builder, "run")


def test_an_unchanged_rebuild_reuses_everything(preview, prepared):
    site, builder = preview
    first = builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})  # saved as it was
    again = builder.build()
    assert again.changed == 0 and again.root == first.root and again.pages == first.pages
    assert len(prepared) == 1  # nothing prepared, rendered or written again


def test_a_file_put_back_after_a_failed_build_serves_the_last_good_build(preview, prepared):
    site, builder = preview
    good = builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: nope")})
    assert builder.build().root is None
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})
    back = builder.build()
    assert back.root == good.root and not back.problems.has_errors and back.changed == 0
    assert len(prepared) == 2


def test_a_second_build_links_what_did_not_change(preview):
    site, builder = preview
    first = builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    second = builder.build()
    page = "skills/toasts/exercises/one-minute-ladder/index.html"
    assert second.root != first.root
    assert (second.root / page).stat().st_ino == (first.root / page).stat().st_ino  # hard link


def test_only_the_edited_body_is_rendered_again(preview):
    site, builder = preview
    builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    builder.build()
    # The file's parse, its Markdown and its outline: the outline is the one it had, so
    # its links are those checked last time, and nothing else is derived again.
    assert builder.memo.misses == 3


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages each build renders (the others are kept from the build before)."""
    import jinja2
    seen: list[str] = []
    original = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **kw: seen.append(
        a[0]["page_path"]) or original(self, *a, **kw))
    return seen


def test_only_the_pages_that_show_an_edited_body_are_rendered_again(preview, rendered,
                                                                      tmp_path):
    site, builder = preview
    first = builder.build()
    every = len(rendered)
    rendered.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    after = builder.build()
    assert "skills/toasts/exemplars/wedding-toast/" in rendered
    assert len(rendered) <= 8 < every  # those that show it (see test_rebuild.py)
    assert "skills/toasts/exercises/one-minute-ladder/" not in rendered
    same_as_clean_build(site, after.root, tmp_path)
    # A kept page is the previous build's file, linked.
    page = "skills/toasts/exercises/one-minute-ladder/index.html"
    assert (after.root / page).stat().st_ino == (first.root / page).stat().st_ino


def test_a_rebuild_reads_and_checks_only_the_edited_file(preview, monkeypatch, tmp_path):
    import cophandbook.links
    import cophandbook.sources
    site, builder = preview
    read: list[str] = []
    checked: list[str] = []
    load, check = cophandbook.sources._load, cophandbook.links._LinkChecker.check
    monkeypatch.setattr(cophandbook.sources, "_load",
                        lambda path, *a: read.append(path.name) or load(path, *a))
    monkeypatch.setattr(cophandbook.links._LinkChecker, "check",
                        lambda self, link, rel, *a: checked.append(rel) or check(self, link,
                                                                                rel, *a))
    builder.build()
    assert len(read) == len(list((site / "content").rglob("*.md"))) > 5
    read.clear()
    checked.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nSee [safety](../../../guides/safety.md).\n"})
    after = builder.build()
    assert read == ["wedding-toast.md"]
    assert set(checked) == {"skills/toasts/exemplars/wedding-toast.md"}
    same_as_clean_build(site, after.root, tmp_path)


@pytest.mark.parametrize("edit", ["a template", "a level's name", "a new static file"])
def test_an_edit_outside_content_renders_every_page_again(preview, rendered, tmp_path, edit):
    site, builder = preview
    builder.build()
    every = len(rendered)
    rendered.clear()
    write_files(site, EDITS[edit])
    after = builder.build()
    assert len(rendered) == every
    same_as_clean_build(site, after.root, tmp_path)


def test_an_edited_static_file_is_served_new_with_no_page_rendered_again(preview, rendered,
                                                                         tmp_path):
    site, builder = preview
    builder.build()
    rendered.clear()
    write_files(site, EDITS["a static file"])
    after = builder.build()
    assert after.root is not None and rendered == []  # no page shows what the file holds
    assert (after.root / "recordings/toast.mp3").read_bytes() == b"ID3 new audio"
    same_as_clean_build(site, after.root, tmp_path)


def test_a_failed_build_keeps_nothing_half_written(preview):
    site, builder = preview
    good = builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: nope")})
    failed = builder.build()
    assert failed.root is None and failed.problems.has_errors
    assert sorted(p.name for p in good.root.parent.iterdir()) == [good.root.name]
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})
    assert builder.build().root is not None


def test_builds_take_turns_in_two_folders_writing_only_what_changed(preview, tmp_path):
    site, builder = preview
    first = builder.build()
    inodes = {rel: (first.root / rel).stat().st_ino for rel in digests(first.root)}
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nLine 2.\n"})
    assert builder.build().root != first.root
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nLine 3.\n"})
    third = builder.build()
    assert third.root == first.root  # the folder not being served, which held the first
    rewritten = {rel for rel, inode in inodes.items()
                 if (third.root / rel).stat().st_ino != inode}
    assert "skills/toasts/exemplars/wedding-toast/index.html" in rewritten
    assert len(rewritten) == third.changed < len(inodes) / 4
    same_as_clean_build(site, third.root, tmp_path)
    for n in range(4, 7):
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + f"\nLine {n}.\n"})
        latest = builder.build().root
    assert latest is not None
    assert sorted(p.name for p in latest.parent.iterdir()) == ["build-a", "build-b"]


def test_no_full_garbage_collection_runs_during_a_build(preview, monkeypatch):
    """The preview keeps a large handbook in memory; walking all of it took a good part of
    each rebuild. It collects once saves pause instead. (Whether CPython would start one at
    a given moment depends on the whole heap, so the thresholds in force are checked.)"""
    import cophandbook.serve.builder
    site, builder = preview
    builder.build()
    during: list[tuple[int, int, int]] = []
    run = cophandbook.serve.builder.run
    monkeypatch.setattr(cophandbook.serve.builder, "run", lambda *a, **kw: during.append(
        gc.get_threshold()) or run(*a, **kw))
    before = gc.get_threshold()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    assert builder.build().root is not None
    young, middle, old = during[0]
    # A full collection comes after young × middle × old allocations at the least.
    assert young * middle * old >= 1_000_000_000 > before[0] * before[1] * before[2]
    assert gc.get_threshold() == before


def covered(builder: PreviewBuilder, root: Path) -> dict:
    """What the search index in a preview's build folder covers: each shard's pages and
    words."""
    return json.loads(gzip.decompress(builder._search_state[root]))


def built_covers(out: Path) -> dict:
    """The same for a build's output, as the record beside it keeps it."""
    record = json.loads(record_path(out).read_text(encoding="utf-8"))
    return json.loads(gzip.decompress(base64.b64decode(record["search_state"])))


def test_the_search_index_follows_the_pages_without_holding_up_the_build(make_site, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(search, "SHARD_PAGES", 1)  # a shard for each part, as on a large site
    site = make_site({"handbook.yml": SETTINGS + "search: true\n"})
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    builder = PreviewBuilder(site, workspace)
    first = builder.build()
    assert first.root is not None and not (first.root / "pagefind").exists()
    assert builder.refresh_search(first)  # indexed once the build is served
    index = covered(builder, first.root)
    assert set(index["shards"]) == {"site", "sessions-2026", "skills-toasts"}
    assert not builder.refresh_search(first)  # nothing changed: not indexed again

    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA zanzibar closing line.\n"})
    second = builder.build()
    assert second.root is not None
    # The new build answers searches with the previous index until the new one is ready.
    assert covered(builder, second.root) == index
    assert builder.refresh_search(second)
    assert covered(builder, second.root) != index
    # It covers what a clean build's index covers. (Pagefind orders some of its files
    # differently from one run to the next, so the files themselves are not compared.)
    clean = tmp_path / "clean"
    assert build(site, clean).written
    assert covered(builder, second.root) == built_covers(clean)
    assert not list(second.root.glob(".pagefind*"))

    # An edit in words the site has: only the skill's shard is indexed again.
    before = {name: inodes(second.root / "pagefind" / name) for name in index["shards"]}
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA zanzibar closing line in the rain.\n"})
    third = builder.build()
    assert third.root == first.root and builder.refresh_search(third)
    after = {name: inodes(third.root / "pagefind" / name) for name in index["shards"]}
    assert after["site"] == before["site"] and after["sessions-2026"] == before["sessions-2026"]
    assert not set(after["skills-toasts"].values()) & set(before["skills-toasts"].values())
    assert build(site, clean).written
    assert covered(builder, third.root) == built_covers(clean)

    # Once its folder is taken for a newer build, an outcome is not indexed any more.
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA later line.\n"})
    assert builder.build().root == second.root
    assert not builder.refresh_search(second)
    assert not builder.refresh_search(third)  # still covered: not indexed again


def test_a_file_changed_mid_build_is_not_remembered_as_broken(preview, monkeypatch, tmp_path):
    """A body is read again from its file when it must be rendered again (here because a
    new page changes what links resolve against); if the file changed meanwhile the build
    fails, and that failure must not be replayed once the file is back as it was."""
    import cophandbook.revalidate
    site, builder = preview
    builder.build()
    validate = cophandbook.revalidate.validate

    def validate_then_edit(*args, **kwargs):  # type: ignore[no-untyped-def]
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nAnother line.\n"})
        return validate(*args, **kwargs)

    monkeypatch.setattr(cophandbook.revalidate, "validate", validate_then_edit)
    write_files(site, {"content/guides/new.md": "---\ntitle: New\n---\nA new guide.\n"})
    racing = builder.build()
    assert racing.root is None
    assert {d.code for d in racing.problems.errors} == {"changed-during-build"}
    monkeypatch.setattr(cophandbook.revalidate, "validate", validate)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR})  # the version the racing build planned with
    after = builder.build()
    assert after.root is not None, [str(d) for d in after.problems]
    same_as_clean_build(site, after.root, tmp_path)


def test_a_preview_started_after_a_build_reads_and_renders_no_markdown(preview, monkeypatch,
                                                                       tmp_path):
    """It takes what the build kept: parsed files, rendered bodies and link checks."""
    import cophandbook.derive
    import cophandbook.sources
    site, builder = preview
    assert build(site).written
    read: list[str] = []
    rendered: list[int] = []
    load, render_markdown = cophandbook.sources._load, cophandbook.derive.render_markdown
    monkeypatch.setattr(cophandbook.sources, "_load",
                        lambda path, *a: read.append(path.name) or load(path, *a))
    monkeypatch.setattr(cophandbook.derive, "render_markdown",
                        lambda *a, **kw: rendered.append(1) or render_markdown(*a, **kw))
    first = builder.build()
    assert first.root is not None and read == [] and rendered == []
    same_as_clean_build(site, first.root, tmp_path)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    after = builder.build()
    assert read == ["wedding-toast.md"] and len(rendered) == 1
    same_as_clean_build(site, after.root, tmp_path)


def test_a_build_after_the_preview_renders_no_markdown(preview):
    site, builder = preview
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOnly the preview saw this line.\n"})
    assert builder.build().root is not None
    result = build(site)
    assert result.written
    bodies = len(list((site / "content").rglob("*.md")))
    assert result.bodies_cached == bodies > 5



def test_tidying_up_runs_one_at_a_time_and_for_the_latest_build(make_site, tmp_path,
                                                                  monkeypatch):
    """Re-indexing a large handbook takes Pagefind tens of seconds and gigabytes: saves that
    come faster must not start one each, side by side."""
    import cophandbook.serve.preview as preview_module
    site = make_site({"handbook.yml": SETTINGS + "search: true\n"})
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.setattr(preview_module, "QUIET_SECONDS", 0)
    preview = preview_module.Preview(site, workspace, io.StringIO(), io.StringIO())
    built, indexed, running, most = [], [], [0], [0]
    count = threading.Lock()
    build_once = preview.builder.build

    def recorded_build():  # type: ignore[no-untyped-def]
        built.append(build_once())
        return built[-1]

    def slow_index(outcome):  # type: ignore[no-untyped-def]
        with count:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with count:
            running[0] -= 1
        indexed.append(outcome)
        return True

    monkeypatch.setattr(preview.builder, "build", recorded_build)
    monkeypatch.setattr(preview.builder, "refresh_search", slow_index)
    for n in range(4):
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + f"\nLine {n}.\n"})
        preview.rebuild({site / EXEMPLAR_FILE})
        time.sleep(0.1)
    deadline = time.monotonic() + 10
    while not indexed or indexed[-1] is not built[-1]:
        assert time.monotonic() < deadline, "the latest build was never indexed"
        time.sleep(0.05)
    preview.stop_tidying()
    assert most[0] == 1
    assert len(indexed) == len(set(map(id, indexed))) <= len(built) == 4


def test_bodies_the_preview_lacks_are_rendered_together_on_every_core(preview, monkeypatch):
    """Handed to parallel.map_chunks as one list: on every core when no other thread runs
    (the preview's first build), in-process otherwise."""
    import cophandbook.derive
    site, builder = preview
    handed: list[int] = []
    map_chunks = cophandbook.derive.map_chunks
    monkeypatch.setattr(cophandbook.derive, "map_chunks", lambda work, items, *a: handed.append(
        len(items)) or map_chunks(work, items, *a))
    builder.build()
    assert handed == [len(list((site / "content").rglob("*.md")))]
    handed.clear()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    builder.build()
    assert handed == [1]


def test_an_edit_made_during_the_first_build_is_built_once_the_watch_starts(make_site,
                                                                           tmp_path):
    import cophandbook.serve.preview as preview_module
    site = make_site()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    out = io.StringIO()
    preview = preview_module.Preview(site, workspace, out, io.StringIO())
    preview.rebuild()
    first = preview.state.snapshot.build
    preview.catch_up()  # nothing changed: nothing built or published
    assert preview.state.snapshot.build == first and out.getvalue() == ""
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nWritten while it built.\n"})
    preview.catch_up()
    snapshot = preview.state.snapshot
    assert snapshot.build > first
    page = snapshot.root / "skills/toasts/exemplars/wedding-toast/index.html"
    assert "Written while it built." in page.read_text()
    preview.stop_tidying()


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times the whole model is validated."""
    import cophandbook.revalidate
    return counted(monkeypatch, cophandbook.revalidate, "validate")


def test_an_edit_to_a_body_alone_keeps_the_validated_model(preview, validated, tmp_path):
    site, builder = preview
    builder.build()
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    after = builder.build()
    assert len(validated) == 1  # the first build's
    same_as_clean_build(site, after.root, tmp_path)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: expert")})
    after = builder.build()
    assert len(validated) == 2
    same_as_clean_build(site, after.root, tmp_path)


def test_front_matter_equal_in_python_but_not_in_type_is_validated_again(preview, validated):
    """YAML's `1` and `1.0` compare equal in Python; to validation one is not a whole number."""
    site, builder = preview
    guide = "---\ntitle: Order\norder: {}\n---\nText.\n"
    write_files(site, {"content/guides/order.md": guide.format("1")})
    assert builder.build().root is not None
    write_files(site, {"content/guides/order.md": guide.format("1.0")})
    failed = builder.build()
    assert len(validated) == 2
    assert any("order" in d.message for d in failed.problems.items), \
        [str(d) for d in failed.problems.items]


def test_tidying_up_never_runs_during_a_build(make_site, tmp_path, monkeypatch):
    """A full collection holds every thread for tenths of a second on a large handbook: run
    during a rebuild, it made each of them that much slower."""
    import cophandbook.serve.preview as preview_module
    site = make_site()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.setattr(preview_module, "QUIET_SECONDS", 0.05)
    preview = preview_module.Preview(site, workspace, io.StringIO(), io.StringIO())
    building = threading.Event()
    during: list[bool] = []
    build_once = preview.builder._build

    def slow_build():  # type: ignore[no-untyped-def]
        building.set()
        try:
            time.sleep(0.3)  # longer than the quiet time: a tidy-up due now would run inside
            return build_once()
        finally:
            building.clear()

    monkeypatch.setattr(preview.builder, "_build", slow_build)
    monkeypatch.setattr(preview_module.gc, "collect", lambda *a: during.append(building.is_set()))
    for n in range(3):
        write_files(site, {EXEMPLAR_FILE: EXEMPLAR + f"\nLine {n}.\n"})
        preview.rebuild({site / EXEMPLAR_FILE})
    deadline = time.monotonic() + 10
    while not during:
        assert time.monotonic() < deadline, "never tidied up"
        time.sleep(0.05)
    preview.stop_tidying()
    assert not any(during)


def inodes(folder: Path) -> dict[str, int]:
    return {rel: (folder / rel).stat().st_ino for rel in digests(folder)}


def test_once_saves_pause_the_next_builds_folder_already_holds_the_served_build(
        make_site, tmp_path, monkeypatch):
    """Else the first save after the preview starts writes the whole site into the folder
    the first build left empty: at 10,000 pages, 10,000 folders, 4-5 s."""
    import cophandbook.serve.preview as preview_module
    site = make_site({"static/recordings/toast.mp3": b"ID3 audio"})
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.setattr(preview_module, "QUIET_SECONDS", 0)
    preview = preview_module.Preview(site, workspace, io.StringIO(), io.StringIO())
    preview.rebuild()  # the first build, tidied up at once
    first = preview.state.snapshot.root
    assert first is not None
    other = next(workspace / name for name in FOLDERS if workspace / name != first)
    served = inodes(first)
    deadline = time.monotonic() + 10
    while not other.is_dir() or inodes(other) != served:  # the same files, hard-linked
        assert time.monotonic() < deadline, "the other folder was never brought up"
        time.sleep(0.05)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA new closing line.\n"})
    preview.rebuild({site / EXEMPLAR_FILE})
    preview.stop_tidying()
    second = preview.state.snapshot.root
    assert second == other
    rewritten = {rel for rel, inode in inodes(second).items() if served.get(rel) != inode}
    assert "skills/toasts/exemplars/wedding-toast/index.html" in rewritten
    assert len(rewritten) < len(served) / 4
    same_as_clean_build(site, second, tmp_path)


def test_bringing_the_other_folder_up_stops_for_a_build(preview, tmp_path, monkeypatch):
    site, builder = preview
    first = builder.build()
    placing = threading.Event()
    place = builder._place

    def slow_place(*args):  # type: ignore[no-untyped-def]
        placing.set()
        time.sleep(0.02)  # the whole site would take seconds
        return place(*args)

    monkeypatch.setattr(builder, "_place", slow_place)
    mirrored: list[bool] = []
    mirroring = threading.Thread(target=lambda: mirrored.append(builder.mirror()))
    mirroring.start()
    assert placing.wait(10)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA new closing line.\n"})
    monkeypatch.setattr(builder, "_place", place)
    second = builder.build()
    mirroring.join()
    assert mirrored == [False]
    assert second.root is not None and second.root != first.root
    same_as_clean_build(site, second.root, tmp_path)
    assert builder.mirror()  # brings the first build's folder up to the second
    assert digests(first.root) == digests(second.root)


def test_a_build_finishes_what_a_failed_bringing_up_left(preview, tmp_path, monkeypatch):
    """The folder's record is kept true file by file: after a disk error half-way, the next
    build writes what is missing and removes nothing it needs."""
    import cophandbook.serve.builder as builder_module
    site, builder = preview
    first = builder.build()
    link = builder_module.link_or_copy
    calls = [0]

    def failing_link(source: str, target: str) -> None:
        calls[0] += 1
        if calls[0] > 10:
            raise OSError(28, "No space left on device")
        link(source, target)

    monkeypatch.setattr(builder_module, "link_or_copy", failing_link)
    with pytest.raises(OSError):
        builder.mirror()
    monkeypatch.setattr(builder_module, "link_or_copy", link)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA new closing line.\n"})
    second = builder.build()
    assert second.root is not None and second.root != first.root
    same_as_clean_build(site, second.root, tmp_path)


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times pages are planned: a build that takes the last one's stages as they
    stand (a body edited, its outline the same) plans nothing."""
    import cophandbook.pipeline
    return counted(monkeypatch, cophandbook.pipeline, "plan")


def problems_of(diagnostics) -> list[dict]:  # type: ignore[no-untyped-def]
    return [d.to_dict() for d in diagnostics.sorted()]


NOTE_CHANGED = (EXEMPLAR.replace("Opens with a concrete scene.", "A scene first.")
                + "\n## After the toast\n\nApplause.\n")
TYPED = NOTE_CHANGED.replace("## Transcript\n", "## Transcript\n\nHel\x07lo.\n")
# Body edits in turn, each from the files as the one before left them, and whether the build
# takes the last build's stages as they stand (an outline the same but for lines and
# columns), its problems then found again where they moved to.
BODY_EDITS = [
    ("the annotated passage reworded", True, {
        EXEMPLAR_FILE: EXEMPLAR.replace("at a bus stop in the rain", "on a tram in the snow")}),
    ("a paragraph added at the end", True, {
        EXEMPLAR_FILE: EXEMPLAR.replace("at a bus stop in the rain", "on a tram in the snow")
        + "\nCheers, everyone.\n"}),
    ("a heading added", False, {
        EXEMPLAR_FILE: EXEMPLAR + "\n## After the toast\n\nApplause.\n"}),
    ("a note's words changed", True, {EXEMPLAR_FILE: NOTE_CHANGED}),
    ("a line inserted above the annotation", True, {
        EXEMPLAR_FILE: NOTE_CHANGED.replace("## Transcript\n", "## Transcript\n\nHello.\n")}),
    ("a control character typed into the body", True, {
        EXEMPLAR_FILE: TYPED}),
    ("a second page title", False, {
        EXEMPLAR_FILE: TYPED
        + "\n# Second title\n"}),
    ("a line inserted above the second title", True, {
        EXEMPLAR_FILE: TYPED
        + "\nThanks.\n\n# Second title\n"}),
    ("the body of another file", True, {
        "content/sessions/2026-04-01-spring-restart.md":
            "---\ntitle: Spring restart\ndate: 2026-04-01\nskills: [toasts]\nfeedback:\n"
            "  - {theme: rushing, note: Endings again.}\n---\nBack after a long break.\n"}),
    ("a link that leads nowhere", False, {
        "content/guides/safety.md": "---\ntitle: Safety\norder: 2\n---\n## Pausing\n\n"
                                    "Anyone may pause. See [this](nowhere.md).\n"}),
    ("the broken link's text", True, {
        "content/guides/safety.md": "---\ntitle: Safety\norder: 2\n---\n## Pausing\n\n"
                                    "Anyone can pause. See [that](nowhere.md).\n"}),
    ("lines inserted above the broken link", True, {
        "content/guides/safety.md": "---\ntitle: Safety\norder: 2\n---\nFirst things.\n\n"
                                    "## Pausing\n\nAnyone can pause.\nSee [that](nowhere.md).\n"}),
    ("the broken link moved along its line", True, {
        "content/guides/safety.md": "---\ntitle: Safety\norder: 2\n---\nFirst things.\n\n"
                                    "## Pausing\n\nAnyone can pause.\n"
                                    "Do see [that](nowhere.md).\n"}),
    ("the home page's text", None, {
        "content/index.md": "---\ntitle: Welcome\n---\nHello, everyone. Start with "
                            "[giving feedback](guides/giving-feedback.md).\n"}),
]


def test_a_body_edited_keeps_the_last_builds_stages_only_while_its_outline_stands(
        preview, planned, tmp_path):
    site, builder = preview
    builder.build()
    for name, quick, files in BODY_EDITS:
        before = len(planned)
        write_files(site, files)
        after = builder.build()
        assert after.root is not None, name
        if quick is not None:
            assert (len(planned) == before) == quick, name
        same_as_clean_build(site, after.root, tmp_path)
        clean = build(site, tmp_path / "problems")
        assert problems_of(after.problems) == problems_of(clean.problems), name


def test_a_failed_build_leaves_no_stages_for_the_next_to_take(preview, planned, tmp_path,
                                                              monkeypatch):
    """A build that goes wrong after bringing the last build's stages up to date (here, a
    template error) may have changed them: the next build prepares everything again."""
    import cophandbook.pipeline
    site, builder = preview
    builder.build()
    original = cophandbook.pipeline.render

    def failing(plan, derived, env, problems, *args, **kwargs):  # type: ignore[no-untyped-def]
        problems.error("template-error", "as if a template failed", None)
        return {}

    monkeypatch.setattr(cophandbook.pipeline, "render", failing)
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR + "\nA line that fails to show.\n"})
    assert builder.build().root is None
    monkeypatch.setattr(cophandbook.pipeline, "render", original)
    planned.clear()
    # The exemplar put back as the last good build had it, and another body edited.
    write_files(site, {EXEMPLAR_FILE: EXEMPLAR,
                       "content/sessions/2026-04-01-spring-restart.md":
                       "---\ntitle: Spring restart\ndate: 2026-04-01\nskills: [toasts]\n"
                       "feedback:\n  - {theme: rushing, note: Endings again.}\n---\n"
                       "Back after a long break.\n"})
    after = builder.build()
    assert planned == [1]
    same_as_clean_build(site, after.root, tmp_path)
