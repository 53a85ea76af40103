"""A source's Markdown body, held by its digest and read from its file when it is needed.

A large handbook's bodies are a hundred megabytes of text, and a build needs each one once
at most: to render it, and not even that when the body cache has it. So the model carries a
body's digest and its place in its file (the line it starts on), and the text is read back
from the file the first time something asks for it, then forgotten when the build says so.

Reading a file twice leaves a window in which it can change. The text read back must have
the digest the build planned with; if it has not, `read` raises `SourceChanged` rather than
render one version of a file under the other's name (a body cache entry is keyed by the
digest, so that would outlive the build).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cophandbook.diagnostics import Diagnostics
from cophandbook.yamltext import decode


class SourceChanged(Exception):
    """The file was changed while the build was reading it."""


def digest_of(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def body_of(text: str, line: int) -> str:
    """The body of a decoded file whose body starts at file line `line` (1-based)."""
    if line <= 1:
        return text
    start = -1
    for _ in range(line - 1):
        start = text.find("\n", start + 1)
        if start < 0:
            return ""
    return text[start + 1:]


class BodyText:
    __slots__ = ("_text", "digest", "line", "path", "size")

    def __init__(self, path: Path, line: int, digest: str, size: int,
                 text: str | None = None) -> None:
        self.path, self.line, self.digest, self.size = path, line, digest, size
        self._text = text

    @classmethod
    def of(cls, path: Path, line: int, text: str) -> BodyText:
        """A body read just now (its text is held until `release`)."""
        return cls(path, line, digest_of(text), len(text), text)

    def read(self) -> str:
        text = self._text
        if text is None:
            try:
                data = self.path.read_bytes()
            except OSError as exc:
                raise SourceChanged(f"{self.path} cannot be read again: {exc.strerror}") from None
            # Problems in the text (control characters) were reported when it was parsed.
            text = body_of(decode(data, self.path, Diagnostics()) or "", self.line)
            if digest_of(text) != self.digest:
                raise SourceChanged(f"{self.path} changed while the handbook was being built")
            self._text = text
        return text

    def release(self) -> None:
        """Forget the text; `read` reads the file again."""
        self._text = None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BodyText) and self.digest == other.digest
                and self.line == other.line)

    def __hash__(self) -> int:
        return hash((self.digest, self.line))
