"""An exemplar: a piece of work placed at a level, and on some of its rubric's criteria."""

from __future__ import annotations

from cophandbook.fields import Fields, choices_hint
from cophandbook.model import BANDS, Exemplar
from cophandbook.schema.context import COMMON_KEYS, Context
from cophandbook.schemes import is_allowed_url, refused_urls
from cophandbook.sources import RawSource

KEYS = (*COMMON_KEYS, "skill", "level", "criteria", "contributor", "anonymous", "date",
        "media", "tags", "band", "next_step", "calibration")


def validate_exemplar(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    title = ctx.title(raw, fields)
    skill_id = ctx.skill_of(raw, fields)
    level_text = fields.text("level", required=True, example=ctx.level_ids[0])
    level = level_text and ctx.level(level_text, fields.loc("level"))
    assessment = _assessment(ctx, fields, skill_id)
    anonymous = fields.boolean("anonymous")
    contributor = fields.text("contributor") or ""
    date = fields.date("date")
    tags = tuple(tag for tag, _ in fields.text_list("tags"))
    media = _url(ctx, fields, "media")
    band = _band(ctx, fields)
    next_step = _inline_markdown(ctx, fields, "next_step")
    calibration = fields.boolean("calibration", default=True)
    if skill_id is None or not level:
        if skill_id:
            ctx.invalid.add((skill_id, raw.slug))
        return
    ctx.add(ctx.exemplars, (skill_id, raw.slug), raw, Exemplar(
        skill=skill_id,
        slug=raw.slug,
        title=title,
        level=level,
        assessment=assessment,
        contributor="" if anonymous else contributor,
        anonymous=anonymous,
        date=date,
        media=media,
        media_line=fields.loc("media").line if media else 0,
        tags=tags,
        summary=fields.text("summary") or "",
        source=ctx.source(raw),
        band=band,
        next_step=next_step,
        calibration=calibration,
    ))


def _assessment(ctx: Context, fields: Fields, skill_id: str | None
                ) -> tuple[tuple[str, str], ...]:
    """'criteria:' as (criterion, level) pairs, leaving out the ones that name nothing known."""
    assessment: list[tuple[str, str]] = []
    mapping = fields.mapping("criteria")
    if mapping is None or not skill_id:
        return ()
    for crit_id in mapping.entries:
        crit = ctx.criterion(skill_id, crit_id, mapping.loc(crit_id))
        value = mapping.text(crit_id)
        at = value and ctx.level(value, mapping.loc(crit_id))
        if crit and at:
            assessment.append((crit, at))
    return tuple(assessment)


def _url(ctx: Context, fields: Fields, key: str) -> str:
    value = fields.text(key) or ""
    if value and not is_allowed_url(value):
        ctx.problems.error(
            "unsafe-url",
            f"'{key}' uses a URL scheme that is not allowed: '{value}'",
            fields.loc(key),
            "use an http(s) link or a path such as /recordings/talk.mp3",
        )
        return ""
    return value


def _band(ctx: Context, fields: Fields) -> str:
    value = fields.text("band")
    if value is None or value in BANDS:
        return value or "secure"
    ctx.problems.error("unknown-band", f"unknown band '{value}'", fields.loc("band"),
                       choices_hint(value, BANDS) + " (where the work sits within its "
                       "level: only just there, clearly there, or nearly at the next)")
    return "secure"


def _inline_markdown(ctx: Context, fields: Fields, key: str) -> str:
    """Text shown as inline Markdown, like a rubric descriptor: its links are judged
    here, since no body's link check sees them."""
    text = fields.text(key) or ""
    for url in refused_urls(text):
        ctx.problems.error("unsafe-url", f"'{url}' is not a link that can be published",
                           fields.loc(key),
                           "links may use http, https, mailto or a relative path")
    return text
