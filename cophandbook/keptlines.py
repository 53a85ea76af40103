"""A file of entries kept from one build for the next, in the handbook's cache folder.

One line per entry, `key<TAB>value`, after a first line naming what wrote them (the code's
digest): a file written by other code is ignored whole. Plain lines, so a build copies the
entries it reuses as they were read rather than encoding them again, and never pickle. A
key must digest everything its value depends on, so an entry is right or never looked up;
`save` keeps only the entries this build used or added, so the file never outgrows the
handbook. Losing the file, or any line of it, costs the next build time and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path


class KeptLines:
    """Without a file, the entries of the build before are given (`entries`), and this
    build's are taken from `kept()` (the preview server keeps them in memory)."""

    def __init__(self, file: Path | None, version: str = "",
                 entries: dict[str, str] | None = None) -> None:
        self.file = file
        self.header = version
        self._old: dict[str, str] | None = entries
        self._new: dict[str, str] = {}
        self.hits = 0

    def _load(self) -> dict[str, str]:
        if self._old is None:
            self._old = {}
            if self.file is None:
                return self._old
            try:
                lines = self.file.read_text(encoding="utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                return self._old
            if lines[0] == self.header:
                for line in lines[1:]:
                    key, _, value = line.partition("\t")
                    if value:
                        self._old[key] = value
        return self._old

    def get(self, key: str) -> str | None:
        """The value kept under `key`, which is then kept again by `save`."""
        value = self._load().get(key)
        if value is not None:
            self._new[key] = value
            self.hits += 1
        return value

    def forget(self, key: str) -> None:
        """Do not keep `key` after all (its value could not be read)."""
        self._new.pop(key, None)

    def kept(self) -> dict[str, str]:
        """This build's entries: those it used, and those it added."""
        return self._new

    def put(self, key: str, value: str) -> None:
        if "\n" in key or "\t" in key or "\n" in value:
            raise ValueError("a kept line cannot hold a line break or a tab in its key")
        self._new[key] = value

    def save(self) -> None:
        """Write this build's entries, and let go of them (a file's entries are read and
        written once per build)."""
        if self.file is None:
            return
        lines = [self.header, *(f"{key}\t{value}" for key, value in self._new.items())]
        partial = self.file.with_name(f"{self.file.name}.{os.getpid()}.partial")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text("\n".join(lines), encoding="utf-8")
            os.replace(partial, self.file)
        except OSError:
            partial.unlink(missing_ok=True)  # that only costs the next build time
        finally:
            self._old, self._new = {}, {}
