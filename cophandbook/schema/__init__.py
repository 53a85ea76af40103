"""Raw sources → the frozen Handbook, one module per kind. The only package that knows fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from cophandbook.diagnostics import Diagnostics
from cophandbook.model import BANDS, Handbook, Settings
from cophandbook.schema import exemplar, exercise, page, rubric, session, skill
from cophandbook.schema.context import Context
from cophandbook.schema.exemplar import validate_exemplar
from cophandbook.schema.exercise import parse_minutes, validate_exercise
from cophandbook.schema.page import validate_page
from cophandbook.schema.rubric import report_skills_without_rubric, validate_rubric
from cophandbook.schema.session import validate_session
from cophandbook.schema.skill import report_folders_without_index, validate_skill
from cophandbook.schema.themes import theme_links
from cophandbook.sources import RawSource

__all__ = ["ALLOWED_KEYS", "parse_minutes", "validate"]

ALLOWED_KEYS = {
    "skill": skill.KEYS,
    "rubric": rubric.KEYS,
    "exemplar": exemplar.KEYS,
    "exercise": exercise.KEYS,
    "session": session.KEYS,
    "page": page.KEYS,
}

# Order matters: rubrics need skills, exemplars need rubrics, sessions need exemplars.
_STEPS: tuple[tuple[str, Callable[[Context, RawSource], None]], ...] = (
    ("skill", validate_skill),
    ("rubric", validate_rubric),
    ("exemplar", validate_exemplar),
    ("exercise", validate_exercise),
    ("session", validate_session),
    ("page", validate_page),
)


def validate(sources: list[RawSource], settings: Settings, problems: Diagnostics) -> Handbook:
    ctx = Context(settings, problems)
    by_kind: dict[str, list[RawSource]] = defaultdict(list)
    for raw in sources:
        by_kind[raw.kind].append(raw)
    for kind, step in _STEPS:
        for raw in by_kind[kind]:
            step(ctx, raw)
    report_folders_without_index(ctx, sources)
    report_skills_without_rubric(ctx)
    return _handbook(ctx)


def _handbook(ctx: Context) -> Handbook:
    """Every valid item, in the order pages list them."""
    skills = sorted(ctx.skills.values(), key=lambda s: (s.order, s.title.lower()))
    return Handbook(
        settings=ctx.settings,
        skills=tuple(skills),
        rubrics=tuple(ctx.rubrics[s.id] for s in skills if s.id in ctx.rubrics),
        exemplars=tuple(sorted(ctx.exemplars.values(), key=lambda e: (
            e.skill, ctx.level_ids.index(e.level), BANDS.index(e.band), e.title.lower()))),
        exercises=tuple(sorted(ctx.exercises.values(), key=lambda e: (e.skill, e.title.lower()))),
        sessions=tuple(sorted(ctx.sessions.values(), key=lambda s: (s.date, s.slug))),
        pages=tuple(sorted(ctx.pages, key=lambda p: p.source.rel)),
        theme_links=theme_links(ctx),
    )
