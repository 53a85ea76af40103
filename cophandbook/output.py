"""Stage 5: write everything to a staging folder beside the output, then swap it in.

The previous output is only touched once the new one is complete on disk, so a failed
build leaves it byte-identical.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from cophandbook.routes import StaticFile

MARKER = ".cophandbook-output"


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


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
            finish: Callable[[Path], None] | None = None) -> None:
    """Write everything into a staging folder, run `finish` on it (the search index reads
    the written pages), then swap it in. Any exception leaves the previous output as it was."""
    out = out.resolve()
    staging = out.with_name(f".{out.name}.staging")
    previous = out.with_name(f".{out.name}.previous")
    for leftover in (staging, previous):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir(parents=True)
    try:
        for rel, data in sorted(files.items()):
            target = _inside(staging, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for item in static:
            target = _inside(staging, item.site_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.path, target)
        if finish is not None:
            finish(staging)
        (staging / MARKER).write_text("This folder is written by cophandbook build.\n")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # os.replace cannot replace a non-empty folder: move the old one aside, then swap.
    if out.exists():
        os.replace(out, previous)
    os.replace(staging, out)
    if previous.exists():
        shutil.rmtree(previous)
