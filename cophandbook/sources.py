"""Walk content/ in sorted order and split each Markdown file; the kind comes from its place."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cophandbook.diagnostics import Diagnostic, Diagnostics, Location
from cophandbook.memo import Memo
from cophandbook.model import KINDS
from cophandbook.parallel import map_chunks
from cophandbook.yamltext import Located, decode, split_front_matter

CONTENT_DIR = "content"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class RawSource:
    """One content file, split but not yet validated."""

    path: Path
    rel: str  # POSIX path under content/
    kind: str
    skill: str  # skill folder it sits in, "" elsewhere
    slug: str
    meta: Located | None
    body: str
    body_line: int
    updated: dt.date | None = None  # last commit that touched the file, when known


def kind_from_place(rel: PurePosixPath) -> tuple[str, str]:
    """(kind, skill id) implied by a file's place under content/."""
    parts = rel.parts
    if len(parts) >= 3 and parts[0] == "skills":
        skill = parts[1]
        if len(parts) == 3 and parts[2] == "index.md":
            return "skill", skill
        if len(parts) == 3 and parts[2] == "rubric.md":
            return "rubric", skill
        if len(parts) == 4 and parts[2] == "exemplars":
            return "exemplar", skill
        if len(parts) == 4 and parts[2] == "exercises":
            return "exercise", skill
        return "page", skill
    if len(parts) == 2 and parts[0] == "sessions":
        return "session", ""
    return "page", ""


def _markdown_files(content: Path, problems: Diagnostics) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(content):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder, name)
            if name.endswith(".md"):
                found.append(path)
            else:
                problems.warning(
                    "not-markdown",
                    "content/ holds Markdown files only; this file is not published",
                    Location(path),
                    "put images, recordings and PDFs in static/",
                )
    return sorted(found)


def parse_source(data: bytes, path: Path, rel: PurePosixPath, problems: Diagnostics,
                 updated: dt.date | None = None) -> RawSource | None:
    """One file's bytes → a split, typed-by-place source; a pure function of its arguments."""
    if len(data) > MAX_FILE_BYTES:
        problems.error(
            "file-too-large",
            f"file is {len(data) // 1024} KB; the limit is {MAX_FILE_BYTES // 1024} KB",
            Location(path),
            "split it, or put large media in static/",
        )
        return None
    text = decode(data, path, problems)
    if text is None:
        return None
    split = split_front_matter(text, path, problems)
    if split is None:
        return None
    kind, skill = kind_from_place(rel)
    if split.meta is not None and "type" in split.meta.value:
        declared = split.meta.value["type"]
        if declared.value in KINDS:
            kind = declared.value
        else:
            problems.error(
                "unknown-type",
                f"unknown type '{declared.value}'",
                Location(path, declared.line, declared.col),
                f"valid: {', '.join(KINDS)}",
            )
            return None
    return RawSource(
        path=path,
        rel=rel.as_posix(),
        kind=kind,
        skill=skill,
        slug=rel.stem,
        meta=split.meta,
        body=split.body,
        body_line=split.body_line,
        updated=updated,
    )


@dataclass(frozen=True)
class Discovery:
    sources: list[RawSource]  # the files that could be read and split
    files: frozenset[str]  # every Markdown file under content/, readable or not


def _read(path: Path, rel: PurePosixPath, problems: Diagnostics, updated: dt.date | None,
          memo: Memo) -> RawSource | None:
    data = path.read_bytes()
    key = ("source", path, hashlib.blake2b(data, digest_size=16).digest(), updated)
    return memo.replay(key, problems, lambda found: parse_source(data, path, rel, found, updated))


def discover(site: Path, problems: Diagnostics, updated: Mapping[str, dt.date] | None = None,
             memo: Memo | None = None) -> Discovery:
    """`updated` maps paths under content/ to the date they last changed (from git); `memo`
    keeps parsed files between builds, keyed by their content."""
    content = site / CONTENT_DIR
    updated = updated or {}
    if not content.is_dir():
        problems.error(
            "missing-content",
            f"no {CONTENT_DIR}/ folder in {site}",
            Location(content),
            "put the handbook's Markdown files in content/",
        )
        return Discovery([], frozenset())
    files = _markdown_files(content, problems)
    rels = [path.relative_to(content).as_posix() for path in files]
    sources = []
    if memo is None:
        def read_chunk(chunk: Sequence[tuple[Path, str]]
                       ) -> list[tuple[RawSource | None, list[Diagnostic]]]:
            results = []
            for path, rel in chunk:
                found = Diagnostics()
                results.append((parse_source(path.read_bytes(), path, PurePosixPath(rel),
                                             found, updated.get(rel)), found.items))
            return results

        for source, found in map_chunks(read_chunk, list(zip(files, rels, strict=True))):
            problems.items.extend(found)
            if source is not None:
                sources.append(source)
        return Discovery(sources, frozenset(rels))
    for path, rel in zip(files, rels, strict=True):
        source = _read(path, PurePosixPath(rel), problems, updated.get(rel), memo)
        if source is not None:
            sources.append(source)
    return Discovery(sources, frozenset(rels))
