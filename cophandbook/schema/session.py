"""A session: a dated meeting, with the skills, exercises and exemplars it covered, and the
feedback given."""

from __future__ import annotations

from cophandbook.diagnostics import Location
from cophandbook.fields import Fields, choices_hint
from cophandbook.model import FeedbackNote, ItemRef, Session
from cophandbook.schema.context import COMMON_KEYS, Context, Item
from cophandbook.schema.itemrefs import resolve
from cophandbook.sources import RawSource

KEYS = (*COMMON_KEYS, "date", "skills", "facilitator", "exercises", "exemplars_reviewed",
        "feedback")


def validate_session(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    title = ctx.title(raw, fields)
    date = fields.date("date", required=True)
    skills = _skills(ctx, fields)
    exercises = _refs(ctx, fields, "exercises", ctx.exercises, skills)
    exemplars = _refs(ctx, fields, "exemplars_reviewed", ctx.exemplars, skills)
    feedback = _feedback(ctx, fields)
    if date is None:
        return
    if raw.slug in ctx.sessions:
        ctx.problems.error("duplicate-id", f"session '{raw.slug}' is also defined in "
                           f"{ctx.sessions[raw.slug].source.path}", Location(raw.path, 1))
        return
    ctx.sessions[raw.slug] = Session(
        slug=raw.slug,
        title=title,
        date=date,
        skills=tuple(skills),
        facilitator=fields.text("facilitator") or "",
        exercises=exercises,
        exemplars_reviewed=exemplars,
        feedback=feedback,
        summary=fields.text("summary") or "",
        source=ctx.source(raw),
    )


def _skills(ctx: Context, fields: Fields) -> list[str]:
    skills = []
    for text, loc in fields.text_list("skills"):
        if text in ctx.skills:
            skills.append(text)
        else:
            ctx.problems.error("unknown-skill", f"unknown skill '{text}'", loc,
                               choices_hint(text, ctx.skills))
    return skills


def _refs(ctx: Context, fields: Fields, key: str, registry: dict[tuple[str, str], Item],
          skills: list[str]) -> tuple[ItemRef, ...]:
    """Resolve `slug` (within the session's skills first) or `skill/slug` references."""
    return resolve(ctx, key.split("_")[0].rstrip("s"), fields.text_list(key), registry, skills)


def _feedback(ctx: Context, fields: Fields) -> tuple[FeedbackNote, ...]:
    notes: list[FeedbackNote] = []
    declared = [t.id for t in ctx.settings.feedback_themes]
    for item in fields.node_list("feedback"):
        loc = Location(fields.path, item.line, item.col)
        if isinstance(item.value, str):  # "- rushing" is short for {theme: rushing}
            entry = Fields.shorthand("theme", item, fields.path, ctx.problems)
        elif isinstance(item.value, dict):
            entry = Fields(item, fields.path, ctx.problems)
        else:
            ctx.problems.error("wrong-type", "each feedback item should be a mapping with "
                               "'theme' and 'note'", loc)
            continue
        entry.reject_unknown(("theme", "note"), "a feedback item")
        theme = entry.slug("theme", required=True)
        if theme is None:
            continue
        if declared and theme not in declared:
            ctx.problems.error("unknown-theme", f"unknown feedback theme '{theme}'",
                               entry.loc("theme"), choices_hint(theme, declared)
                               + " (themes are declared in handbook.yml)")
            continue
        notes.append(FeedbackNote(theme, entry.text("note") or ""))
    return tuple(notes)
