"""A page: any other Markdown file of content/, published at the path of its file."""

from __future__ import annotations

from pathlib import PurePosixPath

from cophandbook.model import Page
from cophandbook.schema.context import COMMON_KEYS, Context
from cophandbook.sources import RawSource

KEYS = (*COMMON_KEYS, "order")


def validate_page(ctx: Context, raw: RawSource) -> None:
    fields = ctx.fields(raw, KEYS)
    rel = PurePosixPath(raw.rel)
    folder = rel.parent.as_posix()
    parts = [] if folder == "." else [folder]
    if rel.stem != "index":
        parts.append(rel.stem)
    url_path = "/".join(parts) + "/" if parts else ""
    ctx.pages.append(Page(
        slug=raw.slug,
        url_path=url_path,
        title=ctx.title(raw, fields),
        summary=fields.text("summary") or "",
        order=fields.integer("order", 0) or 0,
        source=ctx.source(raw),
    ))
