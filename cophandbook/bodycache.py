"""Rendered Markdown bodies kept on disk between builds, so a rebuild renders only the bodies
whose text, or what they link against, changed.

An entry's key digests everything its rendering depends on (see `body_key`), so an entry is
either right or never looked up; nothing is invalidated by hand. Entries are plain JSON,
compressed: never pickle, which would run code from a file. They live outside the handbook
by default (`~/.cache/cophandbook/`, or COPHANDBOOK_CACHE): a cache inside the site folder
could arrive in a pull request with forged entries, whose HTML would be published as is.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import zlib
from pathlib import Path

from cophandbook.kept import KeptEntries
from cophandbook.markdown import (
    Annotation,
    BodyNote,
    Heading,
    Link,
    Mark,
    Outline,
    RenderedBody,
)

FORMAT = 4
PACKAGE = Path(__file__).resolve().parent


def default_folder(site: Path) -> Path:
    """The cache of one handbook: COPHANDBOOK_CACHE, else the user's cache folder; a
    subfolder named after the handbook's path, so handbooks never share entries."""
    base = os.environ.get("COPHANDBOOK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "cophandbook")
    name = hashlib.blake2b(str(site.resolve()).encode(), digest_size=8).hexdigest()
    return Path(base) / name


def _code_digest() -> str:
    """cophandbook's code and the Markdown libraries' versions: a new release of either may
    render the same text differently."""
    # Imported here: importlib.metadata is slow to import, and a build with nothing to do
    # would pay for it.
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.read_bytes())
    for package in ("markdown-it-py", "mdit-py-plugins"):
        try:
            digest.update(f"{package} {version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    return digest.hexdigest()


def body_key(code: str, context: str, rel: str, body_digest: str, body_line: int) -> str:
    text = f"{FORMAT}\0{code}\0{context}\0{rel}\0{body_line}\0{body_digest}"
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


# An entry is two compressed JSON parts: the outline (headings, annotation marks, links,
# notes),
# which every build reads, then the HTML, read only for the pages being rendered. A 4-byte
# length before the outline says where the HTML starts.
def _encode(body: RenderedBody) -> bytes:
    outline = body.outline()
    head = zlib.compress(json.dumps([outline.headings, outline.marks, body.links,
                                     outline.notes]).encode(), 1)
    texts = [body.html, [[a.note_html, a.passage_html] for a in body.annotations]]
    return len(head).to_bytes(4, "big") + head + zlib.compress(json.dumps(texts).encode(), 1)


def _outline(raw: bytes) -> Outline:
    size = int.from_bytes(raw[:4], "big")
    return _outline_of(json.loads(zlib.decompress(raw[4:4 + size])))


def _outline_of(parts: list[list[list[object]]]) -> Outline:
    headings, marks, links, notes = parts
    # Types are not checked one by one: an entry is only read back by the version that
    # wrote it (the key holds cophandbook's code), and a damaged one fails to decompress.
    return Outline.of(tuple(map(Heading._make, headings)), tuple(map(Mark._make, marks)),
                      links, tuple(map(BodyNote._make, notes)))


def _kept_outline(raw: bytes) -> Outline:
    headings, marks, packed_links, notes = marshal.loads(raw)
    if not isinstance(packed_links, bytes):
        raise TypeError("links are not packed")
    return Outline(tuple(map(Heading._make, headings)), tuple(map(Mark._make, marks)),
                   packed_links, tuple(map(BodyNote._make, notes)))


def _decode(raw: bytes) -> RenderedBody:
    size = int.from_bytes(raw[:4], "big")
    headings, marks, links, notes = json.loads(zlib.decompress(raw[4:4 + size]))
    html, texts = json.loads(zlib.decompress(raw[4 + size:]))
    if len(texts) != len(marks):
        raise ValueError("annotations do not match")
    return RenderedBody(
        str(html), tuple(map(Heading._make, headings)),
        tuple(Annotation(criterion, anchor, note, passage, line)
              for (criterion, anchor, line), (note, passage) in zip(marks, texts, strict=True)),
        tuple(map(Link._make, links)), tuple(map(BodyNote._make, notes)))


OUTLINES_FILE = "outlines.index"


class BodyCache:
    """Entries by key, one file each; beside them, the outlines of the last build's
    entries in one file (see kept.py), which a build reads whole rather than open
    thousands of files for a few hundred bytes each."""

    def __init__(self, folder: Path, *, read_only: bool = False) -> None:
        self.folder = folder
        self.read_only = read_only  # `check`: entries are read, none written
        self.code = _code_digest()
        self._outlines = KeptEntries(folder / OUTLINES_FILE, f"{FORMAT} {self.code}")

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.z"

    def get(self, key: str) -> RenderedBody | None:
        try:
            return _decode(self._path(key).read_bytes())
        except (OSError, ValueError, KeyError, TypeError, zlib.error):
            return None  # missing or unreadable: render it again

    def get_outline(self, key: str) -> Outline | None:
        indexed = self._outlines.get(key)
        if indexed is not None:
            try:
                return _kept_outline(indexed)
            except (ValueError, KeyError, TypeError, EOFError):
                self._outlines.forget(key)
        try:
            with self._path(key).open("rb") as file:
                size = int.from_bytes(file.read(4), "big")
                return _outline(size.to_bytes(4, "big") + file.read(size))
        except (OSError, ValueError, KeyError, TypeError, zlib.error):
            return None

    def put(self, key: str, body: RenderedBody) -> bool:
        """Keep `body`; False if the cache cannot be written (that only costs time)."""
        if self.read_only:
            return False
        path = self._path(key)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(_encode(body))
            os.replace(partial, path)
        except OSError:
            return False
        return True

    def keep_outlines(self, outlines: dict[str, Outline]) -> None:
        """Write the outlines of this build's entries into one file, for the next build
        (those read from it are kept as they were)."""
        for key, outline in outlines.items():
            if self._outlines.get(key) is None:
                self._outlines.put(key, marshal.dumps((  # of tuples: not of named ones
                    list(map(tuple, outline.headings)), list(map(tuple, outline.marks)),
                    outline.packed_links, list(map(tuple, outline.notes)))))
        self._outlines.save()

    def keep_only(self, keys: set[str]) -> None:
        """Remove the entries this build did not use (after a build that succeeded)."""
        if not self.folder.is_dir():
            return
        for sub in self.folder.iterdir():
            if len(sub.name) != 2 or not sub.is_dir():
                continue  # not a folder of entries (compiled templates, say)
            for entry in sub.iterdir():
                if entry.name.split(".", 1)[0] not in keys:
                    entry.unlink(missing_ok=True)
