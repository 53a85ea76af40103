"""`check`: every problem `build` reports and more, without rendering or writing anything.

On top of the build's stages it compiles the templates, promotes links that lead nowhere
and unknown keys (both warnings in `build`, so that a slip does not take the site down) to
errors, and adds the editorial warnings a reviewer would otherwise have to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cophandbook.build import prepare
from cophandbook.diagnostics import Diagnostics
from cophandbook.editorial import review
from cophandbook.fields import STRICT_IN_CHECK as STRICT_FIELDS
from cophandbook.links import STRICT_IN_CHECK
from cophandbook.theme import compile_templates, make_env


@dataclass(frozen=True)
class CheckResult:
    problems: Diagnostics
    sources: int  # Markdown files checked


def check(site: Path) -> CheckResult:
    problems = Diagnostics()
    prepared = prepare(site, problems)
    if prepared is not None:
        review(prepared.derived, prepared.inbound, problems)
        compile_templates(make_env(site, prepared.theme), problems)
    problems.promote(STRICT_IN_CHECK | STRICT_FIELDS)
    return CheckResult(problems, prepared.sources if prepared else 0)
