"""Builds that race, fail half way or meet a mount point: never an empty or damaged site,
never a deleted file that a build did not write. (docs/security.md, "Damage the last good
site", states these promises.)

Where the file system must refuse something, a test either makes it refuse for real (as
another user, on a small or mounted file system: these need root or user namespaces, and
say so when skipped) or has the rename fail at a chosen moment, which works anywhere.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cophandbook.build import build
from cophandbook.lock import OutputLock, lock_path
from cophandbook.output import record_path
from tests.conftest import EXAMPLE_SITE, EXEMPLAR, SETTINGS, write_files
from tests.test_integrity import (
    EXEMPLAR_FILE,
    SEARCH_ON,
    Builds,
    _generated_site,
    hidden_siblings,
    snapshot,
    staged,
)
from tests.test_rebuild import assert_same_as_a_clean_build, digests

# A change to every page (the site's title), a page gone and one changed.
CHANGES = {"handbook.yml": SETTINGS.replace("Test Circle", "Test Circle Two"),
           "content/guides/safety.md": None,
           EXEMPLAR_FILE: EXEMPLAR.replace("Raise your glasses.", "Cheers.")}


@pytest.fixture
def builds(tmp_path: Path) -> Iterator[Builds]:
    runner = Builds(tmp_path / "cache")
    yield runner
    runner.end_all()


# One build at a time.

def test_two_builds_into_one_output_take_turns(tmp_path, builds):
    """The second build waits for the first, says so, and both leave the whole site (the
    second one's staging once deleted the first one's, which then published nothing)."""
    site = _generated_site(tmp_path)
    out = tmp_path / "race" / "out"
    builds.run(site, tmp_path / "clean")
    clean = digests(tmp_path / "clean")
    first = builds.start(site, out)
    moment = staged(out, 20)
    while not moment() and first.poll() is None:
        time.sleep(0.005)
    assert first.poll() is None, "the first build ended before it was raced"
    second = builds.start(site, out)
    _, second_err = second.communicate(timeout=120)
    _, first_err = first.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), (first_err + second_err).decode()
    assert digests(out) == clean
    assert hidden_siblings(out) == []


def test_a_build_waits_for_the_lock_and_says_so(make_site, builds, tmp_path):
    """The lock held here, as a build in another process would: the build waits, says
    whom it waits for, writes nothing meanwhile, then builds."""
    site = make_site()
    out = tmp_path / "out"
    with OutputLock(out):
        waiting = builds.start(site, out)
        said: list[bytes] = []
        reader = threading.Thread(target=lambda: said.append(waiting.stderr.readline()))
        reader.start()
        reader.join(120)
        assert said and b"waiting for it to finish" in said[0]
        assert f"process {os.getpid()}".encode() in said[0]
        assert waiting.poll() is None and not out.exists()
    _, rest = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, rest.decode()
    assert (out / "index.html").is_file() and not lock_path(out).exists()


def test_the_lock_names_its_holder_and_lets_the_next_build_in_when_released(tmp_path):
    out = tmp_path / "out"
    said: list[str] = []
    inside = threading.Event()

    def second_build() -> None:
        with OutputLock(out, said.append):
            inside.set()

    with OutputLock(out):
        waiting = threading.Thread(target=second_build)
        waiting.start()
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not inside.is_set()
        assert said == [f"Another build (process {os.getpid()}, started "
                        f"{said[0].split('started ')[1]}"]
        assert str(out) in said[0]
    waiting.join(10)
    assert inside.is_set()
    assert not lock_path(out).exists()  # each build removes it as it finishes


# Only folders a build can prove are its own are removed.

def test_folders_named_like_a_builds_but_not_claimed_are_left_alone(make_site):
    site = make_site()
    assert build(site).written
    strangers = {"._site.deadbeef.staging/notes.txt": "mine", "._site.staging/a.txt": "mine",
                 "._site.previous/keep.txt": "mine", "._site.0123abcd.undo/b.txt": "mine"}
    write_files(site, {**strangers, **CHANGES})
    assert build(site).written
    assert all((site / rel).read_text() == "mine" for rel in strangers)


def test_what_a_killed_build_claimed_is_cleared_and_its_output_put_back(make_site):
    """Killed between the swap's two renames: the old output is aside, none in place, and
    the lock file lists the folders the build made."""
    site = make_site()
    out = site / "_site"
    assert build(site).written
    before = snapshot(out)
    write_files(site, {"._site.0123abcd.staging/index.html": "half"})
    out.rename(site / "._site.0123abcd.previous")
    victim = write_files(site.parent, {"victim/keep.txt": "mine"}) / "victim"
    claims = ["._site.0123abcd.staging", "._site.0123abcd.previous", "../victim", "content"]
    lock_path(out).write_text(json.dumps({"claims": claims, "pid": 1}))
    result = build(site)
    assert result.unchanged, [str(d) for d in result.problems]
    assert snapshot(out) == before
    assert hidden_siblings(out) == []
    assert (victim / "keep.txt").read_text() == "mine" and (site / "content").is_dir()


# Files a build did not write are never deleted.

MINE = {"CNAME": "handbook.example.org", "uploads/thesis.pdf": "%PDF",
        ".well-known/security.txt": "Contact: x"}


def _update_cut_short(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave `site`'s output half updated, its record incomplete, as a build whose renames
    fail and cannot be undone does."""
    write_files(site, CHANGES)
    real_replace = os.replace

    def failing(source: object, target: object) -> None:
        if str(target).endswith("wedding-toast/index.html"):
            raise OSError(errno.EIO, "Input/output error", str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing)
    assert build(site).output_changed
    monkeypatch.setattr(os, "replace", real_replace)
    assert json.loads(record_path(site / "_site").read_text())["fingerprint"] == ""


RECORD_STATES = ["incomplete", "unreadable", "an old marker inside"]


@pytest.mark.parametrize("state", RECORD_STATES)
def test_files_a_build_did_not_write_stop_a_whole_new_output_and_are_kept(make_site,
                                                                         monkeypatch, state):
    """A new output swapped in would lose them: the build stops before writing, naming
    them. (A marker once made the next build replace the whole folder.)"""
    site = make_site()
    out = site / "_site"
    assert build(site).written
    if state == "incomplete":
        _update_cut_short(site, monkeypatch)
    elif state == "unreadable":
        record_path(out).write_text("{not json")
    elif state == "an old marker inside":
        record_path(out).unlink()
        (out / ".cophandbook-output").touch()
    write_files(out, MINE)
    write_files(site, {"content/guides/new.md": "---\ntitle: New\n---\nNew.\n"})
    before, record = snapshot(out), _bytes(record_path(out))
    result = build(site)
    assert snapshot(out) == before and _bytes(record_path(out)) == record
    [error] = result.problems.errors
    assert error.code == "output-not-ours" and "static/" in (error.hint or "")
    named = error.message.split("would replace or delete: ")[1]
    if state == "incomplete":  # the record lists every file a build wrote
        assert named == ".well-known/, CNAME, uploads/"
    else:  # nothing is known to be the build's: every file is named, none deleted
        assert named.startswith(".well-known/, 404.html, CNAME, ") and "more" in named
    # Moved into static/, they are published with every build.
    shutil.rmtree(out)
    write_files(site, {f"static/{rel}": text for rel, text in MINE.items()})
    assert build(site).written
    assert all((out / rel).read_text() == text for rel, text in MINE.items())


def test_an_update_in_place_keeps_files_it_did_not_write_and_never_replaces_one(make_site):
    site = make_site()
    out = site / "_site"
    assert build(site).written
    write_files(out, MINE)
    write_files(site, CHANGES)
    assert build(site).written
    assert all((out / rel).read_text() == text for rel, text in MINE.items())
    # A new page where a file of someone else's is: the build stops and names it.
    write_files(out, {"guides/new/index.html": "by hand"})
    write_files(site, {"content/guides/new.md": "---\ntitle: New\n---\nNew.\n"})
    before, record = snapshot(out), record_path(out).read_bytes()
    result = build(site)
    assert snapshot(out) == before and record_path(out).read_bytes() == record
    [error] = result.problems.errors
    assert error.code == "output-not-ours"
    assert error.message.endswith("would replace or delete: guides/new/index.html")
    assert hidden_siblings(out) == []


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


# A failed update leaves the output as it was.

def _failing_at(monkeypatch: pytest.MonkeyPatch, out: Path, nth: int, error: int) -> None:
    """The `nth` rename that moves something into or out of `out` fails with `error`."""
    real_replace = os.replace
    folder = str(out.resolve())
    count = [0]

    def replace(source: object, target: object) -> None:
        if any(str(p) == folder or str(p).startswith(folder + os.sep)
               for p in (source, target)):
            count[0] += 1
            if count[0] == nth:
                raise OSError(error, os.strerror(error), str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("nth", [1, 2, 5, 9])
@pytest.mark.parametrize("search", [False, True], ids=["pages", "pages and index"])
def test_a_failed_update_leaves_the_output_byte_identical(make_site, tmp_path, monkeypatch,
                                                         nth, search):
    site = make_site(SEARCH_ON if search else None)
    out = site / "_site"
    assert build(site).written
    before, record = snapshot(out), record_path(out).read_bytes()
    write_files(site, CHANGES)
    with monkeypatch.context() as patch:
        _failing_at(patch, out, nth, errno.EACCES)
        failed = build(site)
    assert snapshot(out) == before and record_path(out).read_bytes() == record
    [error] = failed.problems.errors
    assert "permission denied" in error.message and "the output is as it was" in error.message
    assert failed.output_changed == ()
    assert hidden_siblings(out) == []
    assert build(site).written
    assert_same_as_a_clean_build(site, tmp_path)


def test_a_failed_swap_leaves_the_output_where_it_was(make_site, monkeypatch):
    """An output that is not trusted is built whole and swapped in; the second rename of
    the swap fails (a mount point refuses it so): the old output is put back."""
    site = make_site()
    out = site / "_site"
    assert build(site).written
    # An incomplete record: the output is written whole and swapped in.
    record = json.loads(record_path(out).read_text())
    record_path(out).write_text(json.dumps({**record, "fingerprint": ""}))
    before = snapshot(out)
    write_files(site, CHANGES)
    with monkeypatch.context() as patch:
        _failing_at(patch, out, 2, errno.EXDEV)
        failed = build(site)
    assert snapshot(out) == before
    assert "the output is as it was" in failed.problems.errors[0].message
    assert hidden_siblings(out) == []


# As a user who cannot write part of the output, and on a mount point or a full disk.

def _nobody() -> tuple[int, int] | None:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["unshare", "-rm", "sh", "-c",
                               f"mount -t tmpfs -o size=64k none {folder}"],
                              capture_output=True)
    return done.returncode == 0


def _cophandbook(*args: str) -> list[str]:
    return [sys.executable, "-m", "cophandbook", *args]


@pytest.mark.skipif(_nobody() is None, reason="needs root and setpriv to act as another user")
def test_a_user_who_cannot_write_a_folder_of_the_output_loses_nothing():
    """`chmod 555 out/guides` and a guide removed: the update fails, and says the output is
    as it was, which it is."""
    uid, gid = _nobody()  # type: ignore[misc]
    home = Path(tempfile.mkdtemp(prefix="cophandbook-user-"))
    try:
        site = write_files(home / "site", {"handbook.yml": SETTINGS,
                                           "content/guides/a.md": "---\ntitle: A\n---\nA.\n",
                                           "content/guides/b.md": "---\ntitle: B\n---\nB.\n"})
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid)
        as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
        env = {**os.environ, "HOME": str(home), "COPHANDBOOK_CACHE": str(home / "cache")}
        out = home / "out"
        run = [*as_user, *_cophandbook("build", str(site), "-o", str(out))]
        assert subprocess.run(run, env=env, capture_output=True).returncode == 0
        (site / "content/guides/b.md").unlink()
        (site / "handbook.yml").write_text(SETTINGS.replace("Test Circle", "Circle"))
        (out / "guides").chmod(0o555)
        before = snapshot(out)
        done = subprocess.run(run, env=env, capture_output=True, text=True)
        assert snapshot(out) == before
        assert done.returncode == 1
        assert "permission denied" in done.stderr and "the output is as it was" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        shutil.rmtree(home)


@pytest.mark.skipif(not _can_mount(), reason="needs user namespaces to mount a file system")
@pytest.mark.parametrize("kind", ["a file system of its own", "a bind mount"])
def test_an_output_folder_that_is_a_mount_point_builds_and_updates(make_site, tmp_path, kind):
    """Nothing can be renamed into it from beside it, nor can it be renamed. A bind mount of
    a folder of the same file system looks like any other folder to stat()."""
    site = make_site()
    out, copies, volume = tmp_path / "mounted", tmp_path / "copies", tmp_path / "volume"
    for folder in (out, copies, volume):
        folder.mkdir()
    mount = (f"mount -t tmpfs -o size=64m none {out}" if kind == "a file system of its own"
             else f"mount --bind {volume} {out}")
    change = write_files(tmp_path, {"change.py": (
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('Raise your glasses.', 'Cheers.'))\n")})
    build_it = " ".join(_cophandbook("build", str(site), "-o", str(out)))
    script = (f"{mount} && {build_it} && cp -a {out} {copies}/first && "
              f"{sys.executable} {change / 'change.py'} {site / EXEMPLAR_FILE} && "
              f"{build_it} && cp -a {out} {copies}/second && ls -a {out}")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, env={**os.environ, "COPHANDBOOK_CACHE": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    second_build = [line for line in done.stdout.splitlines() if line.startswith("Built")][1]
    assert " unchanged" in second_build  # only the pages that changed are written
    assert not [name for name in done.stdout.split() if name.endswith((".staging", ".undo"))]
    assert b"Cheers." in (copies / "second" / "skills/toasts/exemplars/wedding-toast/"
                          "index.html").read_bytes()
    assert build(site, tmp_path / "clean").written
    assert digests(copies / "second") == digests(tmp_path / "clean")


@pytest.mark.skipif(not _can_mount(), reason="needs user namespaces to mount a file system")
def test_a_full_disk_is_reported_as_one_and_leaves_nothing_behind(tmp_path):
    """The example site with its search index is larger than the disk: the pages fit, the
    index does not. The error is the disk's, not the search indexer's."""
    measured = tmp_path / "measured"
    assert build(EXAMPLE_SITE, measured).written
    pages = sum(_blocks(p) for p in measured.rglob("*") if "pagefind" not in p.parts)
    index = sum(_blocks(p) for p in (measured / "pagefind").rglob("*"))
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "_site"
    script = (f"mount -t tmpfs -o size={(pages + index // 2) // 1024}k none {disk} && "
              + " ".join(_cophandbook("build", str(EXAMPLE_SITE), "-o", str(out)))
              + f"; echo exit=$?; ls -a {disk}")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, env={**os.environ, "COPHANDBOOK_CACHE": str(tmp_path)})
    assert "exit=1" in done.stdout, done.stdout + done.stderr
    assert "the disk holding" in done.stderr and "is full" in done.stderr, done.stderr
    assert "search-failed" not in done.stderr and "Traceback" not in done.stderr
    left = done.stdout.split("exit=1")[1].split()
    assert sorted(left) == [".", ".."]


def _blocks(path: Path) -> int:
    """The space a file takes on tmpfs, which gives each file whole pages of memory."""
    return 0 if path.is_dir() else -(-path.stat().st_size // 4096) * 4096


def test_a_file_systems_root_is_refused_as_the_output_without_a_traceback(tmp_path):
    done = subprocess.run(_cophandbook("build", str(EXAMPLE_SITE), "-o", "/"),
                          capture_output=True, text=True,
                          env={**os.environ, "COPHANDBOOK_CACHE": str(tmp_path)})
    assert done.returncode == 1
    assert "a file system's root" in done.stderr and "Traceback" not in done.stderr
