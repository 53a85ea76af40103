"""The one configured Markdown parser: body → HTML, headings, annotations and links.

Annotations (`::: annotation <criterion>`) comment on the block just above them, the
*passage*. They are rendered beside their passage, and returned separately so the
criterion climb can quote passage and note together.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

CALLOUTS = {"tip": "Tip", "warning": "Warning", "safety": "Safety"}
ANNOTATION = "annotation"


# Plain tuples: a large site builds hundreds of thousands of these, from the body cache.
class Heading(NamedTuple):
    level: int
    text: str
    id: str
    line: int  # 0-based line within the body


class Link(NamedTuple):
    href: str  # as written in the source
    line: int  # file line of the link's target
    col: int  # 1-based column of the target on that line
    image: bool = False


class Annotation(NamedTuple):
    criterion: str  # "" when the opening line names none
    anchor: str
    note_html: str
    passage_html: str
    line: int  # file line of the ::: opening


class Mark(NamedTuple):
    """Where an annotation is and what it assesses, without its text."""

    criterion: str
    anchor: str
    line: int


@dataclass(frozen=True)
class Outline:
    """What checks and indexes need of a rendered body: small enough to keep for every body
    of a large handbook, while the HTML stays in the body cache (see derive.Bodies)."""

    headings: tuple[Heading, ...]
    marks: tuple[Mark, ...]
    links: tuple[Link, ...]

    @property
    def anchors(self) -> frozenset[str]:
        """The ids a link can point to: headings and annotations."""
        return frozenset(h.id for h in self.headings) | {m.anchor for m in self.marks}


@dataclass(frozen=True)
class RenderedBody:
    html: str
    headings: tuple[Heading, ...]
    annotations: tuple[Annotation, ...]
    links: tuple[Link, ...]

    def outline(self) -> Outline:
        return Outline(self.headings,
                       tuple(Mark(a.criterion, a.anchor, a.line) for a in self.annotations),
                       self.links)


LinkRewriter = Callable[[str], str]
CriterionLabel = Callable[[str], tuple[str, str] | None]  # id → (name, url)


def _callout(name: str) -> Callable[..., str]:
    def render(self: RendererHTML, tokens: Sequence[Token], idx: int, _options: OptionsDict,
               _env: EnvType) -> str:
        token = tokens[idx]
        if token.nesting == -1:
            return "</div></aside>\n"
        title = token.info.strip()[len(name):].strip() or CALLOUTS[name]
        return (f'<aside class="callout callout-{name}" aria-label="{escape(CALLOUTS[name])}">'
                f'<p class="callout-title">{escape(title)}</p><div class="callout-body">\n')
    return render


def _table_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
                env: EnvType) -> str:
    # Wide tables scroll inside their own box; the box is focusable so keyboards can scroll it.
    return ('<div class="table-scroll" role="region" aria-label="Table" tabindex="0">'
            + self.renderToken(tokens, idx, options, env))


def _table_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
                 env: EnvType) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


@functools.cache
def make_parser(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable("table")
    md.use(footnote_plugin).use(deflist_plugin).use(tasklists_plugin, label=True)
    md.use(anchors_plugin, min_level=1, max_level=6)
    md.use(container_plugin, ANNOTATION)
    for name in CALLOUTS:
        md.use(container_plugin, name, render=_callout(name))
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    return md


def _blocks(tokens: list[Token]) -> list[list[Token]]:
    """Split a token stream into its top-level blocks."""
    blocks: list[list[Token]] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            blocks.append([])
        blocks[-1].append(token)
        depth += token.nesting if token.level == 0 or depth else 0
    return blocks


def _is_annotation(block: list[Token]) -> bool:
    return block[0].type == f"container_{ANNOTATION}_open"


class _Locator:
    """Finds where a link target is written, since markdown-it only knows a block's lines.

    Targets are searched in order within their block's lines, so two links to the same
    target get their own columns; a target not found there is a reference definition
    elsewhere in the body.
    """

    def __init__(self, body: str, body_line: int) -> None:
        self.body = body
        self.line_starts = [0, *itertools.accumulate(len(line) + 1 for line in body.split("\n"))]
        self.body_line = body_line

    def _offset(self, line: int) -> int:
        return self.line_starts[min(line, len(self.line_starts) - 1)]

    def _position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return self.body_line + line, offset - self.line_starts[line] + 1

    def find(self, href: str, block: tuple[int, int], cursor: int) -> tuple[int, int, int]:
        """(file line, column, new cursor) of `href` at or after `cursor` in the block."""
        start, end = max(cursor, self._offset(block[0])), self._offset(block[1])
        for written in dict.fromkeys((href, unquote(href))):
            found = self.body.find(written, start, end) if written else -1
            if found >= 0:
                return (*self._position(found), found + len(written))
            found = self.body.find(f"]: {written}") if written else -1
            if found >= 0:
                return (*self._position(found + 3), cursor)
        return (*self._position(self._offset(block[0])), cursor)


def _rewrite_links(tokens: list[Token], rewrite: LinkRewriter, body: str,
                   body_line: int) -> list[Link]:
    links: list[Link] = []
    locator = _Locator(body, body_line)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        block = (token.map[0], token.map[1]) if token.map else (0, 0)
        cursor = 0
        for child in token.children:
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else ""
            if not attr:
                continue
            href = str(child.attrs.get(attr, ""))
            line, col, cursor = locator.find(href, block, cursor)
            links.append(Link(href, line, col, image=child.type == "image"))
            child.attrs[attr] = rewrite(href)
    return links


def _headings(tokens: list[Token]) -> tuple[Heading, ...]:
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0:
            text = tokens[index + 1].content
            found.append(Heading(int(token.tag[1]), text, str(token.attrs.get("id", "")),
                                 token.map[0] if token.map else 0))
    return tuple(found)


def render_markdown(
    body: str,
    *,
    body_line: int = 1,
    allow_html: bool = False,
    rewrite_link: LinkRewriter = lambda href: href,
    criterion_label: CriterionLabel = lambda _id: None,
) -> RenderedBody:
    md = make_parser(allow_html)
    env: dict[str, Any] = {}
    tokens = md.parse(body, env)
    links = _rewrite_links(tokens, rewrite_link, body, body_line)

    def html(part: list[Token]) -> str:
        return md.renderer.render(part, md.options, env)

    blocks = _blocks(tokens)
    out: list[str] = []
    annotations: list[Annotation] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        notes: list[list[Token]] = []
        passage = "" if _is_annotation(block) else html(block)
        following = index if _is_annotation(block) else index + 1
        while following < len(blocks) and _is_annotation(blocks[following]):
            notes.append(blocks[following])
            following += 1
        if not notes:
            out.append(passage)
            index += 1
            continue
        asides = []
        for note in notes:
            opening = note[0]
            words = opening.info.split()
            criterion = words[1] if len(words) > 1 else ""
            anchor = f"note-{len(annotations) + 1}"
            note_html = html(note[1:-1])
            label = criterion_label(criterion)
            if label:
                name, url = label
                heading = f'<a href="{escape(url)}">{escape(name)}</a>'
            else:
                name, heading = criterion or "Note", escape(criterion or "Note")
            asides.append(
                f'<aside class="annotation" id="{anchor}" aria-label="Annotation: {escape(name)}">'
                f'<p class="annotation-criterion">{heading}</p>{note_html}</aside>'
            )
            line = body_line + (opening.map[0] if opening.map else 0)
            annotations.append(Annotation(criterion, anchor, note_html, passage, line))
        out.append(f'<div class="annotated"><div class="passage">{passage}</div>'
                   f'<div class="notes">{"".join(asides)}</div></div>\n')
        index = following
    return RenderedBody("".join(out), _headings(tokens), tuple(annotations), tuple(links))


@functools.lru_cache(maxsize=4096)  # descriptors appear on many pages; render each once
def render_inline(text: str, allow_html: bool = False) -> str:
    """Short Markdown such as a rubric descriptor, without a surrounding paragraph."""
    return make_parser(allow_html).renderInline(text)
