"""Builds for the preview: each into a new folder of the preview's temporary workspace.

A build is complete on disk before the server is pointed at it, so no page is ever served
half-built. What did not change is kept between builds: parsed files and rendered Markdown
(in a Memo), the compiled templates (one Jinja environment), pages whose inputs did not
change (not rendered again: see reuse.py), and unchanged output files, which are
hard-linked from the previous build's folder instead of written again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment

from cophandbook.build import prepare
from cophandbook.diagnostics import Diagnostics
from cophandbook.fingerprint import Stamps, fingerprint
from cophandbook.kept import KeptEntries
from cophandbook.memo import Memo
from cophandbook.render import render
from cophandbook.reuse import PageInputs, Reuse, site_digest
from cophandbook.routes import StaticFile
from cophandbook.search import SearchError, index_folder
from cophandbook.sourcecache import ParsedSources
from cophandbook.theme import TEMPLATES_DIR, default_theme, make_env
from cophandbook.urls import SEARCH_DIR, Urls

_KEPT_BUILDS = 2  # the one being served and the one before, for requests still reading it
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


@dataclass
class _Written:
    """What the previous build wrote: output file → content digest, or static source stamp."""

    root: Path | None = None
    digests: dict[str, object] = field(default_factory=dict)


class PreviewBuilder:
    def __init__(self, site: Path, workspace: Path) -> None:
        self.site = site
        self.workspace = workspace
        self.memo = Memo()
        self._env: Environment | None = None
        self._env_key: tuple[Path, bool] | None = None
        self._count = 0
        self._previous = _Written()
        # Which pages (by Outcome.page_digest) the search index in each build folder covers.
        # Builds and re-indexing run on different threads; this lock keeps them apart only
        # for the moments they touch the index folders.
        self._index_of: dict[Path, bytes] = {}
        self._search_lock = threading.Lock()
        self.base_path = "/"
        self.search_language: str | None = None  # None when the site has no search
        # What the last build that succeeded rendered from (see reuse.py).
        self._stamps: Stamps = {}
        self._stamped_ns = 0
        self._page_inputs: dict[str, PageInputs] = {}
        self._link_checks: dict[str, bytes] = {}  # see links.check_links
        self._folders: set[Path] = set()  # made in the build being written

    def build(self) -> Outcome:
        started = time.perf_counter()
        problems = Diagnostics()
        # Taken before anything is read, so a change made while building is seen by the
        # next build. Commit dates are left out: the preview asks git once per session.
        stamped_ns = time.time_ns()
        inputs = fingerprint(self.site, default_theme(), None, {}, self._stamps,
                             self._stamped_ns)
        self.memo.start_build()
        links = KeptEntries(None, entries=self._link_checks)
        # The fingerprint's digests tell the memo which files it holds without reading them.
        digests = ParsedSources(None, "", {path: digest for path, (_, _, digest)
                                           in inputs.stamps.items()})
        prepared = prepare(self.site, problems, dates=True, memo=self.memo, parsed=digests,
                           links=links)
        self.memo.finish_build()
        if prepared is not None:
            settings = prepared.derived.handbook.settings
            self.base_path = settings.base_path
            self.search_language = settings.language if settings.search else None
        if prepared is None or problems.has_errors:
            return Outcome(problems, None, self.base_path, seconds=time.perf_counter() - started)
        site_inputs = site_digest(inputs.frame, prepared.derived, prepared.plan,
                                  prepared.planning_reads)
        reuse = (Reuse(site_inputs, self._page_inputs, self._keep)
                 if site_inputs is not None else None)
        files = render(prepared.plan, prepared.derived, self._environment(prepared.theme),
                       problems, reuse=reuse)
        if problems.has_errors:
            return Outcome(problems, None, self.base_path, seconds=time.perf_counter() - started)
        root, changed = self._write(files, prepared.plan.static)
        self._stamps, self._stamped_ns = inputs.stamps, stamped_ns
        self._page_inputs = reuse.inputs if reuse else {}
        self._link_checks = links.kept()
        pages = sorted(name for name in files if name.endswith(".html"))
        page_digest = hashlib.blake2b(repr(
            [(name, self._previous.digests[name]) for name in pages]).encode()).digest()
        return Outcome(problems, root, self.base_path, len(pages), changed,
                       time.perf_counter() - started, page_digest)

    def _environment(self, theme: Path) -> Environment:
        """One environment for the session: compiled templates are its main saving. Jinja
        reloads a template whose file changed; a new templates/ folder needs a new one."""
        key = (theme, (self.site / TEMPLATES_DIR).is_dir())
        if self._env is None or key != self._env_key:
            self._env, self._env_key = make_env(self.site, theme), key
        return self._env

    def _keep(self, rel: str) -> object | None:
        """A page of the previous build, to be linked into the next as it is."""
        previous = self._previous
        if previous.root is None or rel not in previous.digests:
            return None
        return _KEPT

    def _write(self, files: dict[str, object], static: tuple[StaticFile, ...]
               ) -> tuple[Path, int]:
        self._count += 1
        root = self.workspace / f"build-{self._count}"
        root.mkdir()
        self._folders = {root}
        previous, written = self._previous, _Written(root)
        changed = 0
        for rel, data in files.items():
            if data is _KEPT and previous.root is not None:
                written.digests[rel] = previous.digests[rel]
                changed += self._place(previous, rel, written.digests[rel], root,
                                       previous.root / rel)
                continue
            assert isinstance(data, bytes)
            written.digests[rel] = hashlib.blake2b(data, digest_size=16).digest()
            changed += self._place(previous, rel, written.digests[rel], root, data)
        for item in static:
            rel = Urls.output_file(item.site_path)
            stat = item.path.stat()
            written.digests[rel] = (item.path, stat.st_mtime_ns, stat.st_size)
            changed += self._place(previous, rel, written.digests[rel], root, item.path)
        with self._search_lock:
            if previous.root is not None and (previous.root / SEARCH_DIR).is_dir():
                shutil.copytree(previous.root / SEARCH_DIR, root / SEARCH_DIR,
                                copy_function=_link_or_copy)
                self._index_of[root] = self._index_of.get(previous.root, b"")
        self._previous = written
        return root, changed

    def _place(self, previous: _Written, rel: str, digest: object, root: Path,
               content: bytes | Path) -> bool:
        """Put one file into the new build, hard-linked from the previous build when it is
        unchanged. True when it changed."""
        target = root / rel
        if target.parent not in self._folders:  # once per folder: a site has thousands
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        unchanged = previous.root is not None and previous.digests.get(rel) == digest
        if unchanged and previous.root is not None:
            try:
                os.link(previous.root / rel, target)
                return False
            except OSError:  # a file system without hard links: write it instead
                pass
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
        return not unchanged

    def refresh_search(self, outcome: Outcome) -> bool:
        """Re-index a served build whose pages the index in its folder does not cover; True
        when it did. Meant to run apart from builds, once saves have paused: until then, the
        index linked in from the previous build answers searches. A build folder removed
        meanwhile (two newer builds came) just ends the attempt."""
        root = outcome.root
        if self.search_language is None or root is None:
            return False
        with self._search_lock:
            if self._index_of.get(root) == outcome.page_digest or not root.is_dir():
                return False
        fresh, stale = root / f".{SEARCH_DIR}.new", root / f".{SEARCH_DIR}.old"
        try:
            index_folder(root, self.search_language, fresh)
            with self._search_lock:
                if (root / SEARCH_DIR).exists():
                    os.replace(root / SEARCH_DIR, stale)
                os.replace(fresh, root / SEARCH_DIR)
                self._index_of[root] = outcome.page_digest
        except (OSError, SearchError):
            if root.is_dir():
                raise
            return False
        finally:
            shutil.rmtree(stale, ignore_errors=True)
        return True

    def forget_old_builds(self) -> None:
        """Remove all but the newest builds; called once the newest is served, so the time it
        takes is not spent between a save and the page showing it."""
        for old in range(1, self._count - _KEPT_BUILDS + 1):
            folder = self.workspace / f"build-{old}"
            with self._search_lock:
                self._index_of.pop(folder, None)
            shutil.rmtree(folder, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
