"""The one configured Markdown parser: body → HTML, headings, annotations and links.

Annotations (`::: annotation <criterion>`) comment on the block just above them, the
*passage*. They are rendered beside their passage, and returned separately so the
criterion climb can quote passage and note together.

Bodies come from many contributors, so rendering is defensive (docs/security.md): raw HTML
is shown as text unless the handbook allows it, and then it is sanitised with nh3; links and
images may use http, https, mailto or a relative URL only; heading ids never repeat, nor
take an id the page's template or annotations use; nesting too deep to parse is reported
rather than dropped. What a contributor should hear about is kept as `BodyNote`s.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import marshal
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape
from mdit_py_plugins.anchors.index import slugify
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

# Ids the theme's templates give elements (TEMPLATE_IDS), and those rendering gives notes and
# footnotes (_RENDER_ID): a heading with one of these names gets another id.
from cophandbook.pageids import RENDER_ID as _RENDER_ID
from cophandbook.pageids import TEMPLATE_IDS
from cophandbook.schemes import URL_SCHEMES, is_allowed_url

CALLOUTS = {"tip": "Tip", "warning": "Warning", "safety": "Safety"}
ANNOTATION = "annotation"
# markdown-it drops everything below its nesting limit (20 by default) without a word.
# Real writing never nests this deep; past it the body is reported (`markdown-too-deep`).
MAX_NESTING = 100
# Text that may hold raw HTML: a tag, a closing tag, a comment or a declaration.
_MAYBE_HTML = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*[\s/>]|/[A-Za-z]|[!?])")


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


class BodyNote(NamedTuple):
    """Something found while rendering that the contributor should hear about: kept with
    the outline, so a body taken from the cache reports it again."""

    code: str  # a diagnostic code: raw-html, unsafe-url, markdown-too-deep or -too-slow
    line: int  # file line
    col: int  # 1-based column, 0 when unknown
    text: str  # what was found, as written


@dataclass(frozen=True)
class Outline:
    """What checks and indexes need of a rendered body: small enough to keep for every body
    of a large handbook, while the HTML stays in the body cache (see derive.Bodies)."""

    headings: tuple[Heading, ...]
    marks: tuple[Mark, ...]
    # The links, marshalled: only the link check of a changed body reads them, and as
    # objects they were a large share of a large build's memory.
    packed_links: bytes
    notes: tuple[BodyNote, ...] = ()

    @classmethod
    def of(cls, headings: tuple[Heading, ...], marks: tuple[Mark, ...],
           links: Sequence[Sequence[object]], notes: tuple[BodyNote, ...] = ()) -> Outline:
        return cls(headings, marks, marshal.dumps([tuple(link) for link in links]), notes)

    @property
    def links(self) -> tuple[Link, ...]:
        return tuple(map(Link._make, marshal.loads(self.packed_links)))

    @functools.cached_property  # every build asks, of every body (the link check)
    def anchors(self) -> frozenset[str]:
        """The ids a link can point to: headings and annotations."""
        return frozenset(h.id for h in self.headings) | {m.anchor for m in self.marks}


@dataclass(frozen=True)
class RenderedBody:
    html: str
    headings: tuple[Heading, ...]
    annotations: tuple[Annotation, ...]
    links: tuple[Link, ...]
    notes: tuple[BodyNote, ...] = ()

    def outline(self) -> Outline:
        return Outline.of(self.headings,
                          tuple(Mark(a.criterion, a.anchor, a.line) for a in self.annotations),
                          self.links, self.notes)


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


def _note_dropped_nesting(md: MarkdownIt) -> None:
    """Note the first line markdown-it is about to skip for nesting past `maxNesting`."""
    tokenize = md.block.tokenize

    def tokenize_noting_depth(state: StateBlock, start: int, end: int) -> None:
        if state.level >= md.options["maxNesting"] and "too_deep" not in state.env:
            line = state.skipEmptyLines(start)
            if line < end and state.sCount[line] >= state.blkIndent:
                state.env["too_deep"] = line
        tokenize(state, start, end)

    md.block.tokenize = tokenize_noting_depth  # type: ignore[method-assign]


class _Ids:
    """Ids handed out in a body: a base that is not free is numbered (`base-1`, `base-2`, the
    first free). Each base remembers the number after the last one it took: the numbers
    below it were taken or refused before and still are, so numbering a title repeated takes
    time in proportion to the repeats, not to their square."""

    def __init__(self, refused: Callable[[str], bool] = lambda _id: False) -> None:
        self._refused = refused
        self._taken: set[str] = set()
        self._next: dict[str, int] = {}

    def free(self, candidate: str) -> bool:
        return candidate not in self._taken and not self._refused(candidate)

    def take(self, base: str) -> str:
        chosen = base
        if not self.free(base):
            suffix = self._next.get(base, 1)
            while not self.free(f"{base}-{suffix}"):
                suffix += 1
            self._next[base] = suffix + 1
            chosen = f"{base}-{suffix}"
        self._taken.add(chosen)
        return chosen


def _heading_ids(state: StateCore) -> None:
    """Every heading's id as mdit-py-plugins' anchors plugin gave it (a GitHub-style slug of
    its text, numbered when it repeats), then made free: an id that is empty, or taken by
    the template, an annotation or a footnote, is replaced by a free one.
    `env["reserved_ids"]` names ids this handbook's templates use (its levels and criteria).

    The plugin itself is not used: it numbers a repeated slug by trying `slug-1`, `slug-2`
    and on from the start every time, which takes quadratic time on a body that repeats one
    heading. Both numberings here remember where they stopped (`_Ids`)."""
    reserved = TEMPLATE_IDS | state.env.get("reserved_ids", frozenset())
    slugs = _Ids()
    ids = _Ids(lambda candidate: candidate in reserved or bool(_RENDER_ID.fullmatch(candidate)))
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        children = tokens[index + 1].children or []
        title = "".join(child.content for child in children
                        if child.type in ("text", "code_inline"))
        slug = slugs.take(slugify(title))
        if not any(char.isalnum() for char in slug):
            slug = "section"
        if not ids.free(slug) and _RENDER_ID.fullmatch(f"{slug}-1"):
            # Every numbered form of this slug is an annotation's id: number another.
            slug = f"{slug}-heading"
        token.attrSet("id", ids.take(slug))


_TASK = re.compile(r"\[([ xX])\][ \t\n\v\f\r]+")
_LIST_OPEN = {"bullet_list_open", "ordered_list_open"}
_LIST_CLOSE = {"bullet_list_close", "ordered_list_close"}


def _task_lists(state: StateCore) -> None:
    """`- [ ] item` → a disabled checkbox in a label, as mdit-py-plugins' tasklists does,
    in one pass: that plugin searches back for each item's list, which takes minutes on a
    long checklist."""
    tokens = state.tokens
    lists: list[Token] = []  # the lists open at this point, innermost last
    for index, token in enumerate(tokens):
        if token.type in _LIST_OPEN:
            lists.append(token)
        elif token.type in _LIST_CLOSE:
            lists.pop()
        elif (token.type == "inline" and index >= 2 and lists and token.children
              and tokens[index - 1].type == "paragraph_open"
              and tokens[index - 2].type == "list_item_open"
              and (task := _TASK.match(token.content))):
            checked = 'checked="checked" ' if task.group(1) != " " else ""
            box = Token("html_inline", "", 0, content=f'<input class="task-list-item-checkbox" '
                        f'{checked}disabled="disabled" type="checkbox">')
            token.children[0].content = token.children[0].content[3:]
            token.content = token.content[3:]
            token.children[:0] = [Token("html_inline", "", 0, content="<label>"), box]
            token.children.append(Token("html_inline", "", 0, content="</label>"))
            tokens[index - 2].attrSet("class", "task-list-item")
            lists[-1].attrSet("class", "contains-task-list")


@functools.cache
def make_parser(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False,
                                   "maxNesting": MAX_NESTING})
    # Every URL is let through the parser and judged by `is_allowed_url` afterwards, so a
    # refused one is reported at its line (markdown-it would turn it into text silently).
    md.validateLink = lambda _url: True  # type: ignore[method-assign]
    _note_dropped_nesting(md)
    md.enable("table")
    md.use(footnote_plugin).use(deflist_plugin)
    md.core.ruler.after("inline", "task_lists", _task_lists)
    md.core.ruler.push("heading_ids", _heading_ids)
    md.use(container_plugin, ANNOTATION)
    for name in CALLOUTS:
        md.use(container_plugin, name, render=_callout(name))
    _one_rule_for_containers(md, [ANNOTATION, *CALLOUTS])
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    return md


def _one_rule_for_containers(md: MarkdownIt, names: Sequence[str]) -> None:
    """mdit-py-plugins gives each container name a block rule of its own, tried at the start
    of every line and at every line a paragraph or list goes on to: four names cost a
    noticeable share of a parse. One rule takes their place and tries them only at a line
    that starts with the marker."""
    ruler = md.block.ruler
    by_name = {rule.name: rule.fn for rule in ruler.__rules__}
    rules = [by_name[f"container_{name}"] for name in names]

    def containers(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        start = state.bMarks[start_line] + state.tShift[start_line]
        if not state.src.startswith(":::", start):
            return False
        return any(rule(state, start_line, end_line, silent) for rule in rules)

    # Ends the same blocks a container does (mdit-py-plugins' own list).
    ruler.at(f"container_{names[0]}", containers,
             {"alt": ["paragraph", "reference", "blockquote", "list"]})
    ruler.disable([f"container_{name}" for name in names[1:]])


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


def _rewrite_links(tokens: list[Token], rewrite: LinkRewriter, locator: _Locator,
                   notes: list[BodyNote]) -> list[Link]:
    """Rewrite every link and image target; a target that is not an allowed URL loses its
    href or src (the text stays) and becomes an `unsafe-url` note instead of a Link."""
    links: list[Link] = []
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
            if not is_allowed_url(href):
                del child.attrs[attr]
                notes.append(BodyNote("unsafe-url", line, col, href))
                continue
            links.append(Link(href, line, col, image=child.type == "image"))
            child.attrs[attr] = rewrite(href)
    return links


def _drop_unsafe_urls(tokens: list[Token]) -> None:
    """`_rewrite_links` for text with no lines to report at (a rubric descriptor)."""
    for token in tokens:
        for child in token.children or ():
            for attr in ("href", "src"):
                if attr in child.attrs and not is_allowed_url(str(child.attrs[attr])):
                    del child.attrs[attr]


@functools.cache
def _html_finder() -> MarkdownIt:
    """CommonMark with HTML on and none of the plugins that add HTML tokens of their own."""
    return MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable("table")


def _raw_html(body: str, locator: _Locator) -> list[BodyNote]:
    """Where raw HTML is written, for a handbook that shows it as text. Found by parsing
    again with HTML on, which knows code spans and escapes; only bodies with something
    shaped like a tag pay for it."""
    if not _MAYBE_HTML.search(body):
        return []
    notes: dict[int, BodyNote] = {}  # one per line is enough to find it
    for token in _html_finder().parse(body):
        block = (token.map[0], token.map[1]) if token.map else (0, 0)
        found = [token.content] if token.type == "html_block" else [
            child.content for child in token.children or () if child.type == "html_inline"]
        cursor = 0
        for html in found:
            line, col, cursor = locator.find(html.strip(), block, cursor)
            notes.setdefault(line, BodyNote("raw-html", line, col,
                                            html.strip().split("\n")[0][:60]))
    return list(notes.values())


# What raw HTML may keep, when a handbook allows it: the tags and attributes Markdown and
# this module write (footnotes, task lists, callouts, annotations, tables), and no script,
# style, event handler, form or frame.
_SANITISED_TAGS = nh3.ALLOWED_TAGS | {"section", "input", "label"}
_SANITISED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir", "role", "aria-label", "aria-hidden",
          "tabindex"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "input": {"type", "checked", "disabled"},
    "label": {"for"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
    "time": {"datetime"},
    "details": {"open"},
    "abbr": {"title"},
}


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=_SANITISED_TAGS, attributes=_SANITISED_ATTRIBUTES,
                     url_schemes=set(URL_SCHEMES), link_rel=None,
                     filter_style_properties={"text-align"})


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
    reserved_ids: frozenset[str] = frozenset(),
) -> RenderedBody:
    """`reserved_ids`: ids the page's template gives elements beside the body (besides
    TEMPLATE_IDS), which no heading may take."""
    md = make_parser(allow_html)
    env: dict[str, Any] = {"reserved_ids": reserved_ids}
    tokens = md.parse(body, env)
    locator = _Locator(body, body_line)
    found: list[BodyNote] = []
    links = _rewrite_links(tokens, rewrite_link, locator, found)
    if not allow_html:
        found.extend(_raw_html(body, locator))
    if "too_deep" in env:
        found.append(BodyNote("markdown-too-deep", body_line + env["too_deep"], 0, ""))

    def html(part: list[Token]) -> str:
        rendered = md.renderer.render(part, md.options, env)
        # Per top-level block: a tag left open by one block is closed at its end, so raw
        # HTML cannot wrap the theme's own markup around it.
        return sanitise(rendered) if allow_html else rendered

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
        # The comments mark what `without_annotations` cuts: a body cannot forge them, as
        # comments are shown as text, or removed by the sanitiser when HTML is allowed.
        out.append(f'<!--a--><div class="annotated"><div class="passage"><!--/a-->{passage}'
                   f'<!--a--></div><div class="notes">{"".join(asides)}</div></div><!--/a-->\n')
        index = following
    return RenderedBody("".join(out), _headings(tokens), tuple(annotations), tuple(links),
                        tuple(sorted(found, key=lambda note: (note.line, note.col))))


_ANNOTATION_MARKUP = re.compile(r"<!--a-->.*?<!--/a-->", re.S)


def without_annotations(html: str) -> str:
    """A rendered body as the work alone: its passages without their notes, for judging the
    work before seeing how the handbook reads it."""
    return _ANNOTATION_MARKUP.sub("", html)


@functools.lru_cache(maxsize=4096)  # descriptors appear on many pages; render each once
def render_inline(text: str, allow_html: bool = False) -> str:
    """Short Markdown such as a rubric descriptor, without a surrounding paragraph."""
    md = make_parser(allow_html)
    env: dict[str, Any] = {}
    tokens = md.parseInline(text, env)
    _drop_unsafe_urls(tokens)
    rendered = md.renderer.render(tokens, md.options, env)
    return sanitise(rendered) if allow_html else rendered
