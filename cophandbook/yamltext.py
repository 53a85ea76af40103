"""Front matter splitting and YAML loading that keeps the file line of every value.

Values come back as `Located` trees (scalars, lists, dicts of `Located`), so every later
stage can point at the exact line of a bad value. Only plain YAML is accepted: custom tags,
anchors/aliases and merge keys are refused rather than constructed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cophandbook.diagnostics import Diagnostics, Location

try:  # the C loader is several times faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAX_DEPTH = 32
_constructor = yaml.constructor.SafeConstructor()
# Control characters other than tab and newline (carriage returns are normalised first):
# invisible in an editor, refused by YAML, and meaningless in a page. C1 controls
# (U+0080-U+009F) are what text mis-decoded from Windows-1252 leaves behind.
# U+FFFE, U+FFFF and lone surrogates (from "\\uD800" in YAML) are not characters at all:
# XML, and so the feed, refuses them.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Bidirectional embeddings, overrides and isolates: invisible too, and they reorder what
# follows, so "Safe <U+202E>exe.lmth" reads as a file name ending .exe (Trojan Source).
# Removed like control characters: a page sets direction with markup, not characters. The
# marks right-to-left text needs (U+200E, U+200F, U+061C) stay: they only settle the
# punctuation beside them, and cannot turn words around.
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Either kind, as one character class: every file is searched, and almost none holds one.
_INVISIBLE_RE = re.compile(_CONTROL_RE.pattern[:-1] + _BIDI_RE.pattern[1:])
_MAX_CONTROL_REPORTS = 5  # per file: a file full of them needs one look, not a thousand lines
# PyYAML ends some messages with where it was in its own input, which means nothing to a
# reader: the file, line and column are reported separately.
_YAML_NOISE_RE = re.compile(r'\s*in "<[^>]*>", (?:line \d+, column \d+|position \d+)')


def _clean(message: str) -> str:
    """A PyYAML message on one line without its "<unicode string>" marks."""
    return " ".join(_YAML_NOISE_RE.sub("", message).split())


@dataclass(frozen=True)
class Located:
    """A YAML value with its place. Mapping entries carry the line of their key."""

    value: Any
    line: int
    col: int = 1

    def plain(self) -> Any:
        """The value with all locations stripped (for messages and simple fields)."""
        if isinstance(self.value, list):
            return [item.plain() for item in self.value]
        if isinstance(self.value, dict):
            return {key: item.plain() for key, item in self.value.items()}
        return self.value


@dataclass(frozen=True)
class SourceText:
    """A Markdown source split into its front matter and body."""

    meta: Located | None
    body: str
    body_line: int  # file line of the body's first line (1-based)


class YamlProblem(Exception):
    def __init__(self, message: str, line: int, col: int = 1, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint


def _to_located(node: yaml.Node, line_offset: int, seen: set[int], depth: int) -> Located:
    line = node.start_mark.line + 1 + line_offset
    col = node.start_mark.column + 1
    _refuse_unsupported(node, line, col, seen, depth)
    if isinstance(node, yaml.MappingNode):
        return Located(_entries(node, line_offset, seen, depth), line, col)
    if isinstance(node, yaml.SequenceNode):
        return Located(
            [_to_located(item, line_offset, seen, depth + 1) for item in node.value], line, col
        )
    return _scalar(node, line, col)


def _refuse_unsupported(node: yaml.Node, line: int, col: int, seen: set[int],
                        depth: int) -> None:
    """Raise YamlProblem for a node met before (an alias), nested too deep, or tagged."""
    if id(node) in seen:
        raise YamlProblem(
            "YAML anchors and aliases (&name, *name) are not supported",
            line,
            col,
            "write the value out in full",
        )
    seen.add(id(node))
    if depth > _MAX_DEPTH:
        raise YamlProblem(f"YAML nested deeper than {_MAX_DEPTH} levels", line, col)
    if node.tag not in _ALLOWED_TAGS:
        raise YamlProblem(
            f"YAML tag '{node.tag}' is not allowed",
            line,
            col,
            "remove the !tag; only plain text, numbers, dates, lists and mappings are read",
        )


def _entries(node: yaml.MappingNode, line_offset: int, seen: set[int],
             depth: int) -> dict[str, Located]:
    """A mapping's entries, each at the place of its key."""
    entries: dict[str, Located] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1 + line_offset
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise YamlProblem("YAML merge keys (<<) are not supported", key_line)
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlProblem("a key must be plain text", key_line)
        key = str(key_node.value)
        if key in entries:
            raise YamlProblem(
                f"duplicate key '{key}' (first on line {entries[key].line})",
                key_line,
                key_node.start_mark.column + 1,
                "keep one of the two",
            )
        value = _to_located(value_node, line_offset, seen, depth + 1)
        entries[key] = Located(value.value, key_line, key_node.start_mark.column + 1)
    return entries


def _scalar(node: yaml.Node, line: int, col: int) -> Located:
    try:
        value = _constructor.construct_object(node)
    except (ValueError, yaml.YAMLError) as exc:
        if node.tag == "tag:yaml.org,2002:timestamp":
            # Shaped like a date but not a real one (2026-02-30): the field that expects a
            # date says so at its line, and the rest of the front matter is still read.
            return Located(str(node.value), line, col)
        raise YamlProblem(f"invalid value '{node.value}': {_clean(str(exc))}", line,
                          col) from None
    if isinstance(value, str) and (found := _INVISIBLE_RE.search(value)):
        # Written as an escape in quotes ("\a", "\u202e"): the characters themselves were
        # removed from the file by `decode`. A page or a feed cannot show a control; a bidi
        # control would reorder the text around it.
        char = found.group()
        what = "bidirectional control" if _BIDI_RE.match(char) else "control"
        raise YamlProblem(f"the value holds the {what} character {_name(char)}", line, col,
                          "remove the escape sequence (such as \\a, \\x1b or \\u202e) "
                          "from the text")
    return Located(value, line, col)


def _name(char: str) -> str:
    """'U+202E (RIGHT-TO-LEFT OVERRIDE)': the code point, and its name when it has one."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def parse_yaml(text: str, line_offset: int = 0) -> Located | None:
    """Parse one YAML document; `line_offset` is added to YAML's own line numbers."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        col = (mark.column + 1) if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(f"invalid YAML: {_clean(problem)}", line, col) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses (U+FFFE, say); its position is an index into `text`.
        before = text[: exc.position]
        line = before.count("\n") + 1 + line_offset
        col = exc.position - (before.rfind("\n") + 1) + 1
        raise YamlProblem(f"invalid YAML: character U+{exc.character:04X} is not allowed",
                          line, col, "delete it; it is usually invisible in an editor"
                          ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {_clean(str(exc))}", line_offset + 1) from None
    except RecursionError:
        raise YamlProblem("YAML nested too deeply", line_offset + 1) from None
    if node is None:
        return None
    return _to_located(node, line_offset, set(), 0)


def decode(data: bytes, path: Path, problems: Diagnostics) -> str | None:
    """UTF-8 text with a BOM removed and line endings normalised, or None on bad bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.error(
            "invalid-encoding",
            "file is not valid UTF-8",
            Location(path, line),
            "save the file as UTF-8",
        )
        return None
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _INVISIBLE_RE.search(text):
        text = _remove_invisible(text, path, problems)
    return text


def _remove_invisible(text: str, path: Path, problems: Diagnostics) -> str:
    """`text` without its control and bidi control characters, each reported (up to a few
    of each kind) where it was written."""
    controls, more = _places(text, _CONTROL_RE, path)
    for char, where in controls:
        problems.warning("control-character", f"control character {_name(char)} removed", where,
                         "delete it in your editor (it is usually invisible); it may have "
                         "come from copying text out of another program")
    if more:
        problems.warning("control-character", f"{more} more control characters removed from "
                         "this file", Location(path),
                         "was this file saved from a word processor, or is it not text at all?")
    bidi, more = _places(text, _BIDI_RE, path)
    for char, where in bidi:
        problems.warning("bidi-control", f"bidirectional control character {_name(char)} "
                         "removed", where,
                         "delete it in your editor (it is invisible): it shows the text after "
                         "it in another order than it is written. Right-to-left text needs "
                         "none; the marks U+200E and U+200F are kept")
    if more:
        problems.warning("bidi-control", f"{more} more bidirectional control characters removed "
                         "from this file", Location(path),
                         "did the text come from a right-to-left document, or is it meant to "
                         "mislead?")
    return _INVISIBLE_RE.sub("", text)


def _places(text: str, pattern: re.Pattern[str], path: Path
            ) -> tuple[list[tuple[str, Location]], int]:
    """The first few matches of `pattern` with where they are, and how many more there are."""
    found = list(pattern.finditer(text))
    places = []
    for match in found[:_MAX_CONTROL_REPORTS]:
        before = text[: match.start()]
        line = before.count("\n") + 1
        col = match.start() - (before.rfind("\n") + 1) + 1
        places.append((match.group(), Location(path, line, col)))
    return places, max(0, len(found) - _MAX_CONTROL_REPORTS)


def split_front_matter(text: str, path: Path, problems: Diagnostics) -> SourceText | None:
    """Split `---` front matter from the body; report problems at file lines."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return SourceText(None, text, 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            break
    else:
        problems.error(
            "front-matter-unclosed",
            "front matter opened with '---' is never closed",
            Location(path, 1),
            "add a line with '---' after the front matter",
        )
        return None
    yaml_text = "\n".join(lines[1:index])
    body = "\n".join(lines[index + 1 :])
    try:
        meta = parse_yaml(yaml_text, line_offset=1)
    except YamlProblem as exc:
        problems.error("invalid-yaml", exc.message, Location(path, exc.line, exc.col), exc.hint)
        return None
    if meta is not None and not isinstance(meta.value, dict):
        problems.error(
            "front-matter-not-mapping",
            "front matter must be a mapping of keys to values",
            Location(path, meta.line, meta.col),
            "write it as 'key: value' lines",
        )
        return None
    return SourceText(meta, body, index + 2)
