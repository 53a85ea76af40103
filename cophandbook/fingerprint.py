"""One digest of everything a build's output depends on, to skip a build that would write
the same files again.

It covers cophandbook itself (its version and the content of its code), handbook.yml, the
content of every file under content/ and templates/ and of the theme, every static file (by
size and modification time: media can be large), the commit dates pages show, and the
command line's base URL. Anything else that changed the output would have to change one of
those first.

Beside it, the frame: what every page depends on, for pages kept from the previous build
when only bodies they do not read changed (see reuse.py). It is the same digest without
content/, and with only the names of static files, the theme's and the site's: which files
there are decides routes and link checks, but no page shows what a file holds, so an edited
stylesheet or image is copied without rendering a page again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cophandbook import __version__
from cophandbook.sourcecache import file_digest
from cophandbook.sources import walk_files

PACKAGE = Path(__file__).resolve().parent
_BY_CONTENT = ("content", "templates")
_BY_STAMP = ("static",)
THEME_STATIC = "static"  # the theme's folder of files published as they are, under assets/


def _walk(folder: Path, prefix: str = "", site: Path | None = None) -> list[tuple[str, str]]:
    """(path, `prefix` + its path under `folder` in POSIX form) of every file under
    `folder` that a build reads: the same walk as the build's (sources.walk_files), so
    links leading outside `site` (default: `folder`), nowhere or to folders are left out
    as they are from the output, and a loop of links cannot hang it. Plain strings, not
    Path objects: a large handbook has tens of thousands of files, and this runs on every
    build, even one with nothing to do."""
    return [(path, prefix + rel) for path, rel in walk_files(folder, site or folder)]


def _content_digest(path: str) -> str:
    with open(path, "rb") as file:
        return file_digest(file.read())


# A file whose size and modification time are what they were when its digest was taken is
# not read again, unless it was modified so shortly before that a second write could have
# kept its time (git's "racily clean" entries). How short depends on the file system's clock:
# times with sub-millisecond digits come from a fine clock (Linux stamps files from a clock
# that can lag by a tick, 10 ms at most); others may be whole seconds (FAT: two).
_RACY_FINE_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000


def _racy(mtime_ns: int, taken_ns: int) -> bool:
    fine = mtime_ns % 1_000_000 != 0
    return mtime_ns >= taken_ns - (_RACY_FINE_NS if fine else _RACY_COARSE_NS)

Stamps = dict[str, tuple[int, int, str]]  # path → (size, mtime_ns, content digest)


class _Digester:
    def __init__(self, known: Stamps, taken_ns: int) -> None:
        self.digest = hashlib.blake2b(digest_size=20)
        self.frame = hashlib.blake2b(digest_size=20)
        self.known, self.taken_ns = known, taken_ns
        self.stamps: Stamps = {}

    def update(self, data: bytes, *, framed: bool = True) -> None:
        self.digest.update(data)
        if framed:
            self.frame.update(data)

    def name(self, rel: str) -> None:
        """Put a static file's name in the frame (its content goes to the digest alone)."""
        self.frame.update(f"{rel}\0".encode())

    def add(self, files: list[tuple[str, str]], *, framed: bool = True) -> None:
        for path, rel in files:
            try:
                stat = os.stat(path)
                old = self.known.get(path)
                if (old is not None and old[:2] == (stat.st_size, stat.st_mtime_ns)
                        and not _racy(stat.st_mtime_ns, self.taken_ns)):
                    content = old[2]
                else:
                    content = _content_digest(path)
                self.stamps[path] = (stat.st_size, stat.st_mtime_ns, content)
            except OSError:
                content = "unreadable"
            self.update(f"{rel}\0{content}\0".encode(), framed=framed)


@dataclass(frozen=True)
class Fingerprint:
    digest: str  # of every input
    frame: str  # of every input but content/
    stamps: Stamps  # to pass as `known` next time


def fingerprint(site: Path, theme: Path, base_url: str | None, dates: dict[str, dt.date],
                known: Stamps | None = None, taken_ns: int = 0) -> Fingerprint:
    """Digests of the inputs. Files whose stamps are `known` (taken at `taken_ns`, from
    `time.time_ns()`) and have not changed are not read again."""
    digester = _Digester(known or {}, taken_ns)
    digester.update(f"cophandbook {__version__}\0base_url {base_url}\0".encode())
    digester.add([f for f in _walk(PACKAGE) if f[0].endswith((".py", ".js"))])
    for path, rel in _walk(theme):
        static = rel.startswith(f"{THEME_STATIC}/")
        digester.add([(path, rel)], framed=not static)
        if static:
            digester.name(rel)
    digester.add([(str(site / "handbook.yml"), "handbook.yml")])
    for name in _BY_CONTENT:
        digester.add(_walk(site / name, f"{name}/", site), framed=name != "content")
    for name in _BY_STAMP:
        for path, rel in _walk(site / name, f"{name}/", site):
            try:
                stat = os.stat(path)
            except OSError:  # removed since the walk: the build will not publish it either
                continue
            digester.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode(),
                            framed=False)
            digester.name(rel)
    # Not in the frame: pages read dates as inputs of their own (see render.last_updated).
    digester.update(repr(sorted(dates.items())).encode(), framed=False)
    return Fingerprint(digester.digest.hexdigest(), digester.frame.hexdigest(),
                       digester.stamps)
