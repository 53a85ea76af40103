"""Stage 5: write everything to a staging folder beside the output, then swap it in.

The previous output is only touched once the new one is complete on disk, so a failed
build leaves it byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cophandbook.routes import StaticFile

MARKER = ".cophandbook-output"


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


@dataclass
class Record:
    """What a build left in its output folder's marker: the fingerprint of its inputs, a
    digest of every page it wrote, its counts and the problems it reported."""

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


def read_record(out: Path) -> Record | None:
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
        return Record(**{key: data[key] for key in Record.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no output yet, or one from an older version: nothing to reuse


def restamp(out: Path, record: Record, stamps: dict[str, list[object]],
            stamped_ns: int) -> None:
    """Keep fresher input stamps in the marker of an output that is otherwise unchanged, so
    files that were too new to trust last time need not be read again next time."""
    record.stamps, record.stamped_ns = stamps, stamped_ns
    partial = out / f"{MARKER}.partial"
    partial.write_text(json.dumps(record.__dict__, sort_keys=True), encoding="utf-8")
    os.replace(partial, out / MARKER)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Published:
    written: int  # files written anew
    unchanged: int  # pages identical to the previous output's, linked rather than rewritten


def check_output_folder(site: Path, out: Path) -> None:
    site, out = site.resolve(), out.resolve()
    if out == site or out in site.parents:
        raise OutputError(f"the output folder {out} would replace the handbook itself")
    for inner in ("content", "static", "templates"):
        folder = site / inner
        if out == folder or folder in out.parents or out in folder.parents:
            raise OutputError(f"the output folder {out} overlaps {inner}/")
    if out.exists() and not out.is_dir():
        raise OutputError(f"the output path {out} is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
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
    """A new output written beside the old one (`.<out>.staging`) and swapped in whole by
    `publish()`; `discard()` leaves the old output as it was. `put()` needs nothing but this
    object, so forked workers write their pages themselves."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.root = self.out.with_name(f".{self.out.name}.staging")
        self.previous = self.out.with_name(f".{self.out.name}.previous")
        for leftover in (self.root, self.previous):
            if leftover.exists():
                shutil.rmtree(leftover)
        self.root.mkdir(parents=True)
        self.old = read_record(self.out) or Record()

    def put(self, rel: str, data: bytes) -> tuple[str, bool]:
        """Write one file: (its digest, True if written, False if it was the same as the
        previous output's file and is hard-linked from it instead)."""
        target = _inside(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = _digest(data)
        if self.old.digests.get(rel) == digest and _link(self.out / rel, target, len(data)):
            return digest, False
        target.write_bytes(data)
        return digest, True

    def keep(self, rel: str) -> tuple[str, bool] | None:
        """Link the previous output's `rel` into the new one unchanged: what `put()` would
        have returned, or None when it is not there as the previous build left it."""
        digest = self.old.digests.get(rel)
        if digest is None:
            return None
        target = _inside(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.out / rel, target)
        except OSError:
            return None
        return digest, False

    def publish(self, static: tuple[StaticFile, ...], record: Record,
                finish: Callable[[Path], None] | None = None) -> int:
        """Copy the static files, run `finish` on the complete folder (the search index
        reads the written pages), then swap it in; the number of static files copied."""
        try:
            for item in static:
                target = _inside(self.root, item.site_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item.path, target)
            if finish is not None:
                finish(self.root)
            (self.root / MARKER).write_text(json.dumps(record.__dict__, sort_keys=True),
                                            encoding="utf-8")
        except BaseException:
            self.discard()
            raise
        # os.replace cannot replace a non-empty folder: move the old one aside, then swap.
        if self.out.exists():
            os.replace(self.out, self.previous)
        os.replace(self.root, self.out)
        if self.previous.exists():
            shutil.rmtree(self.previous)
        return len(static)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def publish(files: dict[str, bytes], static: tuple[StaticFile, ...], out: Path,
            finish: Callable[[Path], None] | None = None,
            record: Record | None = None) -> Published:
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
    return Published(written + staging.publish(static, record, finish), unchanged)


def _link(source: Path, target: Path, size: int) -> bool:
    try:
        if source.stat().st_size != size:  # changed by hand since: write it anew
            return False
        os.link(source, target)
        return True
    except OSError:  # gone, or a file system without hard links
        return False
