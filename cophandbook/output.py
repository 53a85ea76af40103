"""Stage 5: write the output so that a failed build leaves the previous one as it was.

A first build writes everything to a staging folder beside the output and swaps it in. A
rebuild over an output this version wrote stages only the pages that changed, and the new
search index (read from the output's pages and the staged ones), then updates the output in
place, each change undoable until the last (see undo.py). Every problem a build can report
is found before either; while the update or the swap runs, the record beside the output
says the output is incomplete, so one cut short by a kill is redone in full by the next
build. The output holds the site's files only, so that what is published of it is the site.

An output folder that is a mount point cannot be swapped, nor can files be renamed into it
from beside it: such an output is always updated in place, from a staging folder inside it.

A build deletes only files it wrote: the record lists them (an incomplete record lists
those of the old output and of the new one), and a build that finds any other file in the
output stops before writing, naming it. Builds into one output run one at a time (see
lock.py), and each stages into a folder of its own: the workers of a build killed while
rendering can outlive it for a moment, and must not write into the next build's folder.
"""

from __future__ import annotations

import contextlib
import errno
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

from cophandbook.lock import OutputLock
from cophandbook.output_paths import OutputError, inside
from cophandbook.undo import Changes
from cophandbook.urls import SEARCH_DIR

if TYPE_CHECKING:
    from cophandbook.routes import StaticFile

__all__ = ["OutputError", "Record", "Staging", "publish"]

# What a build knows of the output it wrote (its Record) is kept beside the output, never in
# it: the output is what gets published, and should hold the site's files only.
RECORD_SUFFIX = ".cophandbook.json"
# Where versions before that kept it: inside the output. Such a folder is still known as ours.
LEGACY_MARKER = ".cophandbook-output"
# Writes the search index (its third argument) of the pages in a folder (the first), where
# the files of a second folder, if any, take the place of the first's.
Indexer = Callable[[Path, Path | None, Path], None]
# Where the mount points are listed (Linux), to find an output that is one: a bind mount of
# a folder of the same file system looks like any folder to stat().
MOUNTINFO = Path("/proc/self/mountinfo")
# Below this much free space, a failure to write is taken for the disk being full, whatever
# the program that failed (the search indexer) said.
NEARLY_FULL = 8 << 20
# A file system's own folder at the top of a mount point: never the build's, never touched.
LOST_AND_FOUND = "lost+found"


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
    # An incomplete record's list of the files that may be in the output, old or new: the
    # files the next build may replace or delete.
    owned: list[str] = field(default_factory=list)

    def files_written(self) -> set[str]:
        """The output's files that a build wrote (the search index's aside)."""
        return {*self.digests, *self.static, *self.owned}


def record_path(out: Path) -> Path:
    """`_site` → `._site.cophandbook.json`, beside it. (A file system's root has nothing
    beside it; `check_output_folder` refuses it as an output.)"""
    out = out.resolve()
    return out.parent / f".{out.name or 'root'}{RECORD_SUFFIX}"


def read_record(out: Path) -> Record | None:
    try:
        return _as_record(json.loads(record_path(out).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None  # no output yet, or one from an older version: nothing to reuse


def _as_record(data: object) -> Record | None:
    if not isinstance(data, dict):
        return None
    try:
        return Record(**{key: data[key] for key in Record.__dataclass_fields__ if key in data})
    except TypeError:
        return None


def _legacy_record(out: Path) -> Record | None:
    """The record an earlier version kept inside the output, for the files it lists; the
    marker itself counts as one of them."""
    marker = out / LEGACY_MARKER
    if not marker.is_file() or marker.is_symlink():
        return None
    try:
        record = _as_record(json.loads(marker.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        record = None
    record = record or Record()
    record.owned = [*record.owned, LEGACY_MARKER]
    return record


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
    if out.is_dir() and _entries(out) and not ours:
        raise OutputError(
            f"{out} is not empty and was not written by cophandbook; "
            "refusing to replace it (choose an empty folder or remove it first)"
        )


def _entries(out: Path) -> list[str]:
    """What a folder holds, but a mount point's lost+found."""
    fixed = is_mount_point(out)
    return [name for name in os.listdir(out) if not (fixed and name == LOST_AND_FOUND)]


class ForeignFiles(OutputError):
    """The output holds files no build wrote; a build would replace or delete them."""

    def __init__(self, out: Path, names: list[str]) -> None:
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        super().__init__(f"{out} holds files cophandbook did not write, which this build "
                         f"would replace or delete: {shown}")
        self.names = names


def foreign_files(out: Path, written: set[str], search_index: bool) -> list[str]:
    """The files and folders in `out` that are not among `written` (nor, when the output has
    a search index, in its folder), as paths under `out`; a folder that holds only such
    things is named once, with a trailing slash."""
    if not out.is_dir() or out.is_symlink():
        return []
    folders = _folders_of(written)
    fixed = is_mount_point(out)
    found: list[str] = []
    for root, names, files in os.walk(out):
        under = os.path.relpath(root, out).replace(os.sep, "/")
        under = "" if under == "." else f"{under}/"
        if not under:
            if fixed and LOST_AND_FOUND in names:
                names.remove(LOST_AND_FOUND)
            if search_index and SEARCH_DIR in names:
                names.remove(SEARCH_DIR)
        for name in sorted(names):
            rel = f"{under}{name}"
            if rel not in folders:
                names.remove(name)  # not a folder any written file is in: named whole
                found.append(f"{rel}/")
        found.extend(rel for rel in (f"{under}{name}" for name in files) if rel not in written)
    return sorted(found)


def _folders_of(files: set[str]) -> set[str]:
    """Every folder the paths in `files` are in, at any depth."""
    folders: set[str] = set()
    for rel in files:
        parts = rel.split("/")[:-1]
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return folders


def is_mount_point(folder: Path) -> bool:
    """Whether `folder` is a mount point (a bind mount too), which cannot be renamed."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    if os.path.ismount(folder):
        return True
    real = os.path.realpath(folder)
    try:
        with MOUNTINFO.open(encoding="utf-8", errors="replace") as table:
            return any(_unescape(line.split()[4]) == real for line in table
                       if len(line.split()) > 4)
    except OSError:
        return False


def _unescape(field_text: str) -> str:
    """A mountinfo field, whose spaces and other such characters are octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def describe(exc: OSError) -> str:
    """An error of the file system in a user's words, with the path it concerns."""
    words = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EXDEV: "it is on another file system",
        errno.EBUSY: "it is in use (a mount point?)",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"{words}: {exc.filename}" if exc.filename else words


def nearly_full(folder: Path) -> str | None:
    """How much space is left where `folder` is, when that is almost none."""
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(folder).free
        if free < NEARLY_FULL:
            return f"the disk holding {folder} is full ({free // 1024:,} KB left)"
    return None


class WriteFailed(OutputError):
    """Writing the output failed; `changed` names the output's files left changed (none
    when it is as it was before the build)."""

    def __init__(self, out: Path, cause: str, changed: list[str]) -> None:
        if changed:
            shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more"
                                             if len(changed) > 8 else "")
            state = (f"these files in it are changed and could not be put back: {shown}; "
                     "the next build writes the output again in full")
        else:
            state = "the output is as it was"
        super().__init__(f"could not write the output in {out}: {cause}; {state}")
        self.changed = changed


class Staging:
    """A new output written beside the old one and put in its place by `publish()`;
    `discard()` leaves the old output as it was. `put()` needs nothing but this object, so
    forked workers write their pages themselves. Made under the output's lock, which it
    notes its working folders in; it refuses an output holding files no build wrote.

    With `in_place` and an output this version wrote, or an output that is a mount point,
    only changed files are staged and `publish()` moves them into the output (see the
    module's notes); otherwise the staging folder holds the whole new output, unchanged
    pages hard-linked from the old one."""

    def __init__(self, out: Path, lock: OutputLock, *, in_place: bool = False,
                 trust: bool = True) -> None:
        self.out = out.resolve()
        self.out_real = str(self.out)  # resolve() followed any links to the output itself
        self.lock = lock
        found = read_record(self.out)
        try:
            self._record_bytes: bytes | None = record_path(self.out).read_bytes()
        except OSError:
            self._record_bytes = None
        # Which files a build wrote, as the record says even when it is not trusted to reuse
        # them: a record from elsewhere can only claim files that a build would rewrite.
        known = found or _legacy_record(self.out) or Record()
        self.written_before = known.files_written()
        self.had_index = known.search_index
        self.swappable = not is_mount_point(self.out)
        # Without `trust` (an output that may not be this program's: see build.py), nothing
        # of the old output is kept, and every file is written anew.
        old = found if trust else None
        self.old = old or Record()
        self.in_place = not self.swappable or (in_place and old is not None
                                                and bool(old.fingerprint) and self.out.is_dir())
        # A new output swapped in would lose every file in the old one; an update in place
        # replaces only the files it writes, and checks those (see `_update`).
        foreign = [] if self.in_place else foreign_files(self.out, self.written_before,
                                                         self.had_index)
        if foreign:
            raise ForeignFiles(self.out, foreign)
        token = secrets.token_hex(4)
        if self.swappable:
            base, stem = self.out.parent, f".{self.out.name}.{token}"
        else:  # nothing can be renamed into a mount point from outside it
            base, stem = self.out, f".cophandbook.{token}"
        self.root = lock.claim(base / f"{stem}.staging")
        self.undo = base / f"{stem}.undo"
        self.previous = base / f"{stem}.previous"
        self.root.mkdir(parents=True)
        self.owner = os.getpid()

    def _orphaned(self) -> None:
        """A worker whose build was killed stops rather than write for nobody."""
        if os.getpid() != self.owner and os.getppid() != self.owner:
            os._exit(1)

    def put(self, rel: str, data: bytes) -> tuple[str, bool]:
        """Write one file: (its digest, True if written, False if it was the same as the
        previous output's file and is kept, or hard-linked, from it instead)."""
        self._orphaned()
        target = inside(self.root, rel)
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
        target = inside(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.out / rel, target)
        except OSError:
            return None
        return digest, False

    def publish(self, static: tuple[StaticFile, ...], record: Record,
                index: Indexer | None = None) -> int:
        """Copy the static files, let `index` write the search index of the new pages, then
        put the new output in place; the number of static files copied. Raises WriteFailed
        when the file system refuses a change (the output then is as it was, or the error
        names what changed)."""
        record.static = sorted(item.site_path for item in static)
        record.search_index = index is not None
        pending = Record(owned=sorted(self.written_before | record.files_written()),
                         search_index=self.had_index or record.search_index)
        fresh = self.root / f".{SEARCH_DIR}.new" if self.in_place else self.root / SEARCH_DIR
        try:
            copied = self._stage_static(static)
            if index is not None:
                index(self.out, self.root, fresh) if self.in_place else \
                    index(self.root, None, fresh)
        except BaseException as exc:
            full = nearly_full(self.root)
            self.discard()
            if isinstance(exc, OSError):
                raise WriteFailed(self.out, full or describe(exc), []) from exc
            if full and isinstance(exc, Exception):
                raise WriteFailed(self.out, full, []) from exc
            raise
        if self.in_place:
            self._update(record, pending, fresh if index is not None else None)
        else:
            self._swap(record, pending)
        return copied

    def _stage_static(self, static: tuple[StaticFile, ...]) -> int:
        """Copy the static files into the staging folder: all of them, or for an update in
        place those not copied there by an earlier build."""
        copied = 0
        for item in static:
            if self.in_place and _same_stamp(item.path, self.out / item.site_path):
                continue
            target = inside(self.root, item.site_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item.path, target)  # its time too: see _same_stamp
            copied += 1
        return copied

    def _update(self, record: Record, pending: Record, index: Path | None) -> None:
        staged = self._staged(index)
        foreign = [rel for rel in staged if rel not in self.written_before
                   and os.path.lexists(os.path.join(self.out_real, rel))]
        if index is not None and not self.had_index and os.path.lexists(self.out / SEARCH_DIR):
            foreign.append(f"{SEARCH_DIR}/")
        if foreign:
            self.discard()
            raise ForeignFiles(self.out, sorted(foreign))
        _write_record(self.out, pending)  # incomplete until the last line
        changes = Changes(self.out, self.lock.claim(self.undo))
        gone = sorted(self.written_before - record.files_written())
        try:
            for rel in gone:
                changes.remove(rel)
            for rel in staged:
                changes.place(self.root.joinpath(*rel.split("/")), rel)
            if index is not None:
                changes.place(index, SEARCH_DIR)
            elif self.had_index:
                changes.remove(SEARCH_DIR)
        except BaseException as exc:
            self._failed(exc, changes.roll_back())
        for rel in gone:
            remove_empty_folders(self.out.joinpath(*rel.split("/")).parent, self.out)
        self.discard()
        _write_record(self.out, record)

    def _staged(self, index: Path | None) -> list[str]:
        """The files staged for an update in place, as paths in the output."""
        found = []
        for root, folders, names in os.walk(self.root):
            if root == str(self.root) and index is not None and index.name in folders:
                folders.remove(index.name)  # put in place whole
            under = os.path.relpath(root, self.root).replace(os.sep, "/")
            found.extend(name if under == "." else f"{under}/{name}" for name in names)
        return found

    def _swap(self, record: Record, pending: Record) -> None:
        _write_record(self.out, pending)  # incomplete until the swap is done
        moved = False
        try:
            # os.replace cannot replace a non-empty folder: move the old one aside first.
            if os.path.lexists(self.out):
                os.replace(self.out, self.lock.claim(self.previous))
                moved = True
            os.replace(self.root, self.out)
        except BaseException as exc:
            left: list[str] = []
            if moved:
                try:
                    os.replace(self.previous, self.out)
                    self.lock.release(self.previous)
                except OSError:  # the next build puts it back: it is claimed
                    left = [f"the whole output, moved to {self.previous}"]
            self._failed(exc, left)
        shutil.rmtree(self.previous, ignore_errors=True)
        self.lock.release(self.previous)
        self.lock.release(self.root)  # the output now
        _write_record(self.out, record)

    def _failed(self, exc: BaseException, left: list[str]) -> None:
        """After a change to the output failed and was undone (but for `left`): the record
        is the old one again when the output is, the working folders go, and the error is
        raised as what it means for the output."""
        if not left:
            self._put_back_record()
        self.discard()
        if isinstance(exc, OSError):
            raise WriteFailed(self.out, nearly_full(self.out) or describe(exc), left) from exc
        if isinstance(exc, OutputError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(self.out, str(exc), left) from exc
        raise exc

    def _put_back_record(self) -> None:
        path = record_path(self.out)
        with contextlib.suppress(OSError):
            if self._record_bytes is None:
                path.unlink(missing_ok=True)
            else:
                _write_whole(path, self._record_bytes)

    def discard(self) -> None:
        for folder in (self.root, self.undo):
            shutil.rmtree(folder, ignore_errors=True)
            self.lock.release(folder)


def publish(files: dict[str, bytes], static: tuple[StaticFile, ...], out: Path,
            index: Indexer | None = None, record: Record | None = None) -> Published:
    """Write `files` and the static files as the new output, all at once (see Staging)."""
    with OutputLock(out) as lock:
        staging = Staging(out, lock)
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


def _write_record(out: Path, record: Record) -> None:
    path = record_path(out)
    _write_whole(path, json.dumps(record.__dict__, sort_keys=True).encode("utf-8"))


def _write_whole(path: Path, data: bytes) -> None:
    """Write `path` under another name and rename it: a reader sees the old or the new."""
    partial = path.with_name(f"{path.name}.partial")
    partial.write_bytes(data)
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
