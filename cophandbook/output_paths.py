"""Paths in an output folder, checked before anything is written there."""

from __future__ import annotations

from pathlib import Path


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


def inside(root: Path, rel: str) -> Path:
    """`root/rel`, refusing any `rel` that could lead out of it by its words (`..`, an
    absolute path, a backslash). Links on the way are checked where they can exist."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise OutputError(f"refusing to write outside the output folder: {rel}")
    return root.joinpath(*parts)
