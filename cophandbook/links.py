"""Every link, image and media path checked against the files the build will write.

Links are resolved the way a browser will resolve them: `.md` links from the source file,
root-relative links from the site root, other relative links from the page's own URL. A
fragment is checked where the target's ids are known: the headings and annotations of its
Markdown text, and the ids the theme promises (rubric criteria and cells, ladder levels).

`build` reports these as warnings; `check` promotes them to errors (`STRICT_IN_CHECK`).
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import posixpath
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from cophandbook.derive import Derived, Item, all_items
from cophandbook.diagnostics import Diagnostic, Diagnostics, Location
from cophandbook.fields import choices_hint
from cophandbook.kept import KeptEntries
from cophandbook.markdown import Link
from cophandbook.memo import Memo
from cophandbook.model import Exemplar, Source
from cophandbook.references import is_external, split_md_link, split_relative
from cophandbook.routes import Plan
from cophandbook.urls import Urls

STRICT_IN_CHECK = frozenset({"broken-link", "broken-anchor", "missing-file"})
_PAGE_SUFFIXES = ("", ".html")


def natural_site_path(rel: str) -> str:
    """The page a content file gets from its place: `a/b.md` → `a/b/`, `a/index.md` → `a/`."""
    path = PurePosixPath(rel).with_suffix("")
    folder = path.parent if path.name == "index" else path
    return "" if str(folder) == "." else f"{folder}/"


@dataclass(frozen=True)
class Targets:
    """What the build will write, and which ids each page is known to have."""

    files: frozenset[str]  # output files, e.g. "skills/x/index.html", "recordings/a.mp3"
    anchors: dict[str, frozenset[str]]  # output file → ids, for pages whose ids are known
    unvalidated: frozenset[str]  # site paths of sources that failed validation

    def file_of(self, site_path: str) -> str | None:
        """The output file serving a site path; "x" is served by "x/index.html" too."""
        for candidate in (Urls.output_file(site_path), f"{site_path}/index.html"):
            if candidate in self.files:
                return candidate
        return None


def collect_targets(derived: Derived, plan: Plan, content_files: frozenset[str]) -> Targets:
    files = {Urls.output_file(r.site_path) for r in plan.routes}
    files |= {Urls.output_file(s.site_path) for s in plan.static}
    anchors: dict[str, frozenset[str]] = {}
    for rel, site_path in derived.page_paths.items():
        anchors[Urls.output_file(site_path)] = derived.bodies.outline(rel).anchors
    levels = [lvl.id for lvl in derived.handbook.settings.levels]
    for rubric in derived.handbook.rubrics:
        ids = {c.id for c in rubric.criteria}
        ids |= {f"{c.id}--{lvl}" for c in rubric.criteria for lvl in levels}
        for file, extra in ((Urls.output_file(Urls.rubric(rubric.skill)), ids),
                            (Urls.output_file(Urls.skill(rubric.skill)), set(levels))):
            anchors[file] = anchors.get(file, frozenset()) | extra
    unvalidated = frozenset(natural_site_path(rel) for rel in content_files
                            if rel not in derived.page_paths)
    return Targets(frozenset(files), anchors, unvalidated)


@functools.lru_cache(maxsize=4096)  # a handbook links to the same few files over and over
def _split_url(href: str) -> tuple[str, str]:
    """(path, fragment) of a URL, %-decoded."""
    path, fragment = split_relative(href)
    return unquote(path), unquote(fragment)


def _resolve_url(path: str, page_path: str) -> str | None:
    """The site path a URL path leads to from a page, or None when it leaves the site."""
    joined = path.lstrip("/") if path.startswith("/") else page_path + path
    normal = posixpath.normpath(joined) if joined else ""
    if normal == "." or not normal:
        return ""
    if normal == ".." or normal.startswith("../"):
        return None
    return normal + "/" if path.endswith("/") else normal


class _LinkChecker:
    def __init__(self, derived: Derived, targets: Targets, problems: Diagnostics) -> None:
        self.derived = derived
        self.targets = targets
        self.problems = problems
        self.base_path = derived.handbook.settings.base_path

    def check(self, link: Link, rel: str, page_path: str, source: Path) -> str | None:
        """Report a link that leads nowhere; return the output file it leads to, if any."""
        href = link.href
        if not href or is_external(href):
            return None
        md_link = split_md_link(href, rel)
        if md_link is not None:
            return self._check_md(md_link, href, lambda: Location(source, link.line, link.col))
        where = Location(source, link.line, link.col)
        path, fragment = _split_url(href)
        site_path = _resolve_url(path, page_path) if path else page_path
        if site_path is None:
            self.problems.warning("broken-link", f"'{href}' leads outside the site", where)
            return None
        if site_path in self.targets.unvalidated:
            return None  # the target's own errors say why it is missing
        file = self.targets.file_of(site_path)
        if file is None:
            self._missing(link, site_path, where)
            return None
        if fragment:
            self._check_fragment(file, fragment, href, lambda: where)
        return file

    def _check_md(self, md_link: tuple[str, str], href: str,
                  where: Callable[[], Location]) -> str | None:
        target, fragment = md_link
        site_path = self.derived.page_paths.get(target)
        if site_path is None:
            if natural_site_path(target) not in self.targets.unvalidated:
                self.problems.warning("broken-link", f"no page '{target}' for the link '{href}'",
                                      where(), "links to other pages are relative paths to "
                                      "their .md files, such as ../rubric.md")
            return None
        file = Urls.output_file(site_path)
        if fragment:
            self._check_fragment(file, fragment, href, where)
        return file

    def _check_fragment(self, file: str, fragment: str, href: str,
                        where: Callable[[], Location]) -> None:
        known = self.targets.anchors.get(file)
        if known is None or fragment in known:
            return  # a generated page's ids are only known once rendered
        self.problems.warning("broken-anchor", f"'{href}': the page has no '#{fragment}'",
                              where(), choices_hint(fragment, known))

    def _missing(self, link: Link, site_path: str, where: Location) -> None:
        is_file = link.image or PurePosixPath(site_path).suffix not in _PAGE_SUFFIXES
        base = self.base_path.strip("/")
        if base and (site_path + "/").startswith(base + "/"):
            hint = (f"write the path from the handbook's root: base_url ({self.base_path}) "
                    "is added for you")
        elif is_file:
            hint = f"put the file at static/{site_path}, or correct the path"
        else:
            hint = ("link to another page through its .md file, or to a generated page "
                    "from the root, such as /feedback/")
        if is_file:
            self.problems.warning("missing-file", f"no file /{site_path} for '{link.href}'",
                                  where, hint)
        else:
            self.problems.warning("broken-link", f"no page /{site_path} for the link "
                                  f"'{link.href}'", where, hint)


LinkGraph = dict[str, set[str]]  # output file → content files whose text links to it


def _targets_digest(targets: Targets, derived: Derived) -> str:
    """Everything a link's check depends on besides the link itself and its page."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (sorted(targets.files), sorted(targets.unvalidated),
                 sorted(derived.page_paths.items()), derived.handbook.settings.base_path):
        digest.update(repr(part).encode())
    for file in sorted(targets.anchors):
        digest.update(f"{file}\0{sorted(targets.anchors[file])}\0".encode())
    return digest.hexdigest()


def _links_of(derived: Derived, source: Source) -> list[Link]:
    try:
        return list(derived.outline(source).links)
    except (ValueError, TypeError, EOFError):  # a kept outline damaged inside: read the body
        return list(derived.body(source).links)


def _media_of(item: Item) -> tuple[str, int]:
    """An exemplar's recording and its line: a file link too."""
    return (item.media, item.media_line) if isinstance(item, Exemplar) else ("", 0)


def check_links(derived: Derived, plan: Plan, content_files: frozenset[str],
                problems: Diagnostics, kept: KeptEntries | None = None,
                memo: Memo | None = None, only: AbstractSet[str] | None = None
                ) -> LinkGraph:
    """Report links that lead nowhere; return who links to what, for finding orphans.

    With `kept`, a source's result (its problems, the files it links to) is kept for the
    next build, under a key of everything it depends on: its body (by the body's cache
    key), its media, its page, and all the links could lead to. A rebuild after an edit
    that moves no page and no heading checks only the edited file's links. `memo` keeps
    the results in memory too (the preview), under the same inputs, so that a rebuild
    neither hashes nor decodes the ten thousand that did not change. `only` checks the
    sources of those rels alone."""
    targets = collect_targets(derived, plan, content_files)
    checker = _LinkChecker(derived, targets, problems)
    inbound: LinkGraph = defaultdict(set)
    around = _targets_digest(targets, derived) if kept is not None or memo else ""

    def result_of(item: Item) -> tuple[list[Diagnostic], list[str]]:
        source = item.source
        page_path = derived.page_paths[source.rel]
        media = _media_of(item)
        key = None
        if kept is not None and source.rel in derived.body_keys:
            key = hashlib.blake2b(repr((around, derived.body_keys[source.rel], str(source.path),
                                        page_path, media)).encode(), digest_size=20).hexdigest()
            if (entry := kept.get(key)) is not None:
                try:
                    found, files = marshal.loads(entry)
                    # Whole or not at all: a damaged entry's problems are found again below.
                    return [Diagnostic.from_dict(d) for d in found], list(files)
                except (ValueError, TypeError, KeyError, AttributeError, EOFError):
                    kept.forget(key)  # damaged: checked again below
        checker.problems = Diagnostics()
        links = _links_of(derived, source)
        if media[0]:  # a recording is a file link too
            links.append(Link(*media, 0, image=True))
        leads_to = set()
        for link in links:
            target = checker.check(link, source.rel, page_path, source.path)
            if target is not None:
                leads_to.add(target)
        if key is not None:
            kept.put(key, marshal.dumps([[d.to_dict() for d in checker.problems.items],
                                         sorted(leads_to)]))
        return checker.problems.items, sorted(leads_to)

    for item in all_items(derived.handbook):
        rel = item.source.rel
        if only is not None and rel not in only:
            continue
        if memo is not None and rel in derived.body_keys:
            found, files = memo.get(("links", around, derived.body_keys[rel],
                                     item.source.path, derived.page_paths[rel],
                                     _media_of(item)),
                                    lambda item=item: result_of(item))
        else:
            found, files = result_of(item)
        problems.items.extend(found)
        for file in files:
            inbound[file].add(rel)
    return inbound
