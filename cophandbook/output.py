"""Stage 5: write the output so that a failed build leaves the previous one as it was.

A first build writes everything to a staging folder beside the output and swaps it in. A
rebuild over an output this version wrote stages only the pages that changed, and the new
search index (read from the output's pages and the staged ones), then updates the output in
place: every problem a build can report is found before that, and while the update or the
swap runs the record beside the output says the output is incomplete, so one cut short is
redone in full by the next build. The output holds the site's files only, so that what is
published of it is the site.

Each build stages into a folder of its own: the workers of a build killed while rendering
can outlive it for a moment, and must not write into the next build's staging folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cophandbook.urls import SEARCH_DIR

if TYPE_CHECKING:
    from cophandbook.routes import StaticFile

# What a build knows of the output it wrote (its Record) is kept beside the output, never in
# it: the output is what gets published, and should hold the site's files only.
RECORD_SUFFIX = ".cophandbook.json"
# Where versions before that kept it: inside the output. Such a folder is still known as ours.
LEGACY_MARKER = ".cophandbook-output"
# Writes the search index (its third argument) of the pages in a folder (the first), where
# the files of a second folder, if any, take the place of the first's.
Indexer = Callable[[Path, Path | None, Path], None]


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


@dataclass
class Record:
    """What a build left beside its output folder (see `record_path`): the fingerprint of its
    inputs, a digest of every page it wrote, its counts and the problems it reported. A
    record with no fingerprint says the output is incomplete: an update of it was cut short,
    and the next build writes it again in full."""

    fingerprint: str = ""
    digests: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    files: int = 0
    problems: list[dict[str, object]] = field(default_factory=list)
    # Every input file's size, time and content digest, and when they were taken: the next
    # fingerprint reads only the files whose size or time changed.
    stamps: dict[str, list[object]] = field(default_factory=dict)
    stamped_ns: int = 0
    # Each page's inputs, to keep it next time if they are the same (see reuse.py).
    inputs: dict[str, list[object]] = field(default_factory=dict)
    static: list[str] = field(default_factory=list)  # the static files' output paths
    search_index: bool = False  # whether the output holds a search index in SEARCH_DIR
    search_state: str = ""  # what that index covers, for the next rebuild (see search.py)


def record_path(out: Path) -> Path:
    """`_site` → `._site.cophandbook.json`, beside it. (A file system's root has nothing
    beside it; `check_output_folder` refuses it as an output.)"""
    out = out.resolve()
    return out.parent / f".{out.name or 'root'}{RECORD_SUFFIX}"


def read_record(out: Path) -> Record | None:
    try:
        data = json.loads(record_path(out).read_text(encoding="utf-8"))
        return Record(**{key: data[key] for key in Record.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no output yet, or one from an older version: nothing to reuse


def previous_folder(out: Path) -> Path:
    """Where `publish()` moves the old output aside for the instant of the swap."""
    out = out.resolve()
    return out.parent / f".{out.name or 'root'}.previous"


def recover(out: Path) -> None:
    """Put back an output moved aside by a build killed between the two renames of its
    swap, so the last good site is neither lost nor rebuilt in full."""
    previous = previous_folder(out)
    with contextlib.suppress(OSError):
        if not os.path.lexists(out) and previous.is_dir() and not previous.is_symlink():
            os.replace(previous, out.resolve())


def restamp(out: Path, record: Record, stamps: dict[str, list[object]],
            stamped_ns: int) -> None:
    """Keep fresher input stamps in the record of an output that is otherwise unchanged, so
    files that were too new to trust last time need not be read again next time."""
    record.stamps, record.stamped_ns = stamps, stamped_ns
    _write_record(out, record)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Published:
    written: int  # files written anew
    unchanged: int  # pages identical to the previous output's, linked rather than rewritten


def check_output_folder(site: Path, out: Path) -> None:
    site, out = site.resolve(), out.resolve()
    if not out.name:
        raise OutputError(f"the output folder cannot be {out}, a file system's root")
    if out == site or out in site.parents:
        raise OutputError(f"the output folder {out} would replace the handbook itself")
    for inner in ("content", "static", "templates"):
        folder = site / inner
        if out == folder or folder in out.parents or out in folder.parents:
            raise OutputError(f"the output folder {out} overlaps {inner}/")
    if out.exists() and not out.is_dir():
        raise OutputError(f"the output path {out} is a file")
    ours = record_path(out).is_file() or (out / LEGACY_MARKER).exists()
    if out.is_dir() and any(out.iterdir()) and not ours:
        raise OutputError(
            f"{out} is not empty and was not written by cophandbook; "
            "refusing to replace it (choose an empty folder or remove it first)"
        )


def _inside(root: Path, rel: str) -> Path:
    """`root/rel`, refusing any `rel` that could lead out of it. Checking the words is
    enough: the staging folder is new and holds no links but those cophandbook made."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise OutputError(f"refusing to write outside the output folder: {rel}")
    return root.joinpath(*parts)


class Staging:
    """A new output written beside the old one (`.<out>.staging`) and put in its place by
    `publish()`; `discard()` leaves the old output as it was. `put()` needs nothing but this
    object, so forked workers write their pages themselves.

    With `in_place` and an output this version wrote, only changed files are staged and
    `publish()` moves them into the output (see the module's notes); otherwise the staging
    folder holds the whole new output, unchanged pages hard-linked from the old one."""

    def __init__(self, out: Path, *, in_place: bool = False, trust: bool = True) -> None:
        self.out = out.resolve()
        self.out_real = str(self.out)  # resolve() followed any links to the output itself
        self.previous = previous_folder(self.out)
        for leftover in (*_staging_folders(self.out), self.previous):
            shutil.rmtree(leftover, ignore_errors=True)
        self.root = self.out.with_name(f".{self.out.name}.{secrets.token_hex(4)}.staging")
        self.root.mkdir(parents=True)
        self.owner = os.getpid()
        # Without `trust` (an output that may not be this program's: see build.py), nothing
        # of the old output is kept, and the new one replaces the whole folder.
        old = read_record(self.out) if trust else None
        self.old = old or Record()
        self.in_place = in_place and old is not None and bool(old.fingerprint)

    def _orphaned(self) -> None:
        """A worker whose build was killed stops rather than write for nobody."""
        if os.getpid() != self.owner and os.getppid() != self.owner:
            os._exit(1)

    def put(self, rel: str, data: bytes) -> tuple[str, bool]:
        """Write one file: (its digest, True if written, False if it was the same as the
        previous output's file and is kept, or hard-linked, from it instead)."""
        self._orphaned()
        target = _inside(self.root, rel)
        digest = _digest(data)
        same = self.old.digests.get(rel) == digest
        if same and self.in_place and _same_size(self.out / rel, len(data)):
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        if same and not self.in_place and _link(self.out / rel, target, len(data)):
            return digest, False
        target.write_bytes(data)
        return digest, True

    def keep(self, rel: str) -> tuple[str, bool] | None:
        """Keep the previous output's `rel` unchanged: what `put()` would have returned, or
        None when it is not there any more."""
        self._orphaned()
        digest = self.old.digests.get(rel)
        if digest is None:
            return None
        if self.in_place:  # os.path, not Path: this runs for every page of a rebuild
            return (digest, False) if os.path.isfile(os.path.join(self.out_real, rel)) else None
        target = _inside(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.out / rel, target)
        except OSError:
            return None
        return digest, False

    def _in_output(self, rel: str) -> Path:
        """`out/rel` with its folder made, refusing a folder that a link leads elsewhere:
        unlike the staging folder, the output may hold links someone else put there."""
        target = _inside(self.out, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        folder = os.path.realpath(target.parent)
        if folder != self.out_real and not folder.startswith(self.out_real + os.sep):
            raise OutputError(f"refusing to write {rel}: its folder in {self.out} is a link "
                              f"to {folder}, outside the output folder")
        return target

    def _update_in_place(self, static: tuple[StaticFile, ...], record: Record,
                         index: Path | None) -> int:
        _write_record(self.out, Record())  # incomplete until the last line
        before = set(self.old.digests) | set(self.old.static)
        for rel in sorted(before - set(record.digests) - set(record.static)):
            gone = _inside(self.out, rel)
            if not gone.parent.is_dir():
                continue
            gone = self._in_output(rel)
            with contextlib.suppress(FileNotFoundError):
                gone.unlink()
            remove_empty_folders(gone.parent, self.out)
        for root, folders, names in os.walk(self.root):
            if root == str(self.root) and index is not None and index.name in folders:
                folders.remove(index.name)  # put in place whole, below
            for name in names:
                staged = Path(root, name)
                os.replace(staged, self._in_output(staged.relative_to(self.root).as_posix()))
        copied = 0
        for item in static:
            target = self._in_output(item.site_path)
            if _same_stamp(item.path, target):
                continue
            partial = target.with_name(f".{target.name}.partial")
            shutil.copy2(item.path, partial)
            os.replace(partial, target)
            copied += 1
        if index is not None or self.old.search_index:
            current = self._in_output(SEARCH_DIR)
            if os.path.lexists(current):
                os.replace(current, self.root / f".{SEARCH_DIR}.old")
            if index is not None:
                os.replace(index, current)
        shutil.rmtree(self.root)
        _write_record(self.out, record)
        return copied

    def publish(self, static: tuple[StaticFile, ...], record: Record,
                index: Indexer | None = None) -> int:
        """Copy the static files, let `index` write the search index of the new pages, then
        put the new output in place; the number of static files copied."""
        record.static = sorted(item.site_path for item in static)
        record.search_index = index is not None
        if self.in_place:
            fresh = None
            if index is not None:
                fresh = self.root / f".{SEARCH_DIR}.new"
                try:
                    index(self.out, self.root, fresh)
                except BaseException:
                    self.discard()
                    raise
            return self._update_in_place(static, record, fresh)
        try:
            for item in static:
                target = _inside(self.root, item.site_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item.path, target)  # its time too: see _same_stamp
            if index is not None:
                index(self.root, None, self.root / SEARCH_DIR)
            _write_record(self.out, Record())  # incomplete until the swap is done
        except BaseException:
            self.discard()
            raise
        # os.replace cannot replace a non-empty folder: move the old one aside, then swap.
        if self.out.exists():
            os.replace(self.out, self.previous)
        os.replace(self.root, self.out)
        if self.previous.exists():
            shutil.rmtree(self.previous)
        _write_record(self.out, record)
        return len(static)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def publish(files: dict[str, bytes], static: tuple[StaticFile, ...], out: Path,
            index: Indexer | None = None, record: Record | None = None) -> Published:
    """Write `files` and the static files as the new output, all at once (see Staging)."""
    staging = Staging(out)
    record = record or Record()
    written = unchanged = 0
    try:
        for rel, data in sorted(files.items()):
            record.digests[rel], fresh = staging.put(rel, data)
            written, unchanged = written + fresh, unchanged + (not fresh)
    except BaseException:
        staging.discard()
        raise
    return Published(written + staging.publish(static, record, index), unchanged)


def _staging_folders(out: Path) -> list[Path]:
    """The staging folders earlier builds into `out` left behind (killed, or cut short)."""
    own = re.compile(rf"\.{re.escape(out.name)}(\.[0-9a-f]{{8}})?\.staging")
    try:
        return [entry for entry in out.parent.iterdir()
                if own.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()]
    except OSError:
        return []


def _write_record(out: Path, record: Record) -> None:
    path = record_path(out)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(record.__dict__, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def _same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _same_stamp(source: Path, copy: Path) -> bool:
    """A static file copied by an earlier build (copies keep the source's time)."""
    try:
        a, b = source.stat(), copy.stat()
    except OSError:
        return False
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def remove_empty_folders(folder: Path, root: Path) -> None:
    """Remove `folder` and the folders above it, up to `root`, while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone): the folders above are not empty either
            return
        folder = folder.parent


def _link(source: Path, target: Path, size: int) -> bool:
    try:
        if source.stat().st_size != size:  # changed by hand since: write it anew
            return False
        os.link(source, target)
        return True
    except OSError:  # gone, or a file system without hard links
        return False


def link_or_copy(source: str, target: str) -> None:
    """Hard-link `source` to `target`, or copy it where links cannot be made."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
