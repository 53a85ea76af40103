"""`check`: every problem `build` reports and more, without rendering pages or writing anything.

On top of the build's stages it compiles the templates, promotes links that lead nowhere
and unknown keys (both warnings in `build`, so that a slip does not take the site down) to
errors, and adds the editorial warnings a reviewer would otherwise have to write.

What earlier builds of the handbook kept in its cache (parsed files, rendered bodies, link
checks: each under a key of everything it depends on) is read, never written, so checking
a large handbook after building it takes seconds rather than a full build's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cophandbook.caches import Caches
from cophandbook.diagnostics import Diagnostics
from cophandbook.editorial import review
from cophandbook.fields import STRICT_IN_CHECK as STRICT_FIELDS
from cophandbook.fingerprint import fingerprint
from cophandbook.links import STRICT_IN_CHECK
from cophandbook.pipeline import run
from cophandbook.theme import compile_templates, default_theme, make_env


@dataclass(frozen=True)
class CheckResult:
    problems: Diagnostics
    sources: int  # Markdown files checked


def check(site: Path) -> CheckResult:
    problems = Diagnostics()
    files = fingerprint(site, default_theme(), None, {})
    caches = Caches.for_check(site, {path: digest
                                     for path, (_, _, digest) in files.stamps.items()})
    prepared = run(site, problems, caches)
    if prepared is not None:
        review(prepared.derived, prepared.inbound, problems)
        compile_templates(make_env(site, prepared.theme), problems)
    problems.promote(STRICT_IN_CHECK | STRICT_FIELDS)
    return CheckResult(problems, prepared.sources if prepared else 0)
