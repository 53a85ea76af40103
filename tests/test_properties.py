"""Hostile input never crashes a build (property-based, with hypothesis).

Random front matter and random Markdown bodies are written into a copy of the minimal site
and built in-process. Whatever the input, the build either succeeds or reports its errors as
diagnostics at a place in the site; no exception escapes, the command line prints no
traceback, and a built site carries no script, event handler or script URL that the input
smuggled in (raw HTML is off by default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, Phase, event, example, given, note, settings
from hypothesis import strategies as st

from cophandbook import cli
from cophandbook.build import BuildResult, build
from cophandbook.schema import ALLOWED_KEYS
from tests.conftest import MINIMAL, ROOT, write_files

# Each example is a whole build (~0.3 s), so shrinking a failure can take minutes: it is off
# unless COPHANDBOOK_SHRINK=1 (the failing example is printed either way, unshrunk).
PHASES = tuple(Phase) if os.environ.get("COPHANDBOOK_SHRINK") else (
    Phase.explicit, Phase.reuse, Phase.generate)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)

# The files whose front matter is replaced, by kind (search is off in MINIMAL's settings).
TARGETS = {
    "exemplar": "content/skills/toasts/exemplars/wedding-toast.md",
    "session": "content/sessions/2026-01-14-toast-night.md",
    "exercise": "content/skills/toasts/exercises/one-minute-ladder.md",
    "rubric": "content/skills/toasts/rubric.md",
}
LEVELS = ["novice", "competent", "expert"]
CRITERIA = ["structure", "delivery"]


def _split(text: str) -> tuple[dict[str, Any], str]:
    _, meta, body = text.split("---\n", 2)
    return yaml.safe_load(meta), body


BASELINE = {kind: _split(MINIMAL[rel]) for kind, rel in TARGETS.items()}

# -- strategies: text and YAML values ---------------------------------------------------------

HOSTILE_PIECES = [
    '"', "'", ": ", ":", " #", "#", "&a ", "*a", "&", "*", "!", "!!python/object/apply:os.system",
    "!!binary", "{", "}", "[", "]", ",", "\n", "\r\n", "\r", "\t", "  ", "- ", "? ", "|", ">",
    "@", "`", "%", "\\", "---", "...", "\u2028", "\x85", "\ufeff", "\ufffe", "\x00", "\x1b[31m",
    "\x07", "\x7f", "é", "🙂", "\u202e", "<script>alert(1)</script>", "</script>", "<script>",
    "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", '" onmouseover="alert(1)',
    "' onfocus='alert(1)", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "<!--", "-->", "]]>", "<![CDATA[", "&amp;", "&#106;", "&lt;", "{{ 7*7 }}",
    "{% if x %}", "{#", "null", "~", "yes", "no", "on", "0x1F", "1e999", ".nan", "-.inf",
    "2026-02-30", "2026-13-01", "0000-00-00", "2026-01-14", "novice", "structure", "toasts",
]
hostile_text = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=4)),
             max_size=8).map("".join),
)
# Not blank, so a text field accepts it.
some_text = hostile_text.filter(lambda s: s.strip() != "")

dates = st.one_of(st.dates(), st.datetimes())
scalars = st.one_of(
    hostile_text, st.integers(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(), st.booleans(), st.none(), dates,
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(hostile_text, st.sampled_from(
                                [*CRITERIA, *LEVELS, "theme", "note", "id", "name"])),
                                inner, max_size=4)),
    max_leaves=12,
)

@dataclass(frozen=True)
class Raw:
    """A value written into the front matter as it is, unquoted (often invalid YAML)."""

    text: str


raw_values = st.one_of(
    hostile_text,
    st.sampled_from(["2026-02-30", "2026-13-45", "2026-1-1", "9999-12-31", "0001-01-01",
                     "2026-02-29", "2024-02-29", "2026-01-14 25:61:00", "&a [1, *a]",
                     "!!python/object/apply:os.system ['true']", "!!set {a, b}",
                     "{a: 1, a: 2}", "[" * 40 + "]" * 40, "{<<: {a: 1}}", "|\n  block\n",
                     ">-\n  folded\n", "'unclosed", '"unclosed', "[1, 2", "{a: [}"]),
).map(Raw)


def valid_values(kind: str, key: str) -> st.SearchStrategy[Any]:
    """Values of the right shape for a key, with hostile text wherever text goes."""
    level = st.sampled_from(LEVELS)
    criterion = st.sampled_from(CRITERIA)
    urls = st.sampled_from([
        "/recordings/toast.mp3", "https://example.org/a.mp3", "javascript:alert(1)",
        " javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
        "\x01javascript:alert(1)", "vbscript:msgbox(1)", "data:text/html,<script>x</script>",
        "data:audio/mp3;base64,AAAA", "//evil.example/x", "../../../etc/passwd",
        "file:///etc/passwd", "/%2e%2e/%2e%2e/x", 'x" onerror="alert(1)',
    ])
    if key == "criteria" and kind == "rubric":
        crit = st.fixed_dictionaries(
            {"id": criterion, "descriptors": st.fixed_dictionaries({lvl: some_text
                                                                   for lvl in LEVELS})},
            optional={"name": some_text, "summary": some_text})
        both = st.tuples(*(crit.map(lambda c, i=i: {**c, "id": i}) for i in CRITERIA))
        return st.one_of(st.lists(crit, min_size=1, max_size=2, unique_by=lambda c: c["id"]),
                         both.flatmap(lambda pair: st.permutations(list(pair))))
    if key == "criteria" and kind == "exemplar":
        return st.dictionaries(criterion, level, max_size=2)
    if key == "criteria":
        return st.lists(criterion, max_size=2)
    if key in ("level",):
        return level
    if key == "levels":
        return st.lists(level, min_size=1, max_size=3)
    if key == "date":
        return st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1))
    if key == "anonymous":
        return st.booleans()
    if key in ("tags",):
        return st.lists(some_text, max_size=3)
    if key == "media":
        return st.one_of(urls, some_text)
    if key == "skill":
        return st.just("toasts")
    if key == "skills":
        return st.lists(st.just("toasts"), max_size=1)
    if key == "exercises":
        return st.lists(st.sampled_from(["one-minute-ladder", "toasts/one-minute-ladder"]),
                        max_size=1)
    if key == "exemplars_reviewed":
        return st.lists(st.sampled_from(["wedding-toast", "toasts/first-toast"]),
                        max_size=2, unique=True)
    if key == "feedback":
        theme = st.sampled_from(["rushing", "filler-words"])
        return st.lists(st.one_of(theme, st.fixed_dictionaries(
            {"theme": theme}, optional={"note": some_text})), max_size=3)
    if key == "duration":
        return st.sampled_from(["15 min", "1 h", "1 h 30", "90", "2 hours", "ten minutes"])
    if key == "type":
        return st.just(kind)
    if key == "order":
        return st.integers(-5, 5)
    return some_text  # title, summary, contributor, facilitator, group_size


REQUIRED = {"title", "level", "levels", "date", "criteria"}  # criteria: a rubric's only


@st.composite
def front_matters(draw: st.DrawFn, kind: str) -> tuple[list[tuple[str, Any]], str]:
    """(key/value pairs, how to write them) for a file of `kind`.

    "tame" front matter has every value of the right shape (hostile text wherever text
    goes), so most such builds succeed and their pages are checked for scripts; "wild"
    front matter puts any YAML value, or unquoted text, under any key, plus unknown keys.
    """
    base, _ = BASELINE[kind]
    tame = draw(st.booleans(), label="tame")
    pairs: list[tuple[str, Any]] = []
    for key in ALLOWED_KEYS[kind]:
        optional = key not in REQUIRED or (key == "criteria" and kind != "rubric")
        how = draw(st.sampled_from(["keep", "valid", "drop"] if tame else
                                   ["keep", "valid", "drop", "yaml", "raw"]), label=key)
        if how == "drop" and tame and not optional:
            how = "keep"
        if how == "keep":
            if key in base:
                pairs.append((key, base[key]))
        elif how != "drop":
            strategy = {"valid": valid_values(kind, key), "yaml": yaml_values,
                        "raw": raw_values}[how]
            pairs.append((key, draw(strategy, label=f"{key} value")))
    if not tame:
        pairs += draw(st.lists(st.tuples(
            st.one_of(hostile_text, st.sampled_from(["titel", "levle", "Title", "date ", "<<",
                                                     "__class__", "?"])),
            st.one_of(yaml_values, raw_values)), max_size=2), label="extra keys")
    if draw(st.booleans(), label="shuffled"):
        pairs = draw(st.permutations(pairs))
    style = draw(st.sampled_from(["dump", "flow-dump", "lines"] if tame else
                                 ["dump", "flow-dump", "lines", "lines-crlf", "unclosed",
                                  "bom", "empty"]), label="style")
    return pairs, style


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n...\n").removesuffix("\n")


def serialise(pairs: list[tuple[str, Any]], style: str, body: str) -> str:
    if style == "empty":
        return f"---\n---\n{body}"
    if style in ("dump", "flow-dump") and not any(isinstance(v, Raw) for _, v in pairs):
        mapping = dict(pairs)  # a repeated extra key keeps its last value
        meta = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False,
                              default_flow_style=style == "flow-dump") if mapping else ""
        return f"---\n{meta}---\n{body}"
    lines = []
    for key, value in pairs:
        text = value.text if isinstance(value, Raw) else _flow(value)
        lines.append(f"{key}: {text}")
    meta = "\n".join(lines) + "\n" if lines else ""
    if style == "unclosed":
        return f"---\n{meta}{body}"
    text = f"---\n{meta}---\n{body}"
    if style == "lines-crlf":
        return text.replace("\n", "\r\n")
    if style == "bom":
        return "\ufeff" + text
    return text


# -- strategies: Markdown bodies ---------------------------------------------------------------

LINK_TARGETS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "javascript&#58;alert(1)",
    "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)", "java%0ascript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg/onload=alert(1)>", "data:image/png;base64,iVBORw0KGgo=",
    "../..", "../../..", "../../../etc/passwd", "%2e%2e/%2e%2e/", "%2e%2e%2f%2e%2e%2f",
    "..%2f..%2f", "/../../x", "//evil.example", "https://example.org/", "mailto:a@b.org",
    "#", "#note-1", "#structure", "../rubric.md#structure", "../rubric.md#nope",
    "../../../guides/safety.md#pausing", "safety.md", "../index.md", "/feedback/",
    "/sessions/feed.xml", "%", "%zz", "%00", "\\..\\..", "file:///etc/passwd", "",
    "x.md", ".md", "..md", "/..", "?q=1", "#%", "http://[::1", "http://a:b@c",
]
link_target = st.one_of(st.sampled_from(LINK_TARGETS),
                        st.text(st.characters(blacklist_characters=" ()<>\n"), max_size=12))
words = st.one_of(hostile_text, st.sampled_from(["word", "two words", "*", "_", "**", "`", "~~",
                                                 "\\", "&", "<", ">", "[", "]", "|", "!"]))
RAW_HTML = [
    "<script>alert(1)</script>", "<script src=//evil.example/x.js></script>",
    "<img src=x onerror=alert(1)>", "<iframe src=javascript:alert(1)></iframe>",
    "<!-- comment", "-->", "<a href=javascript:alert(1)>x</a>", "<svg><script>1</script>",
    "<div onclick=alert(1)>", "</div>", "<style>*{}</style>", "<object data=x>",
    "<form action=javascript:alert(1)><button formaction=javascript:1>", "<base href=//e>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>", "<?php ?>",
    "<![CDATA[ x ]]>", "<!DOCTYPE x>", "<details open ontoggle=alert(1)>",
]


def _fence(info: str, text: str, closed: bool, tildes: bool) -> str:
    mark = "~~~" if tildes else "```"
    return f"{mark}{info}\n{text}\n" + (f"{mark}\n" if closed else "")


fragments = st.one_of(
    words,
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), words),
    st.builds(lambda m, t: f"{m}{t}{m}", st.sampled_from(["*", "_", "**", "__", "***", "~~"]),
              words),
    st.builds(lambda t, u: f"[{t}]({u})", words, link_target),
    st.builds(lambda t, u: f"[{t}](<{u}>)", words, st.sampled_from(LINK_TARGETS)),
    st.builds(lambda t, u: f'[{t}]({u} "title")', words, link_target),
    st.builds(lambda t, u: f"![{t}]({u})", words, link_target),
    st.builds(lambda u: f"<{u}>", st.sampled_from(LINK_TARGETS)),
    st.builds(lambda r, u: f"[x][{r}]\n\n[{r}]: {u}\n", st.sampled_from(["r", "R", "1"]),
              link_target),
    st.sampled_from(RAW_HTML),
    st.builds(_fence, st.one_of(st.sampled_from(["", "python", "js", "html", "{=html}",
                                                 "<script>", "annotation structure"]),
                                hostile_text.map(lambda s: s.replace("\n", " "))),
              words, st.booleans(), st.booleans()),
    st.builds(lambda c, t, closed: f"::: annotation {c}\n{t}\n" + (":::\n" if closed else ""),
              st.one_of(st.sampled_from([*CRITERIA, "", "nope", "<script>", "structure extra"]),
                        hostile_text.map(lambda s: s.replace("\n", " "))),
              words, st.booleans()),
    st.sampled_from([":::", "::::", "::: annotation", ":::: annotation structure\n",
                     "::: annotation structure\n::: annotation delivery\nx\n:::\n:::"]),
    st.builds(lambda k, t, b: f"::: {k} {t}\n{b}\n:::\n",
              st.sampled_from(["tip", "warning", "safety", "unknown", "TIP"]),
              hostile_text.map(lambda s: s.replace("\n", " ")), words),
    st.builds(lambda a, b: f"| {a} | {b} |\n|---|:-:|\n| {b} | {a} |\n", words, words),
    st.sampled_from(["| a |\n|---|---|\n| b |", "|---|", "| x | y\n--|--"]),
    st.builds(lambda t, n: f"{t}[^{n}]\n\n[^{n}]: {t}\n", words,
              st.sampled_from(["1", "a", "<x>", "^"])),
    st.sampled_from(["[^missing]", "[^1]:", "[^]: x"]),
    st.builds(lambda t, d: f"{t}\n: {d}\n", words, words),
    st.builds(lambda a, b: f"- [ ] {a}\n- [x] {b}\n- [X]\n", words, words),
    st.builds(lambda n, t: ">" * n + " " + t, st.integers(1, 60), words),
    st.builds(lambda n, t: "  " * n + "- " + t, st.integers(0, 40), words),
    st.sampled_from(["{{ 7*7 }}", "{% include 'base.html' %}", "{{ ''.__class__.__mro__ }}",
                     "{% raw %}", "{% endraw %}", "{{", "}}", "{#", "#}",
                     "{{ site.title }}", "{% for x in y %}"]),
    st.sampled_from(["---", "***", "    indented code", "\\", "&#0;", "&#x110000;", "&nbsp;",
                     "1. one\n2) two", "Setext\n===", "\t\ttab"]),
)
markdown_bodies = st.lists(
    st.tuples(fragments, st.sampled_from(["\n", "\n\n", " ", "", "\n\n\n"])), max_size=14,
).map(lambda parts: "".join(f + sep for f, sep in parts))

BODY_TARGETS = {
    "exemplar": TARGETS["exemplar"],
    "session": TARGETS["session"],
    "guide": "content/guides/giving-feedback.md",
    "skill": "content/skills/toasts/index.md",
}

# -- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """What the theme's own pages contain: their scripts and their tag names."""

    scripts: frozenset[tuple[str | None, str]]
    tags: frozenset[str]


def _script_key(tag: Any) -> tuple[str | None, str]:
    return (tag.get("src"), tag.get_text())


@pytest.fixture(scope="module")
def theme(tmp_path_factory: pytest.TempPathFactory) -> Theme:
    site = write_files(tmp_path_factory.mktemp("plain") / "site", MINIMAL)
    result = build(site)
    assert result.written, [str(d) for d in result.problems]
    scripts: set[tuple[str | None, str]] = set()
    tags: set[str] = set()
    for file in (site / "_site").rglob("*.html"):
        parsed = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
        scripts |= {_script_key(tag) for tag in parsed.find_all("script")}
        tags |= {tag.name for tag in parsed.find_all(True)}
    assert scripts  # the theme has scripts: the comparison below means something
    return Theme(frozenset(scripts), frozenset(tags))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


_IGNORED_IN_URLS = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_RASTER_DATA = re.compile(r"^data:image/(?:png|gif|jpeg|webp)[;,]", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "poster", "data",
                  "background", "cite", "srcset")
DANGEROUS_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet",
                  "base", "style", "meta", "link", "form", "svg", "math"}


def scheme_of(url: str) -> str:
    """The scheme a browser would see: C0 controls and spaces stripped at the ends,
    tabs and newlines removed anywhere, lowercased."""
    cleaned = _IGNORED_IN_URLS.sub("", url).strip(_C0_OR_SPACE).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else ""


def xss_problems(out: Path, theme: Theme) -> list[str]:
    found: list[str] = []
    for file in sorted(out.rglob("*.html")):
        rel = file.relative_to(out)
        parsed = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
        for tag in parsed.find_all(True):
            if tag.name == "script" and _script_key(tag) not in theme.scripts:
                found.append(f"{rel}: script not from the theme: {str(tag)[:200]}")
            elif tag.name in DANGEROUS_TAGS and tag.name not in theme.tags:
                found.append(f"{rel}: <{tag.name}> not from the theme: {str(tag)[:200]}")
            for name, value in tag.attrs.items():
                text = " ".join(value) if isinstance(value, list) else str(value)
                if name.lower().startswith("on"):
                    found.append(f"{rel}: event handler {name}={text!r} on <{tag.name}>")
                if name.lower() in ("srcdoc",):
                    found.append(f"{rel}: {name} on <{tag.name}>")
                if name.lower() not in URL_ATTRIBUTES:
                    continue
                scheme = scheme_of(text)
                if scheme == "data" and tag.name == "img" and name.lower() == "src" \
                        and _RASTER_DATA.match(text):
                    continue  # a raster image cannot run script (markdown-it allows these)
                if scheme in ("javascript", "vbscript", "livescript", "data", "file"):
                    found.append(f"{rel}: {name}={text!r} on <{tag.name}>")
            if tag.name == "meta" and "refresh" in str(tag.get("http-equiv", "")).lower():
                found.append(f"{rel}: meta refresh {tag}")
    return found


def check_diagnostics(result: BuildResult, site: Path) -> None:
    event("built" if result.written else "refused, with errors")
    root = site.resolve()
    for d in result.problems:
        assert d.message and d.message.strip(), f"empty message: {d!r}"
        assert d.location is not None, f"no location: {d!r}"
        path = Path(d.location.path)
        assert path.is_absolute() or not str(path).startswith(".."), d
        where = (path if path.is_absolute() else site / path).resolve()
        assert where.is_relative_to(root), f"location outside the site: {d!r}"
        assert d.location.line >= 0 and d.location.col >= 0, d
    if not result.written and not result.unchanged:
        assert result.problems.has_errors, "the build failed without an error"


def check_output(result: BuildResult, theme: Theme) -> None:
    if not result.written:
        return
    assert result.output is not None
    out = result.output
    problems = xss_problems(out, theme)
    assert not problems, "\n".join(problems)
    for xml_file in ("sessions/feed.xml", "sitemap.xml"):
        path = out / xml_file
        assert path.is_file(), xml_file
        try:
            ET.parse(path)
        except ET.ParseError as exc:  # pragma: no cover - reported with the failing input
            pytest.fail(f"{xml_file} is not well-formed XML: {exc}")


def run_cli(site: Path, result: BuildResult, fmt: str) -> None:
    """The command line on the same site: no traceback, exit 0 or 1, consistent with build."""
    for argv in (["build", str(site)], ["check", str(site), "--format", fmt]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        assert "Traceback" not in err.getvalue() + out.getvalue()
        assert code in (0, 1), (argv, code, err.getvalue())
        if argv[0] == "build":
            assert code == (0 if result.written else 1), err.getvalue()
        elif fmt == "json":
            json.loads(out.getvalue())


def build_hostile(workdir: Path, changes: dict[str, str]) -> tuple[Path, BuildResult]:
    folder = Path(tempfile.mkdtemp(dir=workdir))
    site = write_files(folder / "site", {**MINIMAL})
    for rel, text in changes.items():  # written as is, not dedented like write_files does
        (site / rel).write_bytes(text.encode("utf-8", "surrogatepass"))
    return site, build(site)


# -- the properties ----------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(sorted(TARGETS)),
       fmt=st.sampled_from(["text", "json", "github"]))
def test_random_front_matter_never_crashes(workdir: Path, theme: Theme, data: st.DataObject,
                                           kind: str, fmt: str) -> None:
    pairs, style = data.draw(front_matters(kind), label="front matter")
    text = serialise(pairs, style, BASELINE[kind][1])
    note(f"{TARGETS[kind]}:\n{text}")
    site, result = build_hostile(workdir, {TARGETS[kind]: text})
    note("\n".join(str(d) for d in result.problems))
    check_diagnostics(result, site)
    check_output(result, theme)
    run_cli(site, result, fmt)


@SETTINGS
@example(body="a\ufffeb\n", target="session")
@given(body=markdown_bodies, target=st.sampled_from(sorted(BODY_TARGETS)))
def test_random_markdown_never_crashes(workdir: Path, theme: Theme, body: str,
                                       target: str) -> None:
    rel = BODY_TARGETS[target]
    meta = MINIMAL[rel].split("---\n", 2)[1]
    text = f"---\n{meta}---\n{body}"
    note(f"{rel}:\n{text}")
    site, result = build_hostile(workdir, {rel: text})
    note("\n".join(str(d) for d in result.problems))
    check_diagnostics(result, site)
    check_output(result, theme)


TITLES = st.one_of(
    some_text, some_text, some_text,
    st.sampled_from(["\x01\x02\x0b\x0c\x1f", "]]></title><script>alert(1)</script>",
                     "\ufffe", "a\uffffb", "&", "<", "\u0085\u2028", "\U0001F600" * 3,
                     "\x7f", "\U0010ffff", "]]>", "<![CDATA[x]]>", "&#0;", "&#xFFFE;"]),
)


@SETTINGS
@example(title="Toast night", summary="\b", note_text="n", facilitator="f")
@example(title="\ufffe", summary="s", note_text="n", facilitator="f")
@example(title="t", summary="a\uffffb", note_text="\x1f", facilitator="\ufffe")
@given(title=TITLES, summary=TITLES, note_text=TITLES, facilitator=TITLES)
def test_session_text_keeps_feed_and_sitemap_well_formed(
        workdir: Path, theme: Theme, title: str, summary: str, note_text: str,
        facilitator: str) -> None:
    """Whatever a session's text, the feed and the sitemap are XML, or the build refuses."""
    meta = {"title": title, "summary": summary, "date": dt.date(2026, 1, 14),
            "skills": ["toasts"], "facilitator": facilitator,
            "feedback": [{"theme": "rushing", "note": note_text}]}
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + \
        f"{title}\n\n{summary}\n"
    note(text)
    site, result = build_hostile(workdir, {TARGETS["session"]: text})
    note("\n".join(str(d) for d in result.problems))
    check_diagnostics(result, site)
    check_output(result, theme)


@settings(max_examples=4, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(sorted(TARGETS)))
def test_command_line_in_a_subprocess_prints_no_traceback(workdir: Path,
                                                          data: st.DataObject,
                                                          kind: str) -> None:
    pairs, style = data.draw(front_matters(kind), label="front matter")
    body = data.draw(markdown_bodies, label="body")
    text = serialise(pairs, style, body)
    note(text)
    folder = Path(tempfile.mkdtemp(dir=workdir))
    site = write_files(folder / "site", {**MINIMAL})
    (site / TARGETS[kind]).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "build", str(site)],
                          capture_output=True, text=True, env=env, timeout=120,
                          errors="replace")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr)
