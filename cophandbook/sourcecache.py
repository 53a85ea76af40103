"""Content files as parsed by the last build, kept so the next one reads only what changed.

A build already knows each content file's digest before it reads anything: the fingerprint
takes it, and does not read a file whose size and modification time have not moved (see
fingerprint.py). An entry here is keyed by that digest and the file's place, and holds what
parsing the file gave: its front matter (values with their lines), where the body starts,
and the body's own digest. So a file that did not change is neither read nor parsed again,
and its body is read only if it has to be rendered (bodytext.py).

Only files that parsed without a single problem are kept: the problems of the others must
be reported on every build, and there are few of them. The entries of one handbook live in
one file of JSON lines in its body cache folder (never pickle, which would run code from a
file), under the digest of the code that parsed them, and the file is rewritten after each
build that succeeds with just the entries it used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from cophandbook.yamltext import Located

FORMAT = 1
FILE_NAME = "sources.index"


def file_digest(data: bytes) -> str:
    """A file's digest, as the fingerprint takes it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Parsed(NamedTuple):
    """What parsing one file gave, but its body's text."""

    kind: str
    skill: str
    slug: str
    meta: Located | None
    body_line: int
    body_digest: str
    body_size: int


def _encode_located(value: Located) -> list[Any]:
    inner = value.value
    if isinstance(inner, dict):
        return ["m", [[key, _encode_located(item)] for key, item in inner.items()],
                value.line, value.col]
    if isinstance(inner, list):
        return ["l", [_encode_located(item) for item in inner], value.line, value.col]
    if isinstance(inner, dt.datetime):
        return ["t", inner.isoformat(), value.line, value.col]
    if isinstance(inner, dt.date):
        return ["d", inner.isoformat(), value.line, value.col]
    return ["v", inner, value.line, value.col]


def _decode_located(raw: list[Any]) -> Located:
    tag, inner, line, col = raw
    if tag == "m":
        return Located({key: _decode_located(item) for key, item in inner}, line, col)
    if tag == "l":
        return Located([_decode_located(item) for item in inner], line, col)
    if tag == "t":
        return Located(dt.datetime.fromisoformat(inner), line, col)
    if tag == "d":
        return Located(dt.date.fromisoformat(inner), line, col)
    return Located(inner, line, col)


def encodable(value: Located | None) -> bool:
    """Whether a front matter survives the trip through JSON unchanged (YAML can hold a
    few values JSON cannot, such as a mapping key that is not text; those are not kept)."""
    if value is None:
        return True
    inner = value.value
    if isinstance(inner, dict):
        return all(isinstance(k, str) and encodable(v) for k, v in inner.items())
    if isinstance(inner, list):
        return all(encodable(item) for item in inner)
    return inner is None or isinstance(inner, str | int | float | bool | dt.date)


class ParsedSources:
    """Entries by (rel, file digest); `digests` maps a file's path to its content digest
    as the fingerprint took it (files missing from it are read and parsed)."""

    def __init__(self, folder: Path, code: str, digests: Mapping[str, str]) -> None:
        self.file = folder / FILE_NAME
        self.code = code
        self.digests = digests
        self._old: dict[str, str] | None = None  # entries as JSON, by key
        self._new: dict[str, str] = {}
        self.hits = 0

    def _load(self) -> dict[str, str]:
        if self._old is None:
            self._old = {}
            try:
                lines = self.file.read_text(encoding="utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                return self._old  # every file is parsed again
            if lines[0] == f"{FORMAT} {self.code}":
                for line in lines[1:]:
                    key, _, entry = line.partition("\t")
                    if entry:
                        self._old[key] = entry
        return self._old

    def get(self, path: str, rel: str) -> Parsed | None:
        digest = self.digests.get(path)
        if digest is None:
            return None
        key = f"{rel}\0{digest}"
        entry = self._load().get(key)
        if entry is None:
            return None
        try:
            kind, skill, slug, meta, body_line, digest, size = json.loads(entry)
            parsed = Parsed(kind, skill, slug, None if meta is None else _decode_located(meta),
                            int(body_line), str(digest), int(size))
        except (ValueError, TypeError, KeyError):
            return None
        self._new[key] = entry
        self.hits += 1
        return parsed

    def put(self, rel: str, digest: str, parsed: Parsed) -> None:
        """Keep what parsing gave for a file whose bytes, as read, had `digest`: not the
        fingerprint's, which may have been taken before the file changed again."""
        if not encodable(parsed.meta):
            return
        meta = None if parsed.meta is None else _encode_located(parsed.meta)
        self._new[f"{rel}\0{digest}"] = json.dumps(
            [parsed.kind, parsed.skill, parsed.slug, meta, parsed.body_line,
             parsed.body_digest, parsed.body_size])

    def save(self) -> None:
        """Keep this build's entries for the next (after a build that succeeded): one line
        each, `rel NUL digest TAB entry as JSON`, after a line naming the format and the
        code that wrote them. Lines, so that unchanged entries are copied, not encoded."""
        lines = [f"{FORMAT} {self.code}", *(f"{key}\t{entry}" for key, entry in self._new.items())]
        partial = self.file.with_name(f"{self.file.name}.{os.getpid()}.partial")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text("\n".join(lines), encoding="utf-8")
            os.replace(partial, self.file)
        except OSError:
            partial.unlink(missing_ok=True)  # that only costs the next build time
