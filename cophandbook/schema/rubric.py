"""A skill's rubric: its criteria, each described at every level."""

from __future__ import annotations

from cophandbook.diagnostics import Location
from cophandbook.fields import Fields
from cophandbook.model import Criterion, Rubric
from cophandbook.pageids import theme_element
from cophandbook.schema.context import COMMON_KEYS, Context
from cophandbook.schemes import refused_urls
from cophandbook.sources import RawSource
from cophandbook.yamltext import Located

KEYS = (*COMMON_KEYS, "skill", "criteria")
CRITERION_KEYS = ("id", "name", "summary", "descriptors")


def validate_rubric(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    skill_id = ctx.skill_of(raw, fields)
    title = ctx.title(raw, fields)
    if skill_id is None:
        return
    criteria: list[Criterion] = []
    for item in fields.node_list("criteria"):
        criterion = _criterion(ctx, raw, item, criteria)
        if criterion is not None:
            criteria.append(criterion)
    if not criteria:
        ctx.problems.error("missing-field", "a rubric needs at least one criterion",
                           fields.loc("criteria"), "add 'criteria:' with id, name and "
                           "descriptors for each level")
    if skill_id in ctx.rubrics:
        ctx.problems.error("duplicate-id", f"skill '{skill_id}' already has a rubric in "
                           f"{ctx.rubrics[skill_id].source.path}", Location(raw.path, 1))
        return
    ctx.rubrics[skill_id] = Rubric(skill_id, title, tuple(criteria), ctx.source(raw))


def _criterion(ctx: Context, raw: RawSource, item: Located, before: list[Criterion]
               ) -> Criterion | None:
    """One entry of 'criteria:'; None when it cannot be kept (reported)."""
    loc = Location(raw.path, item.line, item.col)
    if not isinstance(item.value, dict):
        ctx.problems.error("wrong-type", "each criterion should be a mapping with id, "
                           "name and descriptors", loc)
        return None
    crit = Fields(item, raw.path, ctx.problems)
    crit.reject_unknown(CRITERION_KEYS, "a criterion")
    crit_id = crit.slug("id", required=True)
    if crit_id is None:
        return None
    if any(c.id == crit_id for c in before):
        ctx.problems.error("duplicate-id", f"criterion '{crit_id}' is listed twice", loc)
        return None
    # Kept all the same, so what names it hears nothing more: one mistake, one error.
    _report_reserved_id(ctx, crit_id, crit)
    descriptors = _descriptors(ctx, crit)
    missing = [lvl for lvl in ctx.level_ids if not descriptors.get(lvl)]
    if missing:
        ctx.problems.error(
            "missing-descriptor",
            f"criterion '{crit_id}' has no descriptor for {', '.join(missing)}",
            loc,
            "describe what this criterion looks like at every level",
        )
    return Criterion(
        id=crit_id,
        name=crit.text("name") or crit_id.replace("-", " ").capitalize(),
        summary=crit.text("summary") or "",
        descriptors=tuple((lvl, descriptors.get(lvl, "")) for lvl in ctx.level_ids),
        location=loc,
    )


def _report_reserved_id(ctx: Context, crit_id: str, crit: Fields) -> None:
    element = theme_element(crit_id)
    if element is None:
        return
    ctx.problems.error(
        "reserved-id", f"criterion id '{crit_id}' is taken: the rubric page gives "
        f"its row that id, and {element} has that id too", crit.loc("id"),
        "rename the criterion (here and where exemplars, exercises and annotations "
        "name it): a page with one id twice breaks the links and scripts that "
        "look for it")


def _descriptors(ctx: Context, crit: Fields) -> dict[str, str]:
    """A criterion's descriptor of each known level; their links are judged here, since no
    body's link check sees them."""
    descriptors: dict[str, str] = {}
    mapping = crit.mapping("descriptors")
    if mapping is None:
        return descriptors
    for level_id in mapping.entries:
        if not ctx.level(level_id, mapping.loc(level_id)):
            continue
        descriptors[level_id] = mapping.text(level_id) or ""
        for url in refused_urls(descriptors[level_id]):
            ctx.problems.error(
                "unsafe-url", f"'{url}' is not a link that can be published",
                mapping.loc(level_id),
                "links may use http, https, mailto or a relative path")
    return descriptors


def report_skills_without_rubric(ctx: Context) -> None:
    for skill in ctx.skills.values():
        if skill.id not in ctx.rubrics:
            ctx.problems.error("missing-rubric", f"skill '{skill.id}' has no rubric",
                               skill.source.location,
                               f"add content/skills/{skill.id}/rubric.md with its criteria")
