"""The search index and what the pages tell it: built with Pagefind when `search: true`, with
each page's kind, skill and level, and only its main content. (Querying it in a browser is in
tests/browser/test_members.py.)"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from cophandbook import build as build_module
from cophandbook import search
from cophandbook.build import build
from cophandbook.search import SearchError, _read_shard, gather, index_folder, part_of
from tests.conftest import SETTINGS, codes, page

SEARCH_ON = {"handbook.yml": SETTINGS + "search: true\n"}


@pytest.fixture
def shard_per_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard for each part of the site however small, as a large site has them."""
    monkeypatch.setattr(search, "SHARD_PAGES", 1)


def tags(doc, attribute: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in doc.select(f"[{attribute}]"):
        found.setdefault(element[attribute], []).append(element.get_text())
    return found


def bundles(out: Path) -> dict[str, Path]:
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text())
    return {name.rstrip("/"): out / "pagefind" / name for name in manifest["bundles"]}


def indexed(bundle: Path) -> int:
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    return sum(language["page_count"] for language in entry["languages"].values())


def files(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file under `folder`: its inode (the same when linked from an earlier build)
    and its bytes."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_search_on_builds_an_index_of_the_content_pages_in_shards(built, shard_per_part):
    result, out = built(SEARCH_ON)
    assert result.written, [str(d) for d in result.problems]
    shards = bundles(out)
    assert list(shards) == ["site", "sessions-2026", "skills-toasts"]
    bodies = [f.relative_to(out).as_posix() for f in out.rglob("*.html")
              if "data-pagefind-body" in f.read_text()]
    assert len(bodies) > 5
    for name, bundle in shards.items():
        shard = [rel for rel in bodies if part_of(rel) == name]
        # Each bundle holds its shard's pages and the site's vocabulary record.
        assert indexed(bundle) == len(shard) + 1 > 1, name
    first = next(iter(shards.values()))
    assert (first / "pagefind.js").stat().st_size > 1000
    assert not list(out.glob("pagefind/*/pagefind-ui.js"))  # the search page uses the API
    manifest = json.loads((out / "pagefind" / "bundles.json").read_text())
    assert manifest["exclude"] == {"cophandbook": "vocabulary"}


def test_a_small_site_is_indexed_as_one_bundle(built):
    result, out = built(SEARCH_ON)
    assert result.written, [str(d) for d in result.problems]
    shards = bundles(out)
    assert list(shards) == ["site"]
    bodies = [f for f in out.rglob("*.html") if "data-pagefind-body" in f.read_text()]
    parts = {part_of(f.relative_to(out).as_posix()) for f in bodies}
    assert parts == {"site", "sessions-2026", "skills-toasts"}
    assert indexed(shards["site"]) == len(bodies) + 1  # and the vocabulary record


def test_shards_gather_whole_parts_in_order_until_they_are_big_enough():
    def part(name: str, count: int) -> dict[str, str]:
        return {f"{name}/{n}.html": "digest" for n in range(count)}

    parts = {"skills-b": part("b", 2), "sessions-2025": part("y", 2), "skills-a": part("a", 4),
             "site": part("s", 1), "skills-c": part("c", 1)}
    sizes = {name: sorted({rel.split("/")[0] for rel in pages})
             for name, pages in gather(parts, 3).items()}
    # The rest of the site first; a last shard too small joins the one before.
    assert sizes == {"site": ["s", "y"], "skills-a": ["a"], "skills-b": ["b", "c"]}
    assert list(gather(parts, 100)) == ["site"]
    assert list(gather(parts, 1)) == ["site", "sessions-2025", "skills-a", "skills-b",
                                      "skills-c"]
    assert gather({}, 3) == {}


def test_pages_belong_to_parts_by_skill_year_of_sessions_and_the_rest():
    assert part_of("skills/toasts/exemplars/wedding-toast/index.html") == "skills-toasts"
    assert part_of("skills/toasts/index.html") == "skills-toasts"
    assert part_of("skills/index.html") == "site"
    assert part_of("sessions/2026-01-14-toast-night/index.html") == "sessions-2026"
    assert part_of("sessions/index.html") == "site"
    assert part_of("guides/safety/index.html") == part_of("index.html") == "site"


def test_the_vocabulary_holds_every_word_a_page_shows_however_tags_split_it(tmp_path):
    (tmp_path / "a.html").write_text(
        '<html><head><title>Not shown</title><script>var hidden = 1;</script></head>'
        '<body><main data-pagefind-body><p>Opens <em>with</em>&nbsp;a'
        ' sc<b>ene</b>. A self-review.</p><abbr title="A Bus stop">BS</abbr></main>'
        '</body></html>')
    (tmp_path / "b.html").write_text("<html><body><p>No indexed content.</p></body></html>")
    searchable, words = _read_shard([(tmp_path, "a.html"), (tmp_path, "b.html")])
    assert searchable == ["a.html"]
    assert {"opens", "with", "a", "sc", "ene", "scene", "bus", "stop", "self", "review",
            "selfreview"} <= set(words)
    assert not {word for word in words if not word.isalnum()}
    assert "hidden" not in words and "var" not in words


def test_a_rebuild_indexes_again_only_the_shards_whose_pages_changed(make_site, tmp_path,
                                                                    shard_per_part):
    site = make_site(SEARCH_ON)
    assert build(site).written
    out = site / "_site"
    before = {name: files(bundle) for name, bundle in bundles(out).items()}
    exemplar = site / "content/skills/toasts/exemplars/wedding-toast.md"
    # Words the site already has: its vocabulary stays the same.
    exemplar.write_text(exemplar.read_text() + "\nWe met in the rain.\n")
    assert build(site).written
    after = {name: files(bundle) for name, bundle in bundles(out).items()}
    assert after["skills-toasts"] != before["skills-toasts"]
    assert all(ino not in {i for i, _ in before["skills-toasts"].values()}
               for ino, _ in after["skills-toasts"].values())
    assert after["site"] == before["site"] and after["sessions-2026"] == before["sessions-2026"]
    clean = tmp_path / "clean"
    assert build(site, clean).written
    assert _contents(out / "pagefind") == _contents(clean / "pagefind")


def test_with_search_a_rebuild_updates_the_output_in_place_and_turning_it_off_drops_the_index(
        make_site):
    site = make_site(SEARCH_ON)
    assert build(site).written
    out = site / "_site"
    untouched = (out / "exercises/index.html").stat().st_ino
    exemplar = site / "content/skills/toasts/exemplars/wedding-toast.md"
    exemplar.write_text(exemplar.read_text() + "\nWe met in the rain.\n")
    assert build(site).written
    assert (out / "exercises/index.html").stat().st_ino == untouched  # not written again
    assert not [p for p in out.rglob(".pagefind*")]
    assert not list(site.glob(".*.staging"))
    (site / "handbook.yml").write_text(SETTINGS)
    assert build(site).written
    assert not (out / "pagefind").exists() and not (out / "search").exists()


def test_an_index_reached_through_a_link_is_neither_reused_nor_written_through(
        make_site, tmp_path):
    site = make_site(SEARCH_ON)
    assert build(site).written
    out = site / "_site"
    elsewhere = tmp_path / "elsewhere"
    (out / "pagefind").rename(elsewhere)
    (out / "pagefind").symlink_to(elsewhere, target_is_directory=True)
    before = files(elsewhere)
    exemplar = site / "content/skills/toasts/exemplars/wedding-toast.md"
    exemplar.write_text(exemplar.read_text() + "\nWe met in the rain.\n")
    assert build(site).written
    assert not (out / "pagefind").is_symlink() and (out / "pagefind" / "bundles.json").is_file()
    assert files(elsewhere) == before
    assert all(p.stat().st_nlink == 1 for p in elsewhere.rglob("*") if p.is_file())


def test_a_word_new_to_the_site_indexes_every_shard_again(make_site, tmp_path, shard_per_part):
    site = make_site(SEARCH_ON)
    assert build(site).written
    out = site / "_site"
    before = {ino for bundle in bundles(out).values() for ino, _ in files(bundle).values()}
    exemplar = site / "content/skills/toasts/exemplars/wedding-toast.md"
    exemplar.write_text(exemplar.read_text() + "\nA zeugma closed it.\n")
    assert build(site).written
    after = {ino for bundle in bundles(out).values() for ino, _ in files(bundle).values()}
    assert not before & after
    clean = tmp_path / "clean"
    assert build(site, clean).written
    assert _contents(out / "pagefind") == _contents(clean / "pagefind")


def _contents(folder: Path) -> dict[str, bytes]:
    """The files of an index that Pagefind writes the same for the same pages: the pages'
    fragments, the word index, what each bundle covers. Its filter files, and the metadata
    and entry files that name them by hash, differ from one run to the next on the same
    pages (Pagefind orders filter values as they come)."""
    return {rel: data for rel, (_, data) in files(folder).items()
            if not re.search(r"(^|/)(filter/|pagefind-entry\.json$|pagefind\.[^/]*\.pf_meta$)",
                             rel)}


def test_every_page_leads_to_the_search_page_and_the_search_page_has_the_filters(built):
    _, out = built(SEARCH_ON)
    home = page(out, "")
    form = home.select_one("form.site-search[role=search]")
    assert form["action"] == "/search/" and form.select_one("input[name=q]")["type"] == "search"
    assert home.select_one(f"label[for={form.input['id']}]").get_text(strip=True)
    search = page(out, "search/")
    options = {select["name"]: [o["value"] for o in select.select("option")]
               for select in search.select("#search-form select")}
    assert options["level"] == ["", "Novice", "Competent", "Expert"]
    assert options["skill"] == ["", "Toasts"]
    assert {"Exemplar", "Exercise", "Rubric"} <= set(options["kind"])
    assert search.select_one("#search-form")["data-index"] == "/pagefind/"
    assert search.noscript is not None  # says what to do without JavaScript


def test_pages_carry_their_kind_skill_and_levels_and_only_the_main_content_is_indexed(built):
    _, out = built(SEARCH_ON)
    exemplar = page(out, "skills/toasts/exemplars/wedding-toast/")
    main = exemplar.select_one("main[data-pagefind-body]")
    assert main is not None
    assert tags(main, "data-pagefind-filter") == {"kind": ["Exemplar"], "skill": ["Toasts"],
                                                  "level": ["Competent"]}
    assert tags(main, "data-pagefind-meta") == {"kind": ["Exemplar"], "skill": ["Toasts"],
                                                "level": ["Competent"]}
    for nav in exemplar.select("main nav, main footer"):
        assert nav.has_attr("data-pagefind-ignore"), nav.get("class")
    assert exemplar.select_one("header.site-header [data-pagefind-body]") is None
    exercise = page(out, "skills/toasts/exercises/one-minute-ladder/")
    assert tags(exercise, "data-pagefind-filter")["level"] == ["Novice", "Competent"]
    assert tags(exercise, "data-pagefind-meta")["level"] == ["Novice, Competent"]
    rubric = page(out, "skills/toasts/rubric/")
    assert tags(rubric, "data-pagefind-filter")["level"] == ["Novice", "Competent", "Expert"]
    # Lists and the search page itself are not results.
    for listing in ("exercises/", "sessions/", "coverage/", "search/", "404.html"):
        assert page(out, listing).select_one("[data-pagefind-body]") is None, listing


def test_search_off_means_no_index_no_box_and_no_search_page(built):
    result, out = built()
    assert result.written
    assert not (out / "pagefind").exists() and not (out / "search").exists()
    assert page(out, "").select_one("form.site-search") is None


def test_a_file_where_the_index_goes_is_an_error(built):
    result, _ = built({**SEARCH_ON, "static/pagefind/pagefind.js": "// mine"})
    assert "search-reserved" in codes(result)
    assert not result.written


def test_a_failed_index_leaves_the_previous_site_as_it_was(make_site, monkeypatch):
    site = make_site(SEARCH_ON)
    assert build(site).written
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (site / "_site").rglob("*") if p.is_file()}

    def broken(folder, language, output, **_):
        output.mkdir(parents=True)
        raise SearchError("Pagefind could not index the site: it broke")

    monkeypatch.setattr(build_module, "index_folder", broken)
    (site / "content/guides/giving-feedback.md").write_text("---\ntitle: Changed\n---\nNew.\n")
    result = build(site)
    assert not result.written and codes(result) == ["search-failed"]
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in (site / "_site").rglob("*") if p.is_file()}
    assert after == before
    assert not any(p.name.endswith(".staging") for p in site.iterdir())


class FlakyPagefind:
    """Stands in for Pagefind's service: the first `bad` bundles it writes have an empty
    file, as Pagefind 1.5 now and then leaves."""

    runs = 0
    bad = 1

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def create_index(self, config):
        return self

    async def add_directory(self, path, glob=None):
        return {"type": "IndexedDir", "page_count": 1}

    async def add_custom_record(self, **record):
        return {"type": "IndexedFile"}

    async def write_files(self, output_path):
        FlakyPagefind.runs += 1
        out = Path(output_path)
        out.mkdir(parents=True)
        (out / "pagefind.js").write_text("" if FlakyPagefind.runs <= self.bad else "ok")

    async def delete_index(self):
        return None


BODY_PAGE = "<html><body><main data-pagefind-body><p>Words.</p></main></body></html>"


@pytest.mark.parametrize(("bad", "succeeds"), [(0, True), (2, True), (3, False)])
def test_an_incomplete_index_is_retried_then_reported(tmp_path, monkeypatch, bad, succeeds):
    import pagefind.service
    FlakyPagefind.runs, FlakyPagefind.bad = 0, bad
    monkeypatch.setattr(pagefind.service, "PagefindService", FlakyPagefind)
    (tmp_path / "index.html").write_text(BODY_PAGE)
    if succeeds:
        assert index_folder(tmp_path, "en").pages == 1
        assert (tmp_path / "pagefind" / "site" / "pagefind.js").read_text() == "ok"
        assert FlakyPagefind.runs == bad + 1
    else:
        with pytest.raises(SearchError, match="incomplete index 3 times"):
            index_folder(tmp_path, "en")


def test_pagefind_ending_mid_index_is_reported_not_waited_for(tmp_path, monkeypatch):
    """Pagefind's own client waits forever for the answer of a process that has ended (the
    system killed it for memory, say); the preview's re-indexing would then stop for good."""
    import threading

    import pagefind.service
    launch = pagefind.service.PagefindService.launch

    async def launch_then_end(self):  # type: ignore[no-untyped-def]
        service = await launch(self)
        self._backend.kill()
        return service

    monkeypatch.setattr(pagefind.service.PagefindService, "launch", launch_then_end)
    (tmp_path / "index.html").write_text(BODY_PAGE)
    failures: list[Exception] = []

    def index() -> None:
        try:
            index_folder(tmp_path, "en")
        except SearchError as exc:
            failures.append(exc)

    thread = threading.Thread(target=index, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "still waiting for Pagefind"
    assert len(failures) == 1 and "ended" in str(failures[0])
