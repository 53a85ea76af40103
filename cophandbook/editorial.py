"""Editorial warnings for `check`: content that builds, but that a reviewer would question.

Not errors, because each has a legitimate early state (an exemplar waiting for its
annotations, an exercise not run yet); `check --strict` makes them fail.
"""

from __future__ import annotations

from cophandbook.derive import Derived
from cophandbook.diagnostics import Diagnostics
from cophandbook.links import LinkGraph
from cophandbook.urls import Urls


def _unannotated_exemplars(derived: Derived, problems: Diagnostics) -> None:
    for exemplar in derived.handbook.exemplars:
        if not derived.outline(exemplar.source).marks:
            rubric = derived.handbook.rubric(exemplar.skill)
            example = rubric.criteria[0].id if rubric and rubric.criteria else "<criterion>"
            level = derived.handbook.settings.level(exemplar.level)
            problems.warning(
                "unannotated-exemplar",
                "this exemplar has no annotation, so readers cannot see what places it at "
                f"{level.name if level else exemplar.level}",
                exemplar.source.location,
                f"after a passage, add '::: annotation {example}', a line on what it shows, "
                "and ':::'",
            )


def _unused_exercises(derived: Derived, problems: Diagnostics) -> None:
    used = {(ref.skill, ref.slug) for s in derived.handbook.sessions for ref in s.exercises}
    for exercise in derived.handbook.exercises:
        if (exercise.skill, exercise.slug) not in used:
            problems.warning(
                "unused-exercise",
                "no session has run this exercise yet",
                exercise.source.location,
                f"after running it, list '{exercise.slug}' under 'exercises:' in that "
                "session's notes",
            )


def _orphan_pages(derived: Derived, inbound: LinkGraph, problems: Diagnostics) -> None:
    for page in derived.handbook.guides():
        linkers = inbound.get(Urls.output_file(Urls.page(page)), set()) - {page.source.rel}
        if not linkers:
            problems.warning(
                "orphan-page",
                "no other page links to this guide; readers only find it in the guides list",
                page.source.location,
                f"link to it where it helps, with a relative link to {page.source.rel}",
            )


def review(derived: Derived, inbound: LinkGraph, problems: Diagnostics) -> None:
    _unannotated_exemplars(derived, problems)
    _unused_exercises(derived, problems)
    _orphan_pages(derived, inbound, problems)
