"""Integrity: a failed or killed build never loses the last good site, builds are
deterministic, `check` writes nothing, and an output committed to git is never trusted.

Covered elsewhere: deleted sources leave the output (test_build.py's
test_deleted_sources_disappear; test_rebuild.py's "a deleted exemplar" change and
test_a_rebuild_updates_the_output_in_place), a failed search index leaves the previous site
(test_search.py), and `cophandbook check` on a broken site writes nothing
(test_check.py's test_check_writes_nothing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cophandbook.build
from cophandbook import history
from cophandbook.build import build
from cophandbook.check import check
from cophandbook.output import record_path
from tests.conftest import EXAMPLE_SITE, EXEMPLAR, SETTINGS, git, write_files
from tests.test_rebuild import assert_same_as_a_clean_build, digests

EXEMPLAR_FILE = "content/skills/toasts/exemplars/wedding-toast.md"
SEARCH_ON = {"handbook.yml": SETTINGS + "search: true\n"}


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (None) under `folder`, the marker included."""
    return {p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


def hidden_siblings(folder: Path) -> list[str]:
    """Staging and other working folders, and the lock, that a build leaves beside its
    output (but the record of the output, which stays beside it)."""
    return sorted(p.name for p in folder.parent.iterdir()
                  if p.name.startswith(".") and p.name != record_path(folder).name)


FAILURES = {
    "a content error": {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent", "level: nowhere")},
    # Found while rendering, after other pages were written to the staging folder.
    "a template error": {"templates/exemplar.html": "{% extends 'theme/exemplar.html' %}\n"
                         "{% block title %}{{ no_such_thing.attribute }}{% endblock %}\n"},
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
@pytest.mark.parametrize("search", [False, True], ids=["updated in place", "staged whole"])
def test_a_failed_build_leaves_the_previous_output_byte_identical(make_site, failure, search):
    site = make_site(SEARCH_ON if search else None)
    assert build(site).written
    out = site / "_site"
    before, beside = snapshot(out), hidden_siblings(out)
    record = record_path(out).read_bytes()
    assert ("pagefind/bundles.json" in before) is search
    # A change that would alter pages, so the failed build had something to write.
    write_files(site, {"content/guides/safety.md": "---\ntitle: Safe\n---\nChanged.\n",
                       **failure})
    result = build(site)
    assert not result.written and result.problems.has_errors
    assert snapshot(out) == before and record_path(out).read_bytes() == record
    assert hidden_siblings(out) == beside == []


# A SIGKILL at any moment of a build.

def _generated_site(root: Path) -> Path:
    """A site large enough to take a second or so to build, with worker processes."""
    generator = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_handbook.py"
    site = root / "big"
    if generator.is_file():
        subprocess.run([sys.executable, str(generator), str(site), "--pages", "200"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        settings = site / "handbook.yml"
        settings.write_text(settings.read_text().replace("search: true", "search: false"))
    else:  # a copy of the project without the shared generator: many small guides
        write_files(site, {"handbook.yml": SETTINGS, **{
            f"content/guides/g{n}.md": f"---\ntitle: Guide {n}\n---\nText *{n}* "
                                       f"[next](g{(n + 1) % 400}.md).\n" for n in range(400)}})
    return site


class Builds:
    """`cophandbook build` in subprocesses, each in a session of its own so that workers a
    killed build leaves behind can be ended at the end of the test."""

    def __init__(self, cache: Path) -> None:
        self.env = {**os.environ, "COPHANDBOOK_CACHE": str(cache)}
        self.sessions: list[int] = []

    def start(self, site: Path, out: Path, errors: int = subprocess.PIPE
              ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "cophandbook", "build", str(site),
                                 "-o", str(out)], env=self.env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=errors)
        self.sessions.append(proc.pid)
        return proc

    def run(self, site: Path, out: Path) -> None:
        proc = self.start(site, out)
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()

    def kill_when(self, site: Path, out: Path, moment: Callable[[], bool]) -> bool:
        """Start a build and SIGKILL it (it alone, as `kill -9` would) at the first
        `moment()`; True if that came before the build ended."""
        # No pipe: the workers it leaves behind would hold it open.
        proc = self.start(site, out, subprocess.DEVNULL)
        while proc.poll() is None:
            if moment():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.01)
        return False

    def end_all(self) -> None:
        for session in self.sessions:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(session, signal.SIGKILL)


@pytest.fixture
def builds(tmp_path: Path) -> Iterator[Builds]:
    runner = Builds(tmp_path / "cache")
    yield runner
    runner.end_all()


def after(seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


def staged(out: Path, files: int) -> Callable[[], bool]:
    """Once the build's staging folder beside `out` holds `files` files."""
    def moment() -> bool:
        return sum(len(names) for folder in out.parent.glob(f".{out.name}.*.staging")
                   for _, _, names in os.walk(folder)) >= files
    return moment


def updating(out: Path) -> Callable[[], bool]:
    """Once the output is being updated in place: its record says it is incomplete."""
    def moment() -> bool:
        try:
            return json.loads(record_path(out).read_text(encoding="utf-8"))["fingerprint"] == ""
        except (OSError, ValueError, KeyError):
            return False
    return moment


def shows(path: Path, digest: str) -> Callable[[], bool]:
    """Once `path` holds the bytes with this digest."""
    def moment() -> bool:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == digest
        except OSError:
            return False
    return moment


def assert_intact(out: Path, *clean: dict[str, str]) -> None:
    """Every file at a final path in `out` is whole: byte-identical to the same file of one
    of the `clean` builds. The record beside it is whole JSON; a static file's `.partial`
    copy cut short may be left, but never under a name served as a page."""
    if record_path(out).exists():
        json.loads(record_path(out).read_text(encoding="utf-8"))
    if not out.exists():
        return
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if path.name.startswith(".") and path.name.endswith(".partial"):
            assert not path.name.endswith((".html", ".xml")), rel
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert any(c.get(rel) == digest for c in clean), f"{rel} is cut short or stale"
    assert not list(out.rglob("*.staging")) and not list(out.rglob("*.previous"))


def test_a_killed_build_leaves_whole_files_and_the_next_build_is_clean(tmp_path, builds):
    """Killed while loading, while rendering into the staging folder, and while updating
    the output in place; each time the next build gives what a clean build gives."""
    site = _generated_site(tmp_path)
    out = site / "_site"
    builds.run(site, tmp_path / "clean-a")  # fills the body cache, as a previous build would
    clean_a = digests(tmp_path / "clean-a")
    assert len(clean_a) > 250
    killed = 0
    # A first build into no output: it is staged whole, then swapped in.
    for moment in (after(0.4), staged(out, len(clean_a) // 2)):
        shutil.rmtree(out, ignore_errors=True)
        killed += builds.kill_when(site, out, moment)
        assert_intact(out, clean_a)
        builds.run(site, out)
        assert digests(out) == clean_a
        assert hidden_siblings(out) == []

    # Rebuilds in place, then the edits kept or undone. The title is on every page, so
    # every page is written again (at the same size); a guide goes, another comes, a
    # static file comes or goes.
    guide = min((site / "content/guides").glob("*.md")).relative_to(site).as_posix()
    settings = (site / "handbook.yml").read_text()
    at = settings.index("title: ") + len("title: ")
    version_a = {"handbook.yml": settings, guide: (site / guide).read_text(),
                 "content/guides/new-one.md": None, "static/notes.txt": None}
    version_b = {"handbook.yml": settings[:at] + chr(ord(settings[at]) ^ 1) + settings[at + 1:],
                 guide: None, "content/guides/new-one.md": "---\ntitle: New\n---\nNew.\n",
                 "static/notes.txt": "second"}
    write_files(site, version_b)
    builds.run(site, tmp_path / "clean-b")
    clean_b = digests(tmp_path / "clean-b")
    assert clean_b != clean_a
    versions = [(version_a, clean_a), (version_b, clean_b)]
    now, cut_short = 0, 0  # out holds version A
    for moment, undo in ((staged(out, len(clean_a) // 2), False), (updating(out), True),
                         ("index.html", True)):
        files, clean = versions[1 - now]
        write_files(site, files)
        if isinstance(moment, str):  # once that file of the new version is in place
            moment = shows(out / moment, clean[moment])
        killed += builds.kill_when(site, out, moment)
        cut_short += updating(out)()
        assert_intact(out, clean_a, clean_b)
        now = now if undo else 1 - now
        files, clean = versions[now]
        write_files(site, files)
        builds.run(site, out)
        assert digests(out) == clean
        assert hidden_siblings(out) == []
    print(f"{killed} builds killed, {cut_short} of them while updating in place")
    assert killed  # at least the first, while loading


def _live_processes_of(session: int) -> list[int]:
    """Processes of a session that are still running (zombies excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":  # fields: state, ppid, pgrp
                found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_end_when_their_build_is_killed(tmp_path, builds):
    site = _generated_site(tmp_path)
    out = site / "_site"
    # As soon as workers exist: they are rendering Markdown, before any page is written.
    assert builds.kill_when(site, out, lambda: len(_live_processes_of(builds.sessions[-1])) > 1)
    session = builds.sessions[-1]
    deadline = time.monotonic() + 5
    while _live_processes_of(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_processes_of(session) == []


def test_an_output_moved_aside_by_a_killed_swap_is_put_back(make_site):
    """Killed between the swap's two renames: the old output is beside it, none in place."""
    site = make_site()
    assert build(site).written
    out = site / "_site"
    before = snapshot(out)
    out.rename(site / "._site.previous")
    result = build(site)
    assert result.unchanged, [str(d) for d in result.problems]
    assert snapshot(out) == before
    assert hidden_siblings(out) == []


# `check` writes nothing.

def test_check_writes_nothing_anywhere(make_site, tmp_path, monkeypatch):
    site = make_site()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("COPHANDBOOK_CACHE", raising=False)
    before = snapshot(tmp_path)
    assert not check(site).problems.has_errors
    done = subprocess.run([sys.executable, "-m", "cophandbook", "check", str(site)],
                          capture_output=True, text=True, cwd=site, env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    after = snapshot(tmp_path)
    assert after == before  # no _site, no cache in the home folder, no other file
    assert not (site / "_site").exists() and not (home / ".cache").exists()


# Determinism.

def test_two_clean_builds_of_the_example_site_are_byte_identical(tmp_path):
    """Two copies of the site at different paths, built into different folders. Search is
    off: Pagefind names its filter and metadata chunks differently from run to run."""
    outputs = []
    for name in ("one", "two"):
        site = tmp_path / name / "example-site"
        shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("_site", ".*"))
        settings = site / "handbook.yml"
        assert "search: true" in settings.read_text()
        settings.write_text(settings.read_text().replace("search: true", "search: false"))
        result = build(site, tmp_path / f"out-{name}")
        assert result.written and not result.problems.has_errors
        outputs.append(tmp_path / f"out-{name}")
    one, two = (snapshot(out) for out in outputs)
    assert len(one) > 50
    assert one == two  # nothing of a build's own, such as when it ran, is in the output
    markers = [json.loads(record_path(out).read_text(encoding="utf-8")) for out in outputs]
    for marker in markers:  # when each build looked at its inputs, and the cache's keys
        del marker["stamped_ns"], marker["stamps"], marker["inputs"]
    assert markers[0] == markers[1]


# An output committed to git is not trusted.

FORGED = b"<script>steal()</script>"


@pytest.fixture
def forged_repo(tmp_path: Path, make_site) -> Path:
    """A repository whose commit holds the site and its `_site`: a real build's marker, a
    tampered home page, and a page the marker does not list."""
    site = make_site(name="repo")
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "commit", "-qm", "site")
    assert build(site).written  # with the commit dates, as a clone's build will have
    out = site / "_site"
    home = out / "index.html"
    home.write_bytes(home.read_bytes().replace(b"</body>", FORGED + b"</body>"))
    write_files(out, {"evil/index.html": FORGED.decode()})
    git(site, "add", ".")
    git(site, "commit", "-qm", "output", date="2026-02-01T12:00:00")
    return site


def assert_rebuilt_in_full(site: Path, tmp_path: Path) -> None:
    # The page the record does not list is not the build's to delete: the build stops and
    # names it, writing nothing, until it is gone.
    stopped = build(site)
    [error] = stopped.problems.errors
    assert error.code == "output-not-ours" and error.message.endswith("delete: evil/")
    assert FORGED in (site / "_site/evil/index.html").read_bytes()
    git(site, "rm", "-rq", "_site/evil")
    result = build(site)
    assert result.written and not result.unchanged
    assert result.pages_reused == 0 and result.files_kept == 0
    [warning] = [d for d in result.problems if d.code == "output-in-git"]
    assert not warning.is_error and ".gitignore" in (warning.hint or "")
    assert FORGED not in (site / "_site/index.html").read_bytes()
    assert not (site / "_site/evil").exists()
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_committed_output_is_built_again_in_full(forged_repo, tmp_path, monkeypatch):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(forged_repo), str(clone)], check=True)
    assert FORGED in (clone / "_site/index.html").read_bytes()
    # The forgery is good enough: were its marker trusted, nothing would be built.
    with monkeypatch.context() as patch:
        patch.setattr(cophandbook.build, "tracked", lambda paths: False)
        assert build(clone).unchanged
        assert FORGED in (clone / "_site/index.html").read_bytes()
    assert_rebuilt_in_full(clone, tmp_path)


def test_a_committed_output_is_not_updated_in_place(forged_repo, tmp_path):
    """Content changed too: an in-place update would keep the forged pages it thinks are
    unchanged, and every file the marker does not list."""
    write_files(forged_repo, {EXEMPLAR_FILE: EXEMPLAR + "\nOne more line.\n"})
    assert_rebuilt_in_full(forged_repo, tmp_path)


def test_an_ignored_output_in_a_repository_is_trusted(make_site):
    site = make_site({".gitignore": "_site/\n"})
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "commit", "-qm", "site")
    assert build(site).written
    again = build(site)
    assert again.unchanged and "output-in-git" not in [d.code for d in again.problems]
    assert not history.tracked([site / "_site"])


def test_without_git_installed_nothing_counts_as_tracked(forged_repo, monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert not history.tracked([forged_repo / "_site"])
