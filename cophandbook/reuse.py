"""Which pages of the previous output a build can keep without rendering them again.

A page is a function of three things: the frame (every input but content/: cophandbook
itself, the theme's templates, the site's templates, handbook.yml, the names of static
files, the base URL, the commit dates), the model without its bodies (front matter, paths,
where exemplars sit on the rubric, the list of pages), and the rendered bodies it reads.
The first two make one digest for the whole site. Pages read bodies only through
`Derived.bodies`, which notes each read, so a build records for every page which bodies it
read and a digest of the site digest and those bodies' cache keys. The next build keeps a
page when the same digest, taken over the same bodies' keys now, comes out the same: with
every input the same, rendering takes the same path, reads the same bodies and writes the
same bytes.

So editing one exemplar's body renders again only the pages that show that body (its own
page, its level pack, the climbs quoting its annotations), while editing front matter,
a template or handbook.yml renders every page again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cophandbook.derive import Derived
from cophandbook.routes import Plan

PageInputs = list[object]  # [page digest, [rels of the bodies it read]]


def site_digest(frame: str, derived: Derived, plan: Plan, planning_reads: Iterable[str]
                ) -> str | None:
    """One digest of everything every page depends on besides the bodies it reads; None
    when bodies have no cache keys to tell them apart (nothing can be kept then)."""
    keys = derived.body_keys
    if not keys:
        return None
    digest = hashlib.blake2b(digest_size=20)
    for part in (
        frame,
        repr(derived.handbook),  # without bodies: Source.body is left out of its repr
        repr(derived.urls),
        repr(sorted((cell, [e.source.rel for e in exemplars])
                    for cell, exemplars in derived.cells.items())),
        repr(sorted((use, [s.source.rel for s in sessions])
                    for use, sessions in derived.used_in.items())),
        repr([(r.site_path, r.template, r.title, r.source.rel if r.source else None)
              for r in plan.routes]),
        # Bodies read while planning (not by one page's view) count for every page.
        repr(sorted((rel, keys.get(rel)) for rel in planning_reads)),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def page_digest(site: str, output: str, reads: Iterable[str], keys: dict[str, str]
                ) -> str | None:
    """The digest of one page's inputs; None if a body it read is gone."""
    digest = hashlib.blake2b(f"{site}\0{output}\0".encode(), digest_size=20)
    for rel in sorted(reads):
        key = keys.get(rel)
        if key is None:
            return None
        digest.update(f"{rel}\0{key}\0".encode())
    return digest.hexdigest()


@dataclass
class Reuse:
    """What render() needs to keep pages: this build's site digest, the previous build's
    page inputs, and `keep(output)`, which puts the previous page in the new output and
    returns what the sink would have (or None when it cannot, so the page is rendered)."""

    site: str
    previous: dict[str, PageInputs]
    keep: Callable[[str], Any | None]
    inputs: dict[str, PageInputs] = field(default_factory=dict)  # this build's, by output
    kept: int = 0  # pages kept

    def unchanged(self, output: str, keys: dict[str, str]) -> bool:
        before = self.previous.get(output)
        if not before or len(before) != 2 or not isinstance(before[1], list):
            return False
        reads = [str(rel) for rel in before[1]]
        now = page_digest(self.site, output, reads, keys)
        return now is not None and now == before[0]
