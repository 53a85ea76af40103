"""The criteria and exercises that handbook.yml's feedback themes name, resolved once every
rubric and exercise is known."""

from __future__ import annotations

from cophandbook.fields import choices_hint
from cophandbook.model import CriterionRef, ThemeLinks, Written
from cophandbook.schema.context import Context
from cophandbook.schema.itemrefs import resolve


def theme_links(ctx: Context) -> tuple[ThemeLinks, ...]:
    """The criteria and exercises each declared feedback theme names, resolved."""
    links = []
    for theme in ctx.settings.feedback_themes:
        criteria = tuple(ref for written in theme.criteria_refs
                         if (ref := _criterion_ref(ctx, written)))
        skills = list(dict.fromkeys(ref.skill for ref in criteria))
        exercises = resolve(ctx, "exercise", [(w.text, w.location) for w in theme.exercise_refs],
                            ctx.exercises, skills)
        if criteria or exercises:
            links.append(ThemeLinks(theme.id, criteria, exercises))
    return tuple(links)


def _criterion_ref(ctx: Context, written: Written) -> CriterionRef | None:
    """`skill/criterion`, or a criterion id that one skill's rubric has."""
    if "/" in written.text:
        skill_id, _, crit_id = written.text.partition("/")
        if skill_id not in ctx.skills:
            ctx.problems.error("unknown-skill", f"unknown skill '{skill_id}'",
                               written.location, choices_hint(skill_id, ctx.skills))
            return None
        found = ctx.criterion(skill_id, crit_id, written.location)
        return CriterionRef(skill_id, found) if found else None
    having = [skill for skill, rubric in ctx.rubrics.items()
              if rubric.criterion(written.text) is not None]
    if len(having) == 1:
        return CriterionRef(having[0], written.text)
    if having:
        options = ", ".join(f"{skill}/{written.text}" for skill in sorted(having))
        ctx.problems.error("ambiguous-reference", f"'{written.text}' is a criterion of "
                           f"several skills: {options}", written.location,
                           "write it as skill/criterion")
        return None
    criteria = {c.id for rubric in ctx.rubrics.values() for c in rubric.criteria}
    ctx.problems.error("unknown-criterion", f"no skill's rubric has the criterion "
                       f"'{written.text}'", written.location,
                       choices_hint(written.text, criteria))
    return None
