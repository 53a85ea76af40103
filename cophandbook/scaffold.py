"""`new exemplar|exercise|session|skill|guide`: a content file with its front matter filled
in, in the right place, from what the handbook already defines (levels, skills, criteria).

Skeletons carry short YAML comments listing the valid values, so a contributor who has never
seen the format can fill them in without opening the docs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from cophandbook.diagnostics import Diagnostics
from cophandbook.fields import SLUG_RE, choices_hint
from cophandbook.model import Handbook, Level, Rubric
from cophandbook.schema import validate
from cophandbook.settings import load_settings
from cophandbook.sources import CONTENT_DIR, discover

ITEM_KINDS = ("exemplar", "exercise", "session", "skill", "guide")
_NEEDS_SKILL = ("exemplar", "exercise")
_MAX_SLUG = 60
_COMMENT_COLUMN = 32


class ScaffoldError(Exception):
    """A request that cannot be carried out; the message says why and what to do.

    `usage` marks a mistake in the command's arguments (exit 2) rather than in the state of
    the files (exit 1)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class NewItem:
    kind: str
    title: str
    skill: str | None = None
    level: str | None = None
    slug: str | None = None
    date: dt.date | None = None


def slugify(title: str) -> str:
    """'What's next? Café talks' → 'whats-next-cafe-talks'."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"['’]", "", ascii_text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > _MAX_SLUG:
        slug = slug[:_MAX_SLUG].rsplit("-", 1)[0]
    return slug


def yaml_scalar(text: str) -> str:
    """`text` written so that YAML reads it back as the same string."""
    try:
        if yaml.safe_load(f"key: {text}") == {"key": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _line(yaml_line: str, comment: str = "") -> str:
    if not comment:
        return yaml_line
    return f"{yaml_line.ljust(_COMMENT_COLUMN - 1)} # {comment}"


def _listing(ids: Iterable[str], limit: int = 8) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:limit])
    return shown + (", …" if len(ids) > limit else "") if ids else "none yet"


def _front_matter(lines: list[str]) -> str:
    return "---\n" + "\n".join(lines) + "\n---\n"


# -- reading the handbook ---------------------------------------------------------------------

def _read_handbook(site: Path) -> Handbook:
    """The handbook as far as it validates: skeletons only need its levels, skills and
    rubrics, so problems elsewhere (reported by `check`) do not stand in the way."""
    problems = Diagnostics()
    settings = load_settings(site, problems)
    if settings is None:
        first = problems.errors[0]
        where = f"{first.location.path}: " if first.location else ""
        raise ScaffoldError(f"{where}{first.message}" + (f" ({first.hint})" if first.hint else ""))
    return validate(discover(site, problems, max_bytes=settings.max_file_bytes).sources,
                    settings, problems)


def _skill(handbook: Handbook, request: NewItem) -> str:
    ids = [s.id for s in handbook.skills]
    if request.skill is not None:
        if request.skill not in ids:
            hint = choices_hint(request.skill, ids)
            raise ScaffoldError(f"unknown skill '{request.skill}': {hint}", usage=True)
        return request.skill
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise ScaffoldError("this handbook has no skill yet; start one with "
                            "'cophandbook new skill TITLE'")
    raise ScaffoldError(f"which skill is this {request.kind} for? add --skill, one of: "
                        f"{', '.join(ids)}", usage=True)


def _level(handbook: Handbook, request: NewItem) -> Level:
    levels = handbook.settings.levels
    ids = [lvl.id for lvl in levels]
    if request.level is None:
        question = "at which level is the work" if request.kind == "exemplar" else "who is it for"
        raise ScaffoldError(f"a new {request.kind} needs --level ({question}?), one of: "
                            f"{', '.join(ids)}", usage=True)
    level = handbook.settings.level(request.level)
    if level is None:
        raise ScaffoldError(f"unknown level '{request.level}': "
                            f"{choices_hint(request.level, ids)}", usage=True)
    return level


def _rubric(handbook: Handbook, skill: str) -> Rubric:
    rubric = handbook.rubric(skill)
    if rubric is None or not rubric.criteria:
        raise ScaffoldError(f"skill '{skill}' has no valid rubric to assess against; "
                            "run 'cophandbook check' to see why")
    return rubric


def _placed(handbook: Handbook, request: NewItem) -> tuple[str, Level, Rubric, list[str]]:
    """An exemplar's or exercise's skill, level and rubric, and every level id."""
    skill = _skill(handbook, request)
    levels = [lvl.id for lvl in handbook.settings.levels]
    return skill, _level(handbook, request), _rubric(handbook, skill), levels


# -- skeletons --------------------------------------------------------------------------------

def _exemplar(handbook: Handbook, request: NewItem, date: dt.date) -> dict[str, str]:
    skill, level, rubric, levels = _placed(handbook, request)
    meta = [
        _line(f"title: {yaml_scalar(request.title)}"),
        _line(f"level: {level.id}", f"the work as a whole: {', '.join(levels)}"),
        _line("criteria:", "a level per criterion; remove the ones you do not assess"),
        *(_line(f"  {c.id}: {level.id}") for c in rubric.criteria),
        _line('contributor: ""', "who made it, if they agree to be named"),
        _line("anonymous: false", "true hides the contributor everywhere"),
        _line(f"date: {date.isoformat()}"),
        _line("tags: []", "e.g. [story, humour]"),
        _line('summary: ""', "one sentence, shown in lists"),
        "# media: /recordings/my-talk.mp3   (a file in static/, or an https link)",
    ]
    notes = "\n".join(
        f"::: annotation {c.id}\n{c.name}, at {level.name}: \"{c.descriptor(level.id)}\"\n"
        "Where does the passage above show this, or fall short of it? Point to the moment.\n"
        ":::\n"
        for c in rubric.criteria
    )
    body = (
        "## The work\n\n"
        "Paste or write the work here: a transcript, a draft, a photo with its caption. Put\n"
        "each annotation just after the passage it comments on, and delete the ones you do\n"
        "not need.\n\n" + notes
    )
    rel = f"skills/{skill}/exemplars/{_slug(request)}.md"
    return {rel: _front_matter(meta) + body}


def _exercise(handbook: Handbook, request: NewItem, date: dt.date) -> dict[str, str]:
    skill, level, rubric, levels = _placed(handbook, request)
    meta = [
        _line(f"title: {yaml_scalar(request.title)}"),
        _line(f"levels: [{level.id}]", f"who it is for: {', '.join(levels)}"),
        _line("criteria: []", f"what it practises: {', '.join(c.id for c in rubric.criteria)}"),
        _line("duration: 15 min", "e.g. 10 min, 1 h, 1 h 30"),
        _line("group_size: 3-8"),
        _line('summary: ""', "one sentence, shown in the catalog"),
    ]
    body = (
        "## Why\n\nWhat this exercise practises, and what it looks like when it works.\n\n"
        "## How it runs\n\n1. The first step.\n2. The next step.\n\n"
        "## Debrief\n\n- A question for the group afterwards.\n"
    )
    rel = f"skills/{skill}/exercises/{_slug(request)}.md"
    return {rel: _front_matter(meta) + body}


def _session(handbook: Handbook, request: NewItem, date: dt.date) -> dict[str, str]:
    ids = [s.id for s in handbook.skills]
    skills = [_skill(handbook, request)] if request.skill or len(ids) == 1 else []
    themes = [t.id for t in handbook.settings.feedback_themes]
    meta = [
        _line(f"title: {yaml_scalar(request.title)}"),
        _line(f"date: {date.isoformat()}"),
        _line(f"skills: [{', '.join(skills)}]", f"practised: {_listing(ids)}"),
        _line('facilitator: ""', "optional; attendees' names are never needed"),
        _line("exercises: []", f"run: {_listing(e.slug for e in handbook.exercises)}"),
        _line("exemplars_reviewed: []",
              f"discussed: {_listing(e.slug for e in handbook.exemplars)}"),
        _line("feedback:", "advice that came up, one item per theme"),
        f"#  - {{theme: {themes[0] if themes else 'a-theme'}, note: What you saw, and how often}}",
        f"#  themes: {_listing(themes)}" if themes else "#  themes: any short-id",
        _line('summary: ""', "one sentence, shown on the timeline"),
    ]
    body = "What the group did, what worked, and what to try next time.\n"
    rel = f"sessions/{date.isoformat()}-{_slug(request)}.md"
    return {rel: _front_matter(meta) + body}


def _new_skill(handbook: Handbook, request: NewItem, date: dt.date) -> dict[str, str]:
    slug = _slug(request)
    index = _front_matter([
        _line(f"title: {yaml_scalar(request.title)}"),
        _line('summary: ""', "one sentence: what the group gets better at"),
    ]) + "What this skill is, why the group practises it, and where a newcomer starts.\n"
    descriptors = [f"      {lvl.id}: What this looks like at {lvl.name}."
                   for lvl in handbook.settings.levels]
    rubric = _front_matter([
        _line(f"title: {yaml_scalar(request.title + ' rubric')}"),
        _line("criteria:", "three to five is a good number"),
        "  - id: first-criterion          # rename it; copy the block for each criterion",
        "    name: First criterion",
        '    summary: ""',
        "    descriptors:                 # one per level, each a visible step up",
        *descriptors,
    ]) + "How to use this rubric when giving feedback.\n"
    return {f"skills/{slug}/index.md": index, f"skills/{slug}/rubric.md": rubric}


def _guide(handbook: Handbook, request: NewItem, date: dt.date) -> dict[str, str]:
    meta = [
        _line(f"title: {yaml_scalar(request.title)}"),
        _line('summary: ""', "one sentence, shown in the guides list"),
        _line("order: 0", "position in the guides list"),
    ]
    body = ("## A first section\n\nWrite the guide here. Link to other pages with relative "
            "paths to their\n.md files, such as `[the rubric](../skills/SKILL/rubric.md)`.\n")
    return {f"guides/{_slug(request)}.md": _front_matter(meta) + body}


def _slug(request: NewItem) -> str:
    slug = request.slug or slugify(request.title)
    if not slug:
        raise ScaffoldError(f"cannot make a file name from the title '{request.title}'; "
                            "give one with --slug, such as --slug my-talk", usage=True)
    if not SLUG_RE.match(slug):
        raise ScaffoldError(f"--slug must be lowercase letters, digits and hyphens, not '{slug}'",
                            usage=True)
    return slug


_SKELETONS = {"exemplar": _exemplar, "exercise": _exercise, "session": _session,
              "skill": _new_skill, "guide": _guide}


def create_item(site: Path, request: NewItem, today: dt.date) -> list[Path]:
    """Write the new file(s) under `site/content/`; never replaces an existing file.
    `today` is the date of an exemplar or session unless the request gives one."""
    if request.kind not in _NEEDS_SKILL and request.level is not None:
        raise ScaffoldError(f"--level applies to exemplars and exercises, not to a "
                            f"{request.kind}", usage=True)
    if request.kind in ("skill", "guide") and request.skill is not None:
        raise ScaffoldError(f"--skill does not apply to a {request.kind}", usage=True)
    if request.kind not in ("exemplar", "session") and request.date is not None:
        raise ScaffoldError(f"--date applies to exemplars and sessions, not to a "
                            f"{request.kind}", usage=True)
    files = _SKELETONS[request.kind](_read_handbook(site), request, request.date or today)
    content = site / CONTENT_DIR
    paths = {content / rel: text for rel, text in files.items()}
    for path in paths:
        if path.exists():
            raise ScaffoldError(f"{path} already exists; choose another title or --slug")
    for path, text in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": fail rather than overwrite
            handle.write(text)
    return list(paths)
