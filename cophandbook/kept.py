"""Entries kept from one build for the next, in one file of the handbook's cache folder.

The file is one marshalled pair: a header naming what wrote it (the code's digest), and the
entries, each a key and a value marshalled by its owner. A file written by other code is
ignored whole. Values stay as their bytes until they are asked for, so a build copies the
entries it reuses rather than encoding them again, and decoding one is a single C call
(JSON was slower: see docs/benchmarks.md). marshal rather than
pickle: it builds nothing but plain values. The cache folder is trusted as the user's home
is (docs/security.md), since compiled templates are kept there too.

A key must digest everything its value depends on, so an entry is right or never looked up;
`save` keeps only the entries this build used or added, so the file never outgrows the
handbook. Losing the file, or any entry of it, costs the next build time and nothing else.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path


class KeptEntries:
    """Without a file, the entries of the build before are given (`entries`), and this
    build's are taken from `kept()` (the preview server keeps them in memory)."""

    def __init__(self, file: Path | None, version: str = "",
                 entries: dict[str, bytes] | None = None) -> None:
        self.file = file
        self.header = version
        self._old: dict[str, bytes] | None = entries
        self._new: dict[str, bytes] = {}
        self.hits = 0

    def _load(self) -> dict[str, bytes]:
        if self._old is None:
            self._old = {}
            if self.file is None:
                return self._old
            try:
                header, entries = marshal.loads(self.file.read_bytes())
            except (OSError, ValueError, EOFError, TypeError):  # missing, damaged, not a pair
                return self._old
            if header == self.header and isinstance(entries, dict):
                self._old = entries
        return self._old

    def get(self, key: str) -> bytes | None:
        """The value kept under `key`, which is then kept again by `save`."""
        value = self._load().get(key)
        if value is not None:
            self._new[key] = value
            self.hits += 1
        return value

    def forget(self, key: str) -> None:
        """Do not keep `key` after all (its value could not be read)."""
        self._new.pop(key, None)

    def kept(self) -> dict[str, bytes]:
        """This build's entries: those it used, and those it added."""
        return self._new

    def put(self, key: str, value: bytes) -> None:
        self._new[key] = value

    def save(self) -> None:
        """Write this build's entries, and let go of them (a file's entries are read and
        written once per build)."""
        if self.file is None:
            return
        partial = self.file.with_name(f"{self.file.name}.{os.getpid()}.partial")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(marshal.dumps((self.header, self._new)))
            os.replace(partial, self.file)
        except OSError:
            partial.unlink(missing_ok=True)  # that only costs the next build time
        finally:
            self._old, self._new = {}, {}
