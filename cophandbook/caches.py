"""What one run of the pipeline may take from earlier runs, and keep for later ones.

Three caches live in the handbook's cache folder (see bodycache.default_folder): rendered
Markdown (bodycache.py), parsed content files (sourcecache.py) and link checks (kept.py).
A process that runs the pipeline again and again (the preview) also keeps, in memory, what
did not change from one run to the next (memo.py). The stages take them as one `Caches`,
made here, in one of three ways:

- `for_build`: read the folder, and write it back for the next run;
- `for_check`: read the folder, write nothing;
- `for_preview`: read the folder for the first run only, keep the rest in memory, write
  only rendered Markdown (shared with `build`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cophandbook.bodycache import FORMAT, BodyCache, default_folder
from cophandbook.kept import KeptEntries
from cophandbook.memo import Memo
from cophandbook.sourcecache import ParsedSources

if TYPE_CHECKING:
    from cophandbook.derive import Derived

LINKS_FILE = "links.index"  # link checks kept for the next build, in the cache folder


@dataclass
class Caches:
    bodies: BodyCache | None  # None: bodies are rendered, and nothing is kept
    parsed: ParsedSources | None
    links: KeptEntries | None
    memo: Memo | None = None  # what the last run in this process kept in memory
    writes: bool = False  # whether `keep` writes what this run found for the next
    # The last run's prepared stages (a pipeline.Prepared), for this one to bring up to
    # date when only bodies changed, with the memo entries they stand on (see `settle`).
    # Taken by the run, so that nothing else holds them once it is done with them.
    last: object | None = None
    memo_keys: frozenset[Hashable] = field(default_factory=frozenset)

    @classmethod
    def none(cls) -> Caches:
        return cls(None, None, None)

    @classmethod
    def for_build(cls, site: Path, digests: Mapping[str, str]) -> Caches:
        """`digests` maps each input file's path to its content digest, as the fingerprint
        took it: the parsed files are found by it."""
        bodies = BodyCache(default_folder(site))
        return cls(bodies, ParsedSources(bodies.folder, bodies.code, digests),
                   _links(bodies), writes=True)

    @classmethod
    def for_check(cls, site: Path, digests: Mapping[str, str]) -> Caches:
        bodies = BodyCache(default_folder(site), read_only=True)
        return cls(bodies, ParsedSources(bodies.folder, bodies.code, digests), _links(bodies))

    @classmethod
    def for_preview(cls, bodies: BodyCache, memo: Memo, digests: Mapping[str, str],
                    link_checks: dict[str, bytes] | None) -> Caches:
        """Until a run has succeeded, what the last `build` kept (parsed files, link
        checks) saves the first one most of its reading; after that the memo and the last
        run's `link_checks` hold all of it."""
        first = link_checks is None
        parsed = ParsedSources(bodies.folder if first else None, bodies.code, digests)
        links = _links(bodies) if first else KeptEntries(None, entries=link_checks)
        return cls(bodies, parsed, links, memo)

    def start(self) -> None:
        if self.memo is not None:
            self.memo.start_build()

    def settle(self, again: bool) -> None:
        """Once the stages before rendering ran: let go of what the memo held for the last
        run and this one did not use (but for what a run prepared `again` stands on)."""
        if self.memo is not None:
            self.memo.finish_build(keep=self.memo_keys if again else frozenset())

    def keep(self, derived: Derived) -> None:
        """Write what the next run can take from this one: the outlines of its bodies, the
        parsed files and the link checks (every entry is right whatever happens next)."""
        if not self.writes:
            return
        keys = derived.body_keys
        if self.bodies is not None:
            self.bodies.keep_outlines({keys[rel]: outline
                                       for rel, outline in derived.bodies.outlines().items()
                                       if rel in keys})
        if self.parsed is not None:
            self.parsed.save()
        if self.links is not None:
            self.links.save()

    def prune(self, derived: Derived) -> None:
        """After a run that wrote its output: keep only the bodies it used."""
        if self.writes and self.bodies is not None:
            self.bodies.keep_only(set(derived.body_keys.values()))


def _links(bodies: BodyCache) -> KeptEntries:
    return KeptEntries(bodies.folder / LINKS_FILE, f"{FORMAT} {bodies.code}")
