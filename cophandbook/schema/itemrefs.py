"""References to exemplars and exercises, written `slug` or `skill/slug`."""

from __future__ import annotations

from cophandbook.diagnostics import Location
from cophandbook.fields import choices_hint
from cophandbook.model import ItemRef
from cophandbook.schema.context import Context, Item


def resolve(ctx: Context, kind: str, written: list[tuple[str, Location]],
            registry: dict[tuple[str, str], Item], skills: list[str]) -> tuple[ItemRef, ...]:
    """Each reference's item: a slug alone is looked for within `skills` first, then in every
    skill; what leads nowhere, or to several items, is reported and left out."""
    resolved: list[ItemRef] = []
    for text, loc in written:
        slug, candidates = _candidates(ctx, kind, text, registry, skills)
        if not candidates and any(k[1] == slug for k in ctx.invalid):
            continue  # the target has its own error already
        if len(candidates) == 1:
            resolved.append(ItemRef(*candidates[0]))
        elif candidates:
            options = ", ".join(f"{s}/{n}" for s, n in sorted(candidates))
            ctx.problems.error("ambiguous-reference", f"'{text}' matches several "
                               f"{kind}s: {options}", loc, "write it as skill/slug")
        else:
            ctx.problems.error("unknown-reference", f"no {kind} '{text}'", loc,
                               choices_hint(slug, sorted({k[1] for k in registry})))
    return tuple(resolved)


def _candidates(ctx: Context, kind: str, text: str, registry: dict[tuple[str, str], Item],
                skills: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """The slug `text` names, and the keys of the items it may mean."""
    if "/" in text:
        skill_id, _, slug = text.partition("/")
        return slug, [(skill_id, slug)] if (skill_id, slug) in registry else []
    everywhere = ctx.slugs(kind, registry).get(text, [])
    return text, [k for k in everywhere if k[0] in skills] or everywhere
