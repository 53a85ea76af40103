"""The model validated by the preview's last build, reused when only bodies changed since.

Validation never reads a body: the model holds one only as its Source's text (a digest and
a place in the file). So when every content file's place, kind, front matter, body line
and date are those validated last time, in the same order and with the same settings, the
model is the last one with the edited files' texts in their Sources, and its problems are
the last ones. Validating a large handbook takes far longer than this check, for the
common edit, a body's (see docs/benchmarks.md).

Front matter is compared as marshalled, which tells types apart: YAML's `true`, `1` and
`1.0` are equal to Python, not to validation.
"""

from __future__ import annotations

import marshal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from cophandbook.diagnostics import Diagnostic, Diagnostics
from cophandbook.memo import Memo
from cophandbook.model import Handbook, Settings, Source
from cophandbook.schema import validate
from cophandbook.sourcecache import encodable, encode_located
from cophandbook.sources import RawSource

_KEY = ("validated",)
T = TypeVar("T")


@dataclass(frozen=True)
class Validated:
    settings: Settings
    sources: tuple[RawSource, ...]
    handbook: Handbook
    problems: tuple[Diagnostic, ...]


def validate_again(sources: list[RawSource], settings: Settings, problems: Diagnostics,
                   memo: Memo) -> Handbook:
    """`validate`, or the model `memo` holds from the last build with new bodies."""
    last: Validated | None = memo.get(_KEY, lambda: None)
    handbook = _with_new_bodies(last, sources, settings)
    if last is not None and handbook is not None:
        found = list(last.problems)
    else:
        into = Diagnostics()
        handbook = validate(sources, settings, into)
        found = into.items
    problems.items.extend(found)
    memo.put(_KEY, Validated(settings, tuple(sources), handbook, tuple(found)))
    return handbook


def moved_bodies(last: Sequence[RawSource], sources: Sequence[RawSource]
                 ) -> list[RawSource] | None:
    """The files of `sources` whose bodies, and nothing else, changed since `last`; None
    when anything else did (a file's front matter, place or date, a file added or gone)."""
    if len(sources) != len(last):
        return None
    moved = []
    for new, old in zip(sources, last, strict=True):
        if new is old:  # the memo's parse of an unchanged file
            continue
        if not _same_but_body(new, old):
            return None
        moved.append(new)
    return moved


def _with_new_bodies(last: Validated | None, sources: list[RawSource], settings: Settings
                     ) -> Handbook | None:
    if last is None or settings != last.settings:
        return None
    changed = moved_bodies(last.sources, sources)
    if changed is None:
        return None
    if not changed:
        return last.handbook
    moved = {new.rel: Source(new.path, new.rel, new.text, new.body_line, new.updated)
             for new in changed}
    model = last.handbook

    def swapped(items: tuple[T, ...]) -> tuple[T, ...]:
        return tuple(replace(item, source=moved[rel])  # type: ignore[type-var]
                     if (rel := item.source.rel) in moved else item  # type: ignore[attr-defined]
                     for item in items)

    return replace(model, settings=settings, skills=swapped(model.skills),
                   rubrics=swapped(model.rubrics), exemplars=swapped(model.exemplars),
                   exercises=swapped(model.exercises), sessions=swapped(model.sessions),
                   pages=swapped(model.pages))


def _same_but_body(new: RawSource, old: RawSource) -> bool:
    if (new.path, new.rel, new.kind, new.skill, new.slug, new.body_line, new.updated) != \
            (old.path, old.rel, old.kind, old.skill, old.slug, old.body_line, old.updated):
        return False
    if new.meta is None or old.meta is None:
        return new.meta is old.meta
    if not (encodable(new.meta) and encodable(old.meta)):
        return False
    return marshal.dumps(encode_located(new.meta)) == marshal.dumps(encode_located(old.meta))
