"""One digest of everything a build's output depends on, to skip a build that would write
the same files again.

It covers cophandbook itself (its version and the content of its code), handbook.yml, the
content of every file under content/ and templates/ and of the theme, every static file (by
size and modification time: media can be large), the commit dates pages show, and the
command line's base URL. Anything else that changed the output would have to change one of
those first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from cophandbook import __version__

PACKAGE = Path(__file__).resolve().parent
_BY_CONTENT = ("content", "templates")
_BY_STAMP = ("static",)


def _walk(folder: Path) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        found.extend(Path(root, name) for name in sorted(names))
    return found


def _add_content(digest: hashlib.blake2b, base: Path, files: list[Path]) -> None:
    for path in files:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        try:
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
        except OSError:
            digest.update(b"unreadable")


def fingerprint(site: Path, theme: Path, base_url: str | None,
                dates: dict[str, dt.date]) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"cophandbook {__version__}\0base_url {base_url}\0".encode())
    _add_content(digest, PACKAGE, [p for p in _walk(PACKAGE) if p.suffix in (".py", ".js")])
    _add_content(digest, theme, _walk(theme))
    _add_content(digest, site, [site / "handbook.yml"])
    for name in _BY_CONTENT:
        _add_content(digest, site, _walk(site / name))
    for name in _BY_STAMP:
        for path in _walk(site / name):
            stat = path.stat()
            digest.update(f"{path.relative_to(site).as_posix()}\0{stat.st_size}\0"
                          f"{stat.st_mtime_ns}\0".encode())
    digest.update(repr(sorted(dates.items())).encode())
    return digest.hexdigest()
