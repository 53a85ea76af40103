"""Builds for the preview, written in turn into two folders of its temporary workspace.

A build is complete on disk before the server is pointed at it, so no page is ever served
half-built. It is written into the folder not being served, which holds the build before
the last: only the files that differ between the two are written, so a save that changes a
few pages writes a few files, whatever the handbook's size. (A new folder per build meant
one `mkdir` and one hard link per page on every save: see docs/benchmarks.md.) Files
are replaced, never written over, so a request still reading the older build keeps
whole files. Once saves pause, the folder not being served is brought up to the build
being served (`mirror`), so the next save writes what it changed, not the whole site into a
folder the first build left empty.

What did not change is kept between builds: parsed files and rendered Markdown (in a Memo,
and Markdown in the body cache too), the compiled templates (one Jinja environment), and
pages whose inputs did not change (not rendered again: see reuse.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Hashable, KeysView
from dataclasses import dataclass, field, replace
from pathlib import Path

from jinja2 import Environment

from cophandbook.bodycache import BodyCache, default_folder
from cophandbook.caches import Caches
from cophandbook.diagnostics import Diagnostic, Diagnostics
from cophandbook.fingerprint import Fingerprint, Stamps, fingerprint
from cophandbook.history import last_changed
from cophandbook.memo import Memo
from cophandbook.output import link_or_copy, remove_empty_folders
from cophandbook.pipeline import Prepared, fewer_collections, run
from cophandbook.reuse import PageInputs, Reuse
from cophandbook.routes import StaticFile
from cophandbook.search import SearchError, index_folder
from cophandbook.sources import CONTENT_DIR
from cophandbook.theme import TEMPLATES_DIR, default_theme, make_env
from cophandbook.urls import SEARCH_DIR, Urls

FOLDERS = ("build-a", "build-b")
_KEPT = object()  # a page kept from the previous build, in place of its bytes


@dataclass(frozen=True)
class Outcome:
    problems: Diagnostics
    root: Path | None  # the new build's folder; None when the build failed
    base_path: str
    pages: int = 0  # HTML pages in the build
    changed: int = 0  # files that differ from the previous build
    seconds: float = 0.0
    page_digest: bytes = b""  # of every HTML page's content: what a search index covers
    number: int = 0  # counts the builds written


@dataclass(frozen=True)
class _Basis:
    """The last good build's prepared stages, for the next build to bring up to date when
    only bodies change (see pipeline.prepare), with what they were prepared under."""

    prepared: Prepared
    frame: str  # the digest of every input outside content/
    memo_keys: frozenset[Hashable]  # what the stages' last full run kept in the memo


@dataclass
class _Folder:
    """One of the two build folders, and what it holds: output file → content digest (or
    the static source's stamp). Kept true file by file, so a write that fails half-way
    leaves a record the next build can finish from."""

    path: Path
    digests: dict[str, object] = field(default_factory=dict)
    number: int = 0  # the build it holds whole; 0 while it is being written


class PreviewBuilder:
    def __init__(self, site: Path, workspace: Path) -> None:
        self.site = site
        self.workspace = workspace
        self.memo = Memo()
        # Rendered Markdown is shared with `build` (see bodycache.py): a preview started
        # after a build, or after another preview, renders only what changed since.
        self.cache = BodyCache(default_folder(site))
        self._env: Environment | None = None
        self._env_key: tuple[Path, bool] | None = None
        self._count = 0
        self._pair = (_Folder(workspace / FOLDERS[0]), _Folder(workspace / FOLDERS[1]))
        self._served: _Folder | None = None  # the last build written
        # The folder not being served is written by a build, or mirrored between builds;
        # a build under way makes the mirror stop where it is.
        self._idle_folder = threading.Lock()
        self._building = threading.Event()
        self._incoming = workspace / ".incoming"  # a file on its way into a build folder
        # Which pages (by Outcome.page_digest) the search index in each build folder covers.
        # Builds and re-indexing run on different threads; this lock keeps them apart only
        # for the moments they touch the index folders or a folder's build number.
        self._index_of: dict[Path, bytes] = {}
        # And what that index's bundles cover, for re-indexing only the shards that changed.
        self._search_state: dict[Path, bytes] = {}
        self._search_lock = threading.Lock()
        self.base_path = "/"
        self.search_language: str | None = None  # None when the site has no search
        # What the last build that succeeded rendered from (see reuse.py).
        self._stamps: Stamps = {}
        self._stamped_ns = 0
        self._page_inputs: dict[str, PageInputs] = {}
        self._link_checks: dict[str, bytes] = {}  # see links.check_links
        self._basis: _Basis | None = None  # the last good build's stages
        self._last: Outcome | None = None  # the last good build, and the digest of its inputs
        self._last_digest = ""
        self._tried_digest = ""  # of the inputs of the last build, good or not
        self._dates: tuple[dict[str, dt.date], tuple[Diagnostic, ...]] | None = None
        # What the build under way wrote: its folder, the files that differ from the build
        # being served, and its pages.
        self._written: tuple[_Folder, int, list[str]] | None = None

    def build(self) -> Outcome:
        """Build the handbook into the folder not being served. No full garbage collection
        runs meanwhile: it would walk everything the preview keeps, a good part of a large
        handbook's rebuild; the preview collects once saves pause (see preview.py)."""
        self._building.set()
        try:
            with fewer_collections():
                return self._build()
        finally:
            self._building.clear()

    @property
    def building(self) -> bool:
        return self._building.is_set()

    def _build(self) -> Outcome:
        started = time.perf_counter()
        problems = Diagnostics()
        # Taken before anything is read, so a change made while building is seen by the
        # next build.
        stamped_ns = time.time_ns()
        inputs = self._fingerprint()
        self._tried_digest = inputs.digest
        last = self._last
        if last is not None and inputs.digest == self._last_digest:
            # Nothing a build reads changed since the last good one (a file saved as it was,
            # or put back after a failed build): it is the build being served.
            self._stamps, self._stamped_ns = inputs.stamps, stamped_ns
            return replace(last, changed=0, seconds=time.perf_counter() - started)
        # The fingerprint's digests tell the memo which files it holds without reading them.
        # The preview reads the cache folder's parsed files and link checks, never writes them.
        caches = Caches.for_preview(
            self.cache, self.memo, {path: digest for path, (_, _, digest) in inputs.stamps.items()},
            self._link_checks if self._stamps else None)
        # Taken from the last good build and brought up to date in place, or left: either
        # way no other build may start from it. Handed to the pipeline through the caches
        # and held nowhere else, so what is left of it goes before pages are rendered.
        basis, self._basis = self._basis, None
        if basis is not None:
            caches.memo_keys = basis.memo_keys
            caches.last = basis.prepared if basis.frame == inputs.frame else None
        del basis
        self._written = None
        prepared = run(self.site, problems, caches, self, dates=self._commit_dates(problems),
                       frame=inputs.frame)
        if prepared is not None:
            settings = prepared.derived.handbook.settings
            self.base_path = settings.base_path
            self.search_language = settings.language if settings.search else None
        if prepared is None or problems.has_errors or self._written is None:
            return Outcome(problems, None, self.base_path, seconds=time.perf_counter() - started)
        folder, changed, pages = self._written
        self._stamps, self._stamped_ns = inputs.stamps, stamped_ns
        if prepared.again:
            self._basis = _Basis(prepared, inputs.frame, caches.memo_keys)
        else:
            self._link_checks = caches.links.kept() if caches.links else {}
            self._basis = _Basis(prepared, inputs.frame, self.memo.used())
        page_digest = hashlib.blake2b(repr(
            [(name, folder.digests[name]) for name in pages]).encode()).digest()
        self._last = Outcome(problems, folder.path, self.base_path, len(pages), changed,
                             time.perf_counter() - started, page_digest, folder.number)
        self._last_digest = inputs.digest
        return self._last

    def _commit_dates(self, problems: Diagnostics) -> dict[str, dt.date]:
        """When each content file last changed: commit dates do not move while a preview
        runs, so one git call serves a session (its problems are reported every time)."""
        if self._dates is None:
            found = Diagnostics()
            self._dates = (last_changed(self.site / CONTENT_DIR, found), tuple(found.items))
        problems.items.extend(self._dates[1])
        return self._dates[0]

    # Stage 5 for the pipeline (see pipeline.Writer): the folder not being served.

    def environment(self, site: Path, theme: Path) -> Environment:
        return self._environment(theme)

    def open(self) -> None:
        pass

    def last_pages(self) -> dict[str, PageInputs]:
        return self._page_inputs

    def keep(self, rel: str) -> object | None:
        return self._keep(rel)

    @property
    def sink(self) -> None:
        return None  # pages come back as bytes: only those that differ are written

    def write(self, prepared: Prepared, pages: dict[str, object], reuse: Reuse | None
              ) -> None:
        folder, changed = self._write(pages, prepared.plan.static)
        self._page_inputs = reuse.inputs if reuse else {}
        self._written = (folder, changed, sorted(name for name in pages
                                                if name.endswith(".html")))

    def discard(self) -> None:
        pass

    def _fingerprint(self) -> Fingerprint:
        # Commit dates are left out: the preview asks git once per session.
        return fingerprint(self.site, default_theme(), None, {}, self._stamps,
                           self._stamped_ns)

    def inputs_changed(self) -> bool:
        """Whether an input changed since the last build began."""
        return self._fingerprint().digest != self._tried_digest

    def _environment(self, theme: Path) -> Environment:
        """One environment for the session: compiled templates are its main saving. Jinja
        reloads a template whose file changed; a new templates/ folder needs a new one."""
        key = (theme, (self.site / TEMPLATES_DIR).is_dir())
        if self._env is None or key != self._env_key:
            self._env, self._env_key = make_env(self.site, theme), key
        return self._env

    def _keep(self, rel: str) -> object | None:
        """A page of the previous build, to be taken into the next as it is."""
        served = self._served
        return _KEPT if served is not None and rel in served.digests else None

    def _write(self, files: dict[str, object], static: tuple[StaticFile, ...]
               ) -> tuple[_Folder, int]:
        with self._idle_folder:
            return self._write_idle(files, static)

    def _write_idle(self, files: dict[str, object], static: tuple[StaticFile, ...]
                    ) -> tuple[_Folder, int]:
        """Bring the folder not being served from the build it holds to this one; the
        number of files that differ from the build being served."""
        self._count += 1
        served = self._served
        folder = self._idle()
        with self._search_lock:
            folder.number = 0  # half-written from here on: its search index is not refreshed
        folder.path.mkdir(exist_ok=True)
        made = {folder.path}  # folders known to exist in it: a site has thousands
        wanted: dict[str, object] = {}
        changed = 0
        for rel, data in files.items():
            if data is _KEPT and served is not None:
                digest: object = served.digests[rel]
                content: bytes | Path | None = None  # the served build's file, if needed
            else:
                assert isinstance(data, bytes)
                digest, content = hashlib.blake2b(data, digest_size=16).digest(), data
            wanted[rel] = digest
            changed += self._place(folder, served, rel, digest, content, made)
        for item in static:
            rel = Urls.output_file(item.site_path)
            stat = item.path.stat()
            wanted[rel] = digest = (item.path, stat.st_mtime_ns, stat.st_size)
            changed += self._place(folder, served, rel, digest, item.path, made)
        _remove_all_but(folder, wanted.keys())
        with self._search_lock:
            if served is not None and self._index_of.get(served.path) != \
                    self._index_of.get(folder.path):
                # The index of the build being served answers searches until this build's
                # own is ready.
                shutil.rmtree(folder.path / SEARCH_DIR, ignore_errors=True)
                if (served.path / SEARCH_DIR).is_dir():
                    shutil.copytree(served.path / SEARCH_DIR, folder.path / SEARCH_DIR,
                                    copy_function=link_or_copy)
                self._index_of[folder.path] = self._index_of.get(served.path, b"")
                self._search_state[folder.path] = self._search_state.get(served.path, b"")
            folder.number = self._count
        self._served = folder
        return folder, changed

    def _idle(self) -> _Folder:
        """The folder not being served, which the next build writes."""
        return self._pair[1] if self._served is self._pair[0] else self._pair[0]

    def mirror(self) -> bool:
        """Bring the folder not being served to the build being served, by hard links, so
        that the next build writes only what it changes. Stops, with what is done kept, as
        soon as a build is waiting; True when the folder was brought all the way."""
        with self._idle_folder:
            served = self._served
            if served is None:
                return False
            idle = self._idle()
            if idle.digests == served.digests:
                return True
            with self._search_lock:
                idle.number = 0  # no longer the build it held
            idle.path.mkdir(exist_ok=True)
            made = {idle.path}
            for rel, digest in served.digests.items():
                if self._building.is_set():
                    return False
                self._place(idle, served, rel, digest, None, made)
            _remove_all_but(idle, served.digests.keys())
            return True

    def _place(self, folder: _Folder, served: _Folder | None, rel: str, digest: object,
               content: bytes | Path | None, made: set[Path]) -> bool:
        """Put one file of the new build into `folder` unless it holds it already: its
        bytes, a static file, or (None) the served build's file of that name. True when it
        differs from the build being served."""
        held = folder.digests.get(rel)
        if held != digest:
            target = folder.path / rel
            # A file the folder holds is replaced, for a request that may still read it;
            # one it lacks is written in place, its folder made once.
            file = target if held is None else self._incoming
            if held is None and target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            file.unlink(missing_ok=True)
            if isinstance(content, bytes):
                file.write_bytes(content)
            elif content is None:
                assert served is not None
                link_or_copy(str(served.path / rel), str(file))
            else:  # a static file: copied, so the build does not change with the source
                shutil.copyfile(content, file)
            if held is not None:
                os.replace(file, target)
            folder.digests[rel] = digest
        return served is None or served.digests.get(rel) != digest

    def refresh_search(self, outcome: Outcome) -> bool:
        """Re-index a served build whose pages the index in its folder does not cover; True
        when it did. Meant to run apart from builds, once saves have paused: until then, an
        earlier build's index answers searches. If the folder is taken for a newer build
        meanwhile (two newer builds came), the attempt just ends."""
        root = outcome.root
        if self.search_language is None or root is None:
            return False
        with self._search_lock:
            if self._index_of.get(root) == outcome.page_digest or not self._holds(outcome):
                return False
            # The pages' digests, as a build's record has them (blake2b of 16 bytes).
            pages = {rel: digest.hex() for folder in self._pair if folder.path == root
                     for rel, digest in folder.digests.items()
                     if rel.endswith(".html") and isinstance(digest, bytes)}
            last_state = self._search_state.get(root, b"")
        fresh, stale = root / f".{SEARCH_DIR}.new", root / f".{SEARCH_DIR}.old"
        try:
            # The folder holds the last index (see _write_idle): its unchanged shards are
            # linked rather than indexed again.
            indexed = index_folder(root, self.search_language, fresh,
                                   previous=root / SEARCH_DIR, pages=pages,
                                   previous_state=last_state)
            with self._search_lock:
                if not self._holds(outcome):  # rewritten while Pagefind read it
                    return False
                if (root / SEARCH_DIR).exists():
                    os.replace(root / SEARCH_DIR, stale)
                os.replace(fresh, root / SEARCH_DIR)
                self._index_of[root] = outcome.page_digest
                self._search_state[root] = indexed.state
        except (OSError, SearchError):
            with self._search_lock:
                if self._holds(outcome):
                    raise
            return False
        finally:
            shutil.rmtree(stale, ignore_errors=True)
            shutil.rmtree(fresh, ignore_errors=True)
        return True

    def _holds(self, outcome: Outcome) -> bool:
        """Whether the outcome's folder still holds that build, whole (under the lock)."""
        return any(folder.path == outcome.root and folder.number == outcome.number
                   for folder in self._pair)


def _remove_all_but(folder: _Folder, wanted: KeysView[str]) -> None:
    for rel in folder.digests.keys() - wanted:
        (folder.path / rel).unlink(missing_ok=True)
        del folder.digests[rel]
        remove_empty_folders((folder.path / rel).parent, folder.path)

