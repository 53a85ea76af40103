"""Stage 5: the Pagefind search index of a finished build folder, in shards.

Pagefind reads the pages as they will be published: only elements inside
`data-pagefind-body` are indexed (the templates mark the main content of each page worth
finding), and the filters and metadata come from `data-pagefind-filter` and
`data-pagefind-meta` attributes the templates write. The index goes to `pagefind/` inside
the folder, before the folder is published, so a failed index leaves the previous site.

Pagefind cannot update an index, only write one anew, which for a large handbook takes it
long and much memory. So the pages are indexed in shards, one Pagefind bundle each,
which the search page merges with Pagefind's `mergeIndex`; a rebuild indexes again only the
shards whose pages changed, and links the others from the last index. A shard is made of
whole parts of the site (a skill's pages, a year of sessions, the rest), taken in order
until it holds SHARD_PAGES pages: every bundle costs a member's first search its own
download of Pagefind's code and metadata (measured in docs/benchmarks.md), so a small site
has one, and a large one bundles small enough for Pagefind to index again quickly.

Merged bundles rank as one index would only if each knows every word of the site: where no
word of a bundle begins with a search term, Pagefind falls back to the longest word that
begins the term ("on" for "onerror"), and those loose matches would crowd out the exact
one found in another bundle. So each bundle also holds one *vocabulary* record, every word
of the site's indexed pages, filtered out of every search by the search page. When the
site's vocabulary changes (a word is used for the first time, or for the last), every
shard is indexed again.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import html
import json
import re
import shutil
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from cophandbook.output import link_or_copy
from cophandbook.urls import SEARCH_DIR

_ATTEMPTS = 3
SHARD_PAGES = 1000  # pages a shard gathers before the next begins (see the module's notes)
_SERVICES = 2  # Pagefind processes indexing shards side by side
_GONE = "Pagefind's process ended before it finished"
MANIFEST = "bundles.json"  # which bundles the search page merges, the first one loaded first
_FORMAT = 1  # of an index's state, and of how words are read from pages: a change indexes all
# The filter that marks the vocabulary record, which the search page excludes.
VOCABULARY_FILTER = ("cophandbook", "vocabulary")
VOCABULARY_URL = "/pagefind-vocabulary/"
_BODY = "data-pagefind-body"
# Pagefind's own interfaces, which the search page does not use: kept out of every bundle.
_UNUSED = re.compile(r"pagefind-(component-ui|modular-ui|ui)\.(css|js)|pagefind-highlight\.js")
T = TypeVar("T")


class SearchError(Exception):
    """The index could not be built; the message says why."""


def part_of(rel: str) -> str:
    """The part of the site an output page belongs to: a skill, a year of sessions, or the
    rest ("site"). Shards are made of whole parts (see `gather`)."""
    parts = rel.split("/")
    if len(parts) > 2 and parts[0] == "skills":
        return f"skills-{parts[1]}"
    if len(parts) > 2 and parts[0] == "sessions" and parts[1][:4].isdigit():
        return f"sessions-{parts[1][:4]}"
    return "site"


def gather(parts: Mapping[str, Mapping[str, str]], size: int) -> dict[str, dict[str, str]]:
    """Shards of whole `parts` (name -> its pages), each named after its first part: the
    rest of the site first, then years of sessions and skills in order, each shard taking
    parts until it holds `size` pages; a last shard smaller than that joins the one before.
    A shard changes its parts only when a part's growth moves where one ends."""
    shards: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for name in sorted(parts, key=lambda part: (part != "site", part)):
        if current is None or len(current) >= size:
            current = shards[name] = {}
        current.update(parts[name])
    names = list(shards)
    if len(names) > 1 and len(shards[names[-1]]) < size:
        shards[names[-2]].update(shards.pop(names[-1]))
    return shards


@dataclass
class Shard:
    name: str
    pages: dict[str, str]  # output path of each HTML page -> its digest
    searchable: list[str] = field(default_factory=list)  # the pages with indexed content
    words: list[str] = field(default_factory=list)  # every word those pages show

    @cached_property
    def content(self) -> str:
        """A digest of the shard's pages: the same pages give the same bundle."""
        digest = hashlib.blake2b(digest_size=16)
        for rel in sorted(self.pages):
            digest.update(f"{rel}\0{self.pages[rel]}\n".encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Indexed:
    pages: int  # pages indexed
    # What each bundle covers (gzipped JSON), for the next rebuild: the caller keeps it
    # outside the index folder, which is published, and gives it back with that index.
    state: bytes


def index_folder(folder: Path, language: str, output: Path | None = None, *,
                 previous: Path | None = None, previous_state: bytes = b"",
                 pages: Mapping[str, object] | None = None,
                 overlay: Path | None = None) -> Indexed:
    """Index the HTML pages under `folder` into `output` (default `folder/pagefind/`).
    `previous` is an index this function wrote before, and `previous_state` the state it
    returned then: bundles are linked from it rather than written again where their shard
    has not changed. `pages` maps each HTML page's output path to its digest (default:
    read the files); a page in `overlay` (a rebuild's staged pages) takes the place of the
    one in `folder`."""
    output = output or folder / SEARCH_DIR
    shards = _shards(folder, pages)
    last = _read_state(previous_state, language) if previous is not None else _State()
    changed = _read_changed(shards, folder, overlay, previous, last)
    vocabulary = _vocabulary(shards)
    state = _State(language, _digest_of(vocabulary), {shard.name: shard for shard in shards})
    if state.vocabulary != last.vocabulary:
        changed = {shard.name for shard in shards}  # every vocabulary record changes
    bundles = [shard for shard in shards if shard.searchable]

    _write_bundles(folder, overlay, output, language,
                   [s for s in bundles if s.name in changed], vocabulary)
    _link_unchanged(previous, output, bundles, changed)
    _write_manifest(output, bundles)
    return Indexed(sum(len(shard.searchable) for shard in bundles), state.encode())


def _vocabulary(shards: list[Shard]) -> list[str]:
    """Every word of the site's indexed pages, in order."""
    return sorted(set().union(*(shard.words for shard in shards)))


def _link_unchanged(previous: Path | None, output: Path, bundles: list[Shard],
                    changed: set[str]) -> None:
    """The bundles not indexed again, from the previous index."""
    if previous is None:
        return
    for shard in bundles:
        if shard.name not in changed:
            shutil.copytree(previous / shard.name, output / shard.name,
                            copy_function=link_or_copy)


def _write_manifest(output: Path, bundles: list[Shard]) -> None:
    manifest = {"bundles": [f"{shard.name}/" for shard in bundles],
                "exclude": {VOCABULARY_FILTER[0]: VOCABULARY_FILTER[1]}}
    (output / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _shards(folder: Path, pages: Mapping[str, object] | None) -> list[Shard]:
    """The HTML pages (all of `folder`'s, unless `pages` names them) gathered in shards."""
    parts: dict[str, dict[str, str]] = {}
    for rel, digest in (_digests(folder) if pages is None else pages).items():
        if rel.endswith(".html"):
            parts.setdefault(part_of(rel), {})[rel] = str(digest)
    return [Shard(name, shard) for name, shard in gather(parts, SHARD_PAGES).items()]


def _read_changed(shards: list[Shard], folder: Path, overlay: Path | None,
                  previous: Path | None, last: _State) -> set[str]:
    """Fill in each shard's pages and words: from `last` where the previous index has its
    bundle with the same pages, else read from the pages. The names of the shards read."""
    changed = set()
    for shard in shards:
        kept = last.shards.get(shard.name)
        if kept and previous is not None and (previous / shard.name).is_dir() and \
                kept.content == shard.content:
            shard.searchable, shard.words = kept.searchable, kept.words
        else:
            shard.searchable, shard.words = _read_shard(
                [_source(folder, overlay, rel) for rel in shard.pages])
            changed.add(shard.name)
    return changed


def _write_bundles(folder: Path, overlay: Path | None, output: Path, language: str,
                   shards: list[Shard], vocabulary: list[str]) -> None:
    """Index `shards` into a new `output` folder; Pagefind 1.5 now and then leaves some of
    the files it reported written empty: such an index would fail in every browser, so try
    again."""
    for _attempt in range(_ATTEMPTS):
        shutil.rmtree(output, ignore_errors=True)
        output.mkdir(parents=True)
        try:
            _run_apart(lambda: _index_shards(folder, overlay, output, language, shards,
                                             vocabulary))
        except SearchError:
            raise
        except Exception as exc:  # the service reports its failures as bare exceptions
            raise SearchError(f"Pagefind could not index the site: {exc}") from exc
        empty = sorted(p.relative_to(output).as_posix() for p in output.rglob("*")
                       if p.is_file() and p.stat().st_size == 0)
        if not empty:
            return
    raise SearchError(f"Pagefind wrote an incomplete index {_ATTEMPTS} times "
                      f"(empty: {', '.join(empty[:3])})")


def _digest_of(words: list[str]) -> str:
    return hashlib.blake2b("\n".join(words).encode(), digest_size=16).hexdigest()


@dataclass
class _Covered:
    content: str
    searchable: list[str]
    words: list[str]


@dataclass
class _State:
    """What an index covers, kept by the caller for the next rebuild."""

    language: str = ""
    vocabulary: str = ""
    shards: Mapping[str, _Covered | Shard] = field(default_factory=dict)

    def encode(self) -> bytes:
        shards = {name: {"content": shard.content, "searchable": shard.searchable,
                         "words": shard.words} for name, shard in self.shards.items()}
        data = {"format": _FORMAT, "pagefind": _pagefind_version(), "language": self.language,
                "vocabulary": self.vocabulary, "shards": shards}
        return gzip.compress(json.dumps(data).encode(), mtime=0)


def _read_state(encoded: bytes, language: str) -> _State:
    """What an index covers, from the state `index_folder` returned; nothing if it is not
    one this version of Pagefind wrote for this language, or not one this module wrote."""
    try:
        data = json.loads(gzip.decompress(encoded))
        if (data["format"], data["language"], data["pagefind"]) != \
                (_FORMAT, language, _pagefind_version()):
            return _State()
        shards = {str(name): _Covered(str(shard["content"]),
                                      [str(rel) for rel in shard["searchable"]],
                                      [str(word) for word in shard["words"]])
                  for name, shard in data["shards"].items()}
        return _State(language, str(data["vocabulary"]), shards)
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return _State()


def _digests(folder: Path) -> dict[str, str]:
    found = {}
    for path in folder.rglob("*.html"):
        rel = path.relative_to(folder).as_posix()
        if not rel.startswith(SEARCH_DIR + "/"):
            found[rel] = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    return found


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r'title="([^"]*)"')  # Pagefind indexes title attributes too
_WORD = re.compile(r"\w+")
_JOINED = re.compile(r"(?<!\w)\w++(?:[^\w\s]++\w++)+")  # "self-review", "don't", "v1.2"


def _source(folder: Path, overlay: Path | None, rel: str) -> tuple[Path, str]:
    """Where to read the page `rel`: the folder it is in, and its path there."""
    if overlay is not None and (overlay / rel).is_file():
        return overlay, rel
    return folder, rel


def _read_shard(pages: Iterable[tuple[Path, str]]) -> tuple[list[str], list[str]]:
    """The pages of a shard that have indexed content, and the words they show: more words
    than Pagefind indexes rather than fewer, since a missing word would let loose matches
    back in (see the module's notes). So a page's text is read from its indexed element to
    its end, and split both where tags are (as at a <br>) and not (Pagefind reads
    "sc<b>ene</b>" as one word)."""
    searchable, tokens = [], set()
    for root, rel in sorted(pages, key=lambda page: page[1]):
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        body = text.find(_BODY)
        if body < 0:
            continue
        searchable.append(rel)
        text = _SCRIPT.sub(" ", text[body:])
        tokens.update(_TAG.sub("", text).split())
        tokens.update(_TAG.sub(" ", text).split())
        tokens.update(_TITLE.findall(text))
    # Split into words once for the whole shard: its pages share most of their tokens.
    return searchable, sorted(_words(html.unescape(" ".join(tokens)).lower()))


def _words(text: str) -> set[str]:
    """Pagefind indexes a word without its punctuation, and each part of one joined by it
    ("self-review": "selfreview", "self", "review"); so these words are too, that "step."
    may not count as a word new to the site."""
    found = set(_WORD.findall(text))
    found.update("".join(_WORD.findall(joined)) for joined in set(_JOINED.findall(text)))
    return found


def _one_folder(folder: Path, overlay: Path | None, rels: list[str], view: Path) -> Path:
    """A folder holding the pages `rels` as the new site has them: `folder` itself, unless
    some are in `overlay`; then a `view` of links to each. (Pagefind numbers pages in the
    order it finds them, so an index read from two folders would differ from a clean
    build's.)"""
    sources = [_source(folder, overlay, rel) for rel in rels]
    if all(root == folder for root, _ in sources):
        return folder
    shutil.rmtree(view, ignore_errors=True)
    for root, rel in sources:
        target = view / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(str(root / rel), str(target))
    return view


def _glob(rels: Iterable[str]) -> str:
    """A Pagefind (wax) glob matching exactly these files."""
    return "{" + ",".join(re.sub(r"([\\{}\[\]*?,()<>!#$])", r"\\\1", rel)
                          for rel in rels) + "}"


async def _index_shards(folder: Path, overlay: Path | None, output: Path, language: str,
                        shards: list[Shard], vocabulary: list[str]) -> None:
    """Write a bundle for each shard into `output`, with two Pagefind services at once:
    Pagefind's client polls for each answer, which leaves each shard waiting whatever its
    size, and one service keeps less than both cores busy."""
    if not shards:
        return
    try:
        from pagefind.service import PagefindService
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SearchError(f"Pagefind is not installed ({exc}); pip install 'pagefind[bin]'") \
            from exc
    words = " ".join(vocabulary)
    waiting = sorted(shards, key=lambda shard: len(shard.searchable), reverse=True)

    async def index_some() -> None:
        async with PagefindService() as service:
            listening = getattr(service, "_poll_task", None)
            while waiting:
                shard = waiting.pop(0)
                index = await _unless_gone(listening,
                                           service.create_index({"force_language": language}))
                root = _one_folder(folder, overlay, shard.searchable,
                                   output.with_name(f"{output.name}.{shard.name}"))
                try:
                    await _unless_gone(listening, index.add_directory(
                        str(root), glob=_glob(shard.searchable)))
                finally:
                    if root != folder:
                        shutil.rmtree(root)
                await _unless_gone(listening, index.add_custom_record(
                    url=VOCABULARY_URL, content=words, language=language,
                    filters={VOCABULARY_FILTER[0]: [VOCABULARY_FILTER[1]]}))
                await _unless_gone(listening, index.write_files(
                    output_path=str(output / shard.name)))
                await _unless_gone(listening, index.delete_index())
                for unused in (output / shard.name).iterdir():
                    if _UNUSED.fullmatch(unused.name):
                        unused.unlink()

    try:
        await asyncio.gather(*(index_some() for _ in range(min(_SERVICES, len(shards)))))
    except asyncio.CancelledError:  # the client, closing, finds its last request dropped
        raise SearchError(_GONE) from None


def _pagefind_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("pagefind")
    except PackageNotFoundError:  # pragma: no cover - a broken install
        return ""


async def _unless_gone(listening: asyncio.Future[Any] | None, work: Awaitable[T]) -> T:
    """`work`, unless Pagefind's process ends first (killed for lack of memory, say): its
    client listens for answers in a task that then ends, and would wait for them forever."""
    task = asyncio.ensure_future(work)
    if listening is None:  # a version of the client without that task: nothing to watch
        return await task
    await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    if not listening.cancelled():
        listening.exception()  # seen here: not logged as never retrieved when collected
    raise SearchError(_GONE)


def _run_apart(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine on its own event loop in its own thread: the caller may already be
    inside one (a test driving a browser, an embedding application)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(work())).result()

