"""Content files as parsed by the last build, kept so the next one reads only what changed.

A build already knows each content file's digest before it reads anything: the fingerprint
takes it, and does not read a file whose size and modification time have not moved (see
fingerprint.py). An entry here is keyed by that digest and the file's place, and holds what
parsing the file gave: its front matter (values with their lines), where the body starts,
and the body's own digest. So a file that did not change is neither read nor parsed again,
and its body is read only if it has to be rendered (bodytext.py).

Only files that parsed without a single problem are kept: the problems of the others must
be reported on every build, and there are few of them. The entries of one handbook are
kept in one file of its cache folder (see kept.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from cophandbook.kept import KeptEntries
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


def encode_located(value: Located) -> list[Any]:
    inner = value.value
    if isinstance(inner, dict):
        return ["m", [[key, encode_located(item)] for key, item in inner.items()],
                value.line, value.col]
    if isinstance(inner, list):
        return ["l", [encode_located(item) for item in inner], value.line, value.col]
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
    """Whether a front matter is kept: YAML can hold a few values this encoding leaves
    out, such as a mapping key that is not text or a value of another type."""
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
    as the fingerprint took it (files missing from it are read and parsed). Without a
    folder, nothing is kept: only `digests` are given (the preview's memo does the rest)."""

    def __init__(self, folder: Path | None, code: str, digests: Mapping[str, str]) -> None:
        self.digests = digests
        self._kept = KeptEntries(folder / FILE_NAME if folder else None, f"{FORMAT} {code}")

    @property
    def hits(self) -> int:
        return self._kept.hits

    def get(self, path: str, rel: str) -> Parsed | None:
        digest = self.digests.get(path)
        if digest is None:
            return None
        key = f"{rel}\0{digest}"
        entry = self._kept.get(key)
        if entry is None:
            return None
        try:
            kind, skill, slug, meta, body_line, digest, size = marshal.loads(entry)
            return Parsed(kind, skill, slug, None if meta is None else _decode_located(meta),
                          int(body_line), str(digest), int(size))
        except (ValueError, TypeError, KeyError, EOFError):
            self._kept.forget(key)
            return None

    def put(self, rel: str, digest: str, parsed: Parsed) -> None:
        """Keep what parsing gave for a file whose bytes, as read, had `digest`: not the
        fingerprint's, which may have been taken before the file changed again."""
        if not encodable(parsed.meta):
            return
        meta = None if parsed.meta is None else encode_located(parsed.meta)
        self._kept.put(f"{rel}\0{digest}", marshal.dumps(
            [parsed.kind, parsed.skill, parsed.slug, meta, parsed.body_line,
             parsed.body_digest, parsed.body_size]))

    def save(self) -> None:
        """Keep this build's entries for the next (after a build that succeeded)."""
        self._kept.save()
