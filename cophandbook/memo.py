"""Results of pure steps kept between builds in one process (the preview server).

A key holds everything its result depends on (a file's content hash, a body and what its
links resolve against), so a hit is always right and nothing needs invalidating. Entries a
build did not use are dropped when it finishes, so a long preview session stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from cophandbook.diagnostics import Diagnostics

T = TypeVar("T")


class Memo:
    def __init__(self) -> None:
        self._entries: dict[Hashable, Any] = {}
        self._used: set[Hashable] = set()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        self._used.add(key)
        if key in self._entries:
            self.hits += 1
            return self._entries[key]  # type: ignore[no-any-return]
        self.misses += 1
        value = self._entries[key] = make()
        return value

    def put(self, key: Hashable, value: object) -> None:
        """Keep `value` under `key` in place of what was there (a result that stands for the
        last build, not one computed from its key)."""
        self._used.add(key)
        self._entries[key] = value

    def has(self, key: Hashable) -> bool:
        return key in self._entries

    def forget(self, key: Hashable) -> None:
        """Drop a result that must not be replayed (made from a file that was changing)."""
        self._entries.pop(key, None)

    def replay(self, key: Hashable, problems: Diagnostics,
               make: Callable[[Diagnostics], T]) -> T:
        """Like `get` for a step that reports problems: a hit reports them again."""
        def run() -> tuple[T, list[Any]]:
            found = Diagnostics()
            return make(found), found.items

        value, items = self.get(key, run)
        problems.items.extend(items)
        return value

    def start_build(self) -> None:
        self._used = set()
        self.hits = self.misses = 0

    def finish_build(self, keep: AbstractSet[Hashable] = frozenset()) -> None:
        """Forget what this build did not use (deleted files, old versions of a body), but
        for `keep`: what an earlier build used, when this one took that build's results
        without asking for them."""
        for key in self._entries.keys() - self._used - keep:
            del self._entries[key]

    def used(self) -> frozenset[Hashable]:
        """What this build used."""
        return frozenset(self._used)
