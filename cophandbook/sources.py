"""Walk content/ in sorted order and split each Markdown file; the kind comes from its place.

Also the one walk every input folder goes through (`walk_files`), so that what is read,
published and fingerprinted agree: links that lead outside the handbook, nowhere, or to a
folder are skipped, and so are devices and pipes.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cophandbook.bodytext import BodyText
from cophandbook.diagnostics import Diagnostic, Diagnostics, Location
from cophandbook.memo import Memo
from cophandbook.model import KINDS
from cophandbook.parallel import map_chunks
from cophandbook.settings import DEFAULT_MAX_FILE_MB
from cophandbook.sourcecache import Parsed, ParsedSources, file_digest
from cophandbook.yamltext import Located, decode, split_front_matter

CONTENT_DIR = "content"
MAX_FILE_BYTES = DEFAULT_MAX_FILE_MB * 1024 * 1024  # `max_file_mb` in handbook.yml changes it
# A file or folder name under content/ becomes a piece of a URL: lowercase letters, digits,
# '-', '_' and '.', so that it needs no escaping, means the same on every file system and
# web server, and can never be '..', a '/' or a backslash, or a %-encoded form of them.
_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")


@dataclass(frozen=True)
class RawSource:
    """One content file, split but not yet validated."""

    path: Path
    rel: str  # POSIX path under content/
    kind: str
    skill: str  # skill folder it sits in, "" elsewhere
    slug: str
    meta: Located | None
    text: BodyText
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


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


Warn = Callable[[str, str, str, str], None]  # (code, message, path, hint)


def _readable_link(path: str, root: str, warning: Warn) -> bool:
    """Whether the link at `path` leads to a regular file inside `root` (a real path) and
    outside any hidden folder such as .git/: a link may give a file a second name, never
    publish what the handbook does not hold. Says why not through `warning`."""
    shown = os.readlink(path)
    try:
        target = os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):  # missing, or links that loop
        warning("broken-symlink", f"link to '{shown}' leads nowhere (its target is missing, "
                "or links lead to each other); it is skipped", path,
                "remove the link, or copy the file here in its place")
        return False
    if os.path.isdir(target):
        warning("symlink-folder", f"link to the folder '{shown}' is not followed", path,
                "copy the folder here instead of linking to it")
        return False
    under = target[len(root):].split(os.sep) if _inside(target, root) else None
    if under is None or any(part.startswith(".") for part in under):
        warning("symlink-outside", f"link to '{shown}' leads outside the handbook's files; "
                "it is not read or published", path,
                "copy the file into the handbook in place of the link")
        return False
    if not stat.S_ISREG(os.stat(target).st_mode):
        warning("special-file", "link to a device, pipe or socket; it is skipped", path,
                "remove it: only regular files are read")
        return False
    return True


def walk_files(folder: Path, site: Path, problems: Diagnostics | None = None, *,
               skip_hidden: bool = False) -> list[tuple[str, str]]:
    """(path, its POSIX path under `folder`) of every regular file a build may read under
    `folder`: each folder's files by name, then its subfolders by name. Links are followed
    only to files inside `site`; the rest, and devices and pipes, are skipped with a warning
    in `problems` when given. `skip_hidden` leaves out names starting with '.' and folders
    starting with '_' (drafts). Never loops: links to folders are not followed."""
    root = os.path.realpath(site)

    def warning(code: str, message: str, path: str, hint: str) -> None:
        if problems is not None:
            problems.warning(code, message, Location(Path(path)), hint)

    top = str(folder)
    if os.path.islink(top) and not _inside(os.path.realpath(top), root):
        # The folder itself leads elsewhere (static/ → ~/.ssh): publish none of it.
        if problems is not None:
            problems.error("symlink-outside", f"{folder.name}/ is a link that leads outside "
                           "the handbook folder; nothing in it is read", Location(folder),
                           f"make {folder.name}/ a real folder inside the handbook")
        return []
    if not os.path.isdir(top):
        return []
    found: list[tuple[str, str]] = []

    def visit(current: str, under: str) -> None:
        try:
            with os.scandir(current) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            warning("unreadable-folder", f"folder cannot be read: {exc.strerror}", current,
                    "check its permissions")
            return
        folders = []
        for entry in entries:
            name = entry.name
            if skip_hidden and name.startswith("."):
                continue
            rel = f"{under}{name}"
            try:
                if entry.is_symlink():
                    if _readable_link(entry.path, root, warning):
                        found.append((entry.path, rel))
                elif entry.is_dir(follow_symlinks=False):
                    if not (skip_hidden and name.startswith("_")):
                        folders.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    found.append((entry.path, rel))
                else:
                    warning("special-file", "a device, pipe or socket, not a file; it is "
                            "skipped", entry.path, "remove it: only regular files are read")
            except OSError as exc:  # vanished while walking, or no permission
                warning("unreadable-folder", f"cannot be read: {exc.strerror}", entry.path,
                        "check its permissions")
        for path, rel in folders:
            visit(path, rel)

    visit(top, "")
    return found


def suggest_name(name: str) -> str:
    """A name `_NAME_RE` accepts, close to `name`: 'My Guide?' → 'my-guide'."""
    cleaned = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")
    return cleaned or "page"


def name_problem(rel: PurePosixPath) -> str | None:
    """The first folder or file name (without .md) of `rel` that cannot be part of a URL."""
    for part in (*rel.parts[:-1], rel.stem):
        if not _NAME_RE.match(part) or ".." in part or part.endswith("."):
            return part
    return None


def _markdown_files(content: Path, site: Path, problems: Diagnostics) -> list[tuple[str, str]]:
    """(path, POSIX path under content/) of each Markdown file, in the order of their
    paths' parts. Plain strings: a large handbook has tens of thousands of them."""
    found: list[tuple[str, str]] = []
    for name, rel in walk_files(content, site, problems, skip_hidden=True):
        if rel.endswith(".md"):
            found.append((name, rel))
        else:
            problems.warning(
                "not-markdown",
                "content/ holds Markdown files only; this file is not published",
                Location(Path(name)),
                "put images, recordings and PDFs in static/",
            )
    return sorted(found, key=lambda file: file[1].split("/"))


# The preview checks the same ten thousand names on every rebuild: each is judged once.
@functools.lru_cache(maxsize=1 << 16)
def _plain_name(rel: str) -> bool:
    return all(_NAME_RE.match(part) and ".." not in part and not part.endswith(".")
               for part in rel.removesuffix(".md").split("/"))


def _check_names(files: list[tuple[str, str]], problems: Diagnostics) -> list[tuple[str, str]]:
    """The files whose names can be URLs; the others are reported and not read."""
    good = []
    for path, rel_text in files:
        if _plain_name(rel_text):
            good.append((path, rel_text))  # the common case, without PurePosixPath
            continue
        rel = PurePosixPath(rel_text)
        bad = name_problem(rel)
        if bad is None:
            good.append((path, rel_text))
            continue
        fixed = "/".join(suggest_name(part) for part in rel.with_suffix("").parts) + ".md"
        what = "file" if bad == rel.stem else "folder"
        problems.error(
            "invalid-filename",
            f"the {what} name '{bad}' cannot be part of a page's address",
            Location(Path(path)),
            f"use lowercase letters, digits, '-', '_' and '.': rename it to content/{fixed}",
        )
    return good


def _load(path: Path, max_bytes: int, problems: Diagnostics) -> bytes | None:
    """The file's bytes, or None (reported) when it is over `max_bytes`: a huge file is
    never read into memory, and one that grows while it is read is cut off at the limit."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
            size = max(len(data), os.fstat(file.fileno()).st_size)
    except OSError as exc:
        problems.error("unreadable-file", f"file cannot be read: {exc.strerror}",
                       Location(path), "check its permissions")
        return None
    if len(data) > max_bytes:
        _too_large(path, size, max_bytes, problems)
        return None
    return data


def _too_large(path: Path, size: int, max_bytes: int, problems: Diagnostics) -> None:
    problems.error(
        "file-too-large",
        f"file is {_size(size, up=True)}; the limit is {_size(max_bytes, up=False)}",
        Location(path),
        "split it, or put large media in static/ and link to it "
        "(or raise 'max_file_mb' in handbook.yml)",
    )


def _size(size: int, *, up: bool) -> str:
    """'5.1 MB', '2 KB': a file's size rounded up and a limit's rounded down, so a file
    just over the limit never reads as the same size as the limit."""
    tenths = size * 10 / (1024 * 1024)
    if tenths >= 10:
        value = (math.ceil(tenths) if up else math.floor(tenths)) / 10
        return f"{value:.1f}".removesuffix(".0") + " MB"
    kilobytes = size / 1024
    return f"{math.ceil(kilobytes) if up else math.floor(kilobytes)} KB"


def parse_source(data: bytes, path: Path, rel: PurePosixPath, problems: Diagnostics,
                 updated: dt.date | None = None,
                 max_bytes: int = MAX_FILE_BYTES) -> RawSource | None:
    """One file's bytes → a split, typed-by-place source; a pure function of its arguments."""
    if len(data) > max_bytes:
        _too_large(path, len(data), max_bytes, problems)
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
        text=BodyText.of(path, split.body_line, split.body),
        body_line=split.body_line,
        updated=updated,
    )


@dataclass(frozen=True)
class Discovery:
    sources: list[RawSource]  # the files that could be read and split
    files: frozenset[str]  # every Markdown file under content/, readable or not


def _read(name: str, rel: str, problems: Diagnostics, updated: dt.date | None,
          memo: Memo, max_bytes: int, parsed: ParsedSources | None) -> RawSource | None:
    """A file parsed, from `memo` when it holds the file's content, else from what an
    earlier build kept (`parsed`): both known without reading the file when the
    fingerprint took its digest."""
    # Keyed by the name as a string: a Path for each file of a large handbook is a
    # noticeable part of every rebuild, and only a file the memo lacks needs one.
    planned = parsed.digests.get(name) if parsed else None
    if planned is not None:
        key = ("source", name, planned, updated, max_bytes)
        if memo.has(key):
            return memo.replay(key, problems, lambda _: None)
        if parsed is not None and (hit := parsed.get(name, rel)) is not None:
            # Kept only when it parsed without a problem: there are none to replay.
            return memo.replay(key, problems,
                               lambda _: _from_parsed(Path(name), rel, hit, updated))
    path = Path(name)
    data = _load(path, max_bytes, problems)
    if data is None:
        return None
    digest = file_digest(data)
    if planned is not None and digest != planned:
        _changed(path, problems)
    key = ("source", name, digest, updated, max_bytes)
    return memo.replay(key, problems, lambda found: parse_source(
        data, path, PurePosixPath(rel), found, updated, max_bytes))


def _changed(path: Path, problems: Diagnostics) -> None:
    # The build's fingerprint saw other bytes: its record would claim an output of a
    # version of the file that it does not hold.
    problems.error("changed-during-build", "the file changed while the handbook was being "
                   "built", Location(path), "build again")


def _from_parsed(path: Path, rel: str, parsed: Parsed, updated: dt.date | None) -> RawSource:
    return RawSource(path, rel, parsed.kind, parsed.skill, parsed.slug, parsed.meta,
                     BodyText(path, parsed.body_line, parsed.body_digest, parsed.body_size),
                     parsed.body_line, updated)


def _parsed(source: RawSource) -> Parsed:
    return Parsed(source.kind, source.skill, source.slug, source.meta, source.body_line,
                  source.text.digest, source.text.size)


# One file read by a worker: what it parsed to (its body's text left behind: see
# bodytext.py), the problems found, and the digest of the bytes read.
_Read = tuple[RawSource | None, list[Diagnostic], str]


def discover(site: Path, problems: Diagnostics, updated: Mapping[str, dt.date] | None = None,
             memo: Memo | None = None, max_bytes: int = MAX_FILE_BYTES,
             parsed: ParsedSources | None = None) -> Discovery:
    """`updated` maps paths under content/ to the date they last changed (from git); `memo`
    keeps parsed files between builds in one process, keyed by their content, and `parsed`
    between processes (see sourcecache.py); with both, the memo is asked first, and
    `parsed` then saves reading the files the memo lacks. `max_bytes` is the largest file read
    (`Settings.max_file_bytes`)."""
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
    found_files = _markdown_files(content, site, problems)
    rels = frozenset(rel for _, rel in found_files)
    # Files with names that cannot be URLs count as present (links to them are not broken
    # too) but are not read.
    files = _check_names(found_files, problems)
    if memo is not None:
        sources = _read_with_memo(files, problems, updated, memo, max_bytes, parsed)
    else:
        sources = _read_in_workers(files, problems, updated, max_bytes, parsed)
    return Discovery(sources, rels)


def _read_with_memo(files: list[tuple[str, str]], problems: Diagnostics,
                    updated: Mapping[str, dt.date], memo: Memo, max_bytes: int,
                    parsed: ParsedSources | None) -> list[RawSource]:
    """Each file in this process, from the memo where it holds the file: a process that
    builds again and again (the preview server) keeps its files parsed there."""
    sources = []
    for name, rel in files:
        source = _read(name, rel, problems, updated.get(rel), memo, max_bytes, parsed)
        if source is not None:
            sources.append(source)
    return sources


def _read_in_workers(files: list[tuple[str, str]], problems: Diagnostics,
                     updated: Mapping[str, dt.date], max_bytes: int,
                     parsed: ParsedSources | None) -> list[RawSource]:
    """Each file from what an earlier build kept, or else read and parsed in workers, and
    kept for the next build when it parsed without a problem and did not change meanwhile."""
    known, missing = _kept(files, updated, parsed)

    def read_chunk(chunk: Sequence[tuple[str, str]]) -> list[_Read]:
        return [_read_alone(name, rel, updated.get(rel), max_bytes) for name, rel in chunk]

    for (name, rel), (source, found, digest) in zip(missing, map_chunks(read_chunk, missing),
                                                     strict=True):
        problems.items.extend(found)
        planned = parsed.digests.get(name) if parsed else None
        changed = bool(planned and digest and digest != planned)
        if changed:
            _changed(Path(name), problems)
        if source is not None:
            known[rel] = source
            if parsed is not None and not found and not changed:
                parsed.put(rel, digest, _parsed(source))
    return [known[rel] for _, rel in files if rel in known]


def _kept(files: list[tuple[str, str]], updated: Mapping[str, dt.date],
          parsed: ParsedSources | None
          ) -> tuple[dict[str, RawSource], list[tuple[str, str]]]:
    """The files an earlier build kept, by their path under content/, and the others."""
    known: dict[str, RawSource] = {}
    missing: list[tuple[str, str]] = []
    for name, rel in files:
        hit = parsed.get(name, rel) if parsed else None
        if hit is None:
            missing.append((name, rel))
        else:
            known[rel] = _from_parsed(Path(name), rel, hit, updated.get(rel))
    return known, missing


def _read_alone(name: str, rel: str, updated: dt.date | None, max_bytes: int) -> _Read:
    """One file read and parsed in a worker, with the problems it has."""
    found = Diagnostics()
    path = Path(name)
    data = _load(path, max_bytes, found)
    source = None if data is None else parse_source(
        data, path, PurePosixPath(rel), found, updated, max_bytes)
    if source is not None:
        source.text.release()  # read again where it is rendered
    return source, found.items, file_digest(data) if data else ""
