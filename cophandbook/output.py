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
    target = (root / rel).resolve()
    if root.resolve() not in target.parents:
        raise OutputError(f"refusing to write outside the output folder: {rel}")
    return target


def publish(files: dict[str, bytes], static: tuple[StaticFile, ...], out: Path,
            finish: Callable[[Path], None] | None = None,
            record: Record | None = None) -> Published:
    """Write everything into a staging folder, run `finish` on it (the search index reads
    the written pages), then swap it in. Any exception leaves the previous output as it was.
    A page identical to the previous output's is hard-linked from it, not written again."""
    out = out.resolve()
    staging = out.with_name(f".{out.name}.staging")
    previous = out.with_name(f".{out.name}.previous")
    for leftover in (staging, previous):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir(parents=True)
    record = record or Record()
    old = read_record(out) or Record()
    written = unchanged = 0
    try:
        made: set[Path] = set()
        for rel, data in sorted(files.items()):
            target = _inside(staging, rel)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            digest = record.digests[rel] = _digest(data)
            if old.digests.get(rel) == digest and _link(out / rel, target, len(data)):
                unchanged += 1
                continue
            target.write_bytes(data)
            written += 1
        for item in static:
            target = _inside(staging, item.site_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.path, target)
            written += 1
        if finish is not None:
            finish(staging)
        (staging / MARKER).write_text(json.dumps(record.__dict__, sort_keys=True),
                                      encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # os.replace cannot replace a non-empty folder: move the old one aside, then swap.
    if out.exists():
        os.replace(out, previous)
    os.replace(staging, out)
    if previous.exists():
        shutil.rmtree(previous)
    return Published(written, unchanged)


def _link(source: Path, target: Path, size: int) -> bool:
    try:
        if source.stat().st_size != size:  # changed by hand since: write it anew
            return False
        os.link(source, target)
        return True
    except OSError:  # gone, or a file system without hard links
        return False
