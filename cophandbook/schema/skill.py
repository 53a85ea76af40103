"""A skill: the index.md of a folder content/skills/<skill>/."""

from __future__ import annotations

from cophandbook.diagnostics import Location
from cophandbook.fields import SLUG_RE
from cophandbook.model import Skill
from cophandbook.schema.context import COMMON_KEYS, Context
from cophandbook.sources import RawSource

KEYS = (*COMMON_KEYS, "order")


def validate_skill(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    skill_id = raw.skill or raw.slug
    if not SLUG_RE.match(skill_id):
        ctx.problems.error("invalid-id", f"skill folder '{skill_id}' is not a valid id",
                           Location(raw.path, 1), "use lowercase letters, digits and hyphens")
        return
    if skill_id in ctx.skills:
        other = ctx.skills[skill_id].source.path
        ctx.problems.error("duplicate-id", f"skill '{skill_id}' is also defined in {other}",
                           Location(raw.path, 1))
        return
    ctx.skills[skill_id] = Skill(
        id=skill_id,
        title=ctx.title(raw, fields),
        summary=fields.text("summary") or "",
        order=fields.integer("order", 0) or 0,
        source=ctx.source(raw),
    )


def report_folders_without_index(ctx: Context, sources: list[RawSource]) -> None:
    """A skill folder whose index.md is missing: its other files name a skill that is not."""
    skill_folders = {raw.skill for raw in sources if raw.skill}
    for skill_id in sorted(skill_folders - set(ctx.skills)):
        first = next(raw for raw in sources if raw.skill == skill_id)
        ctx.problems.error("missing-skill-index", f"skill folder '{skill_id}' has no index.md",
                           Location(first.path, 1),
                           f"add content/skills/{skill_id}/index.md with a title and summary")
