"""An exercise: practice for some levels of a skill, aimed at some of its criteria."""

from __future__ import annotations

import re

from cophandbook.model import Exercise
from cophandbook.schema.context import COMMON_KEYS, Context
from cophandbook.sources import RawSource

KEYS = (*COMMON_KEYS, "skill", "levels", "criteria", "duration", "group_size")
_DURATION_RE = re.compile(
    r"^\s*(?:(\d+)\s*(?:h|hr|hrs|hours?))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?)?)?\s*$", re.I
)


def parse_minutes(text: str) -> int | None:
    """'15 min' → 15, '1 h 30' → 90, '1 hour' → 60; None when it is not a duration."""
    match = _DURATION_RE.match(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes = match.groups()
    return int(hours or 0) * 60 + int(minutes or 0)


def validate_exercise(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    title = ctx.title(raw, fields)
    skill_id = ctx.skill_of(raw, fields)
    levels = [lvl for text, loc in fields.text_list("levels") if (lvl := ctx.level(text, loc))]
    if not fields.has("levels"):
        ctx.problems.error("missing-field", "'levels' is required: who is this exercise for?",
                           fields.loc(), f"add a line like 'levels: [{ctx.level_ids[0]}]'")
    criteria = [
        crit for text, loc in fields.text_list("criteria")
        if skill_id and (crit := ctx.criterion(skill_id, text, loc))
    ]
    duration = fields.text("duration") or ""
    minutes = parse_minutes(duration) if duration else None
    if duration and minutes is None:
        ctx.problems.error("invalid-duration", f"'duration' should read like '15 min' or "
                           f"'1 h 30', not '{duration}'", fields.loc("duration"))
    if skill_id is None:
        return
    ctx.add(ctx.exercises, (skill_id, raw.slug), raw, Exercise(
        skill=skill_id,
        slug=raw.slug,
        title=title,
        levels=tuple(sorted(set(levels), key=ctx.level_ids.index)),
        criteria=tuple(criteria),
        duration=duration,
        minutes=minutes,
        group_size=fields.text("group_size") or "",
        summary=fields.text("summary") or "",
        source=ctx.source(raw),
    ))
