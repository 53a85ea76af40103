"""The typed, frozen model of a handbook. No I/O, no Markdown, no templates here."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from cophandbook.bodytext import BodyText
from cophandbook.diagnostics import Location

KINDS = ("skill", "rubric", "exemplar", "exercise", "session", "page")
# Where an exemplar sits within its level: only just there, clearly there, or nearly at the
# next level (exam boards publish such boundary exemplars for each grade).
BANDS = ("low", "secure", "high")
T = TypeVar("T")


def _repr_kept(cls: type[T]) -> type[T]:
    """Write an item's repr once. The pages kept from one build to the next are those whose
    inputs, the model's repr among them, did not change (see reuse.py); the preview keeps
    unchanged items from build to build (see revalidate.py), so a rebuild after an edit
    writes the repr of the items it changed, not of all ten thousand."""
    write = cls.__repr__

    def __repr__(self: T) -> str:
        kept: dict[str, str] = self.__dict__
        if "_repr" not in kept:
            kept["_repr"] = write(self)
        return kept["_repr"]

    cls.__repr__ = __repr__  # type: ignore[assignment,method-assign]
    return cls
# Sources that give the text of a generated page rather than a page of their own.
INTRO_SOURCES = {"index.md": "", "guides/index.md": "guides/"}


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    summary: str
    rank: int  # 0 for the lowest level


@dataclass(frozen=True)
class Written:
    """A reference as handbook.yml writes it, to content that is validated after the
    settings: resolved by schema/themes.py, and reported at `location` when it leads nowhere."""

    text: str
    location: Location


@dataclass(frozen=True)
class FeedbackTheme:
    id: str
    name: str
    description: str = ""
    # What working on the theme means: rubric criteria and exercises, as written (see
    # Handbook.links_of for them resolved).
    criteria_refs: tuple[Written, ...] = ()
    exercise_refs: tuple[Written, ...] = ()


@dataclass(frozen=True)
class Settings:
    title: str
    description: str
    base_path: str  # always starts and ends with "/"
    site_url: str  # absolute URL of the site root without trailing "/", or "" when unknown
    language: str
    repo_url: str
    edit_branch: str
    repo_path: str  # folder of the handbook inside its repository, "" at the root
    levels: tuple[Level, ...]
    search: bool
    allow_html: bool
    feedback_themes: tuple[FeedbackTheme, ...]
    max_file_bytes: int  # the largest content file read (`max_file_mb`)

    def level(self, level_id: str) -> Level | None:
        return self._levels_by_id.get(level_id)

    @functools.cached_property
    def _levels_by_id(self) -> dict[str, Level]:
        # Asked once per exemplar page and per planned route: ten thousand times a build.
        return {lvl.id: lvl for lvl in self.levels}

    def level_names(self, level_ids: tuple[str, ...]) -> tuple[str, ...]:
        """Names of the known levels among `level_ids`, lowest first."""
        return tuple(lvl.name for lvl in self.levels if lvl.id in level_ids)

    def theme(self, theme_id: str) -> FeedbackTheme | None:
        return next((t for t in self.feedback_themes if t.id == theme_id), None)


@dataclass(frozen=True)
class Source:
    """Where an item came from: its file, the path under content/, and its body."""

    path: Path
    rel: str  # POSIX path relative to content/, e.g. "skills/x/exemplars/y.md"
    text: BodyText = field(repr=False)  # read through Derived.body (see reuse.py), not repr
    body_line: int
    # When the file last changed, from git. Not in the repr, which every page depends on
    # (see reuse.py): a page that shows it notes it as an input (render.last_updated), so a
    # new commit date renders again only the pages that show that date.
    updated: dt.date | None = field(default=None, repr=False)

    @property
    def body(self) -> str:
        """The Markdown body (read from the file if it is not held; see bodytext.py)."""
        return self.text.read()

    @property
    def location(self) -> Location:
        return Location(self.path, 1)


@_repr_kept
@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    summary: str
    order: int
    source: Source


@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    summary: str
    descriptors: tuple[tuple[str, str], ...]  # (level id, text), in ladder order
    location: Location

    def descriptor(self, level_id: str) -> str:
        return dict(self.descriptors).get(level_id, "")


@_repr_kept
@dataclass(frozen=True)
class Rubric:
    skill: str
    title: str
    criteria: tuple[Criterion, ...]
    source: Source

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)


@_repr_kept
@dataclass(frozen=True)
class Exemplar:
    skill: str
    slug: str
    title: str
    level: str
    assessment: tuple[tuple[str, str], ...]  # (criterion id, level id) as written
    contributor: str  # "" when anonymous or not given
    anonymous: bool
    date: dt.date | None
    media: str
    media_line: int  # file line of `media:`, 0 without one
    tags: tuple[str, ...]
    summary: str
    source: Source
    band: str = "secure"  # one of BANDS
    next_step: str = ""  # inline Markdown: what would take the work further
    calibration: bool = True  # offered on the skill's "practise judging" page


@_repr_kept
@dataclass(frozen=True)
class Exercise:
    skill: str
    slug: str
    title: str
    levels: tuple[str, ...]
    criteria: tuple[str, ...]
    duration: str
    minutes: int | None
    group_size: str
    summary: str
    source: Source


@dataclass(frozen=True)
class ItemRef:
    """A resolved reference to an exercise or exemplar."""

    skill: str
    slug: str


@dataclass(frozen=True)
class CriterionRef:
    skill: str
    criterion: str


@dataclass(frozen=True)
class ThemeLinks:
    """A feedback theme's criteria and exercises, resolved against the content."""

    theme: str
    criteria: tuple[CriterionRef, ...] = ()
    exercises: tuple[ItemRef, ...] = ()


@dataclass(frozen=True)
class FeedbackNote:
    theme: str
    note: str


@_repr_kept
@dataclass(frozen=True)
class Session:
    slug: str
    title: str
    date: dt.date
    skills: tuple[str, ...]
    facilitator: str
    exercises: tuple[ItemRef, ...]
    exemplars_reviewed: tuple[ItemRef, ...]
    feedback: tuple[FeedbackNote, ...]
    summary: str
    source: Source


@_repr_kept
@dataclass(frozen=True)
class Page:
    """Any other Markdown file: guides, the home text, an about page."""

    slug: str
    url_path: str  # path under the site root, "" for the home page, else ending in "/"
    title: str
    summary: str
    order: int
    source: Source


@dataclass(frozen=True)
class Handbook:
    settings: Settings
    skills: tuple[Skill, ...]
    rubrics: tuple[Rubric, ...]
    exemplars: tuple[Exemplar, ...]
    exercises: tuple[Exercise, ...]
    sessions: tuple[Session, ...]
    pages: tuple[Page, ...]
    theme_links: tuple[ThemeLinks, ...] = ()  # declared themes that name criteria or exercises
    _index: dict[tuple[str, str, str], object] = field(default_factory=dict, init=False,
                                                       compare=False, repr=False)
    # Asked for by every page (the site's menu): sorted once.
    _guides: list[Page] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._guides.extend(sorted((p for p in self.pages if p.source.rel not in INTRO_SOURCES),
                                   key=lambda p: (p.order, p.url_path)))
        index = self._index
        for skill in self.skills:
            index[("skill", "", skill.id)] = skill
        for rubric in self.rubrics:
            index[("rubric", "", rubric.skill)] = rubric
        for exemplar in self.exemplars:
            index[("exemplar", exemplar.skill, exemplar.slug)] = exemplar
        for exercise in self.exercises:
            index[("exercise", exercise.skill, exercise.slug)] = exercise

    def skill(self, skill_id: str) -> Skill | None:
        return self._index.get(("skill", "", skill_id))  # type: ignore[return-value]

    def rubric(self, skill_id: str) -> Rubric | None:
        return self._index.get(("rubric", "", skill_id))  # type: ignore[return-value]

    def exemplar(self, ref: ItemRef) -> Exemplar:
        return self._index[("exemplar", ref.skill, ref.slug)]  # type: ignore[return-value]

    def exercise(self, ref: ItemRef) -> Exercise:
        return self._index[("exercise", ref.skill, ref.slug)]  # type: ignore[return-value]

    def exemplars_of(self, skill_id: str) -> Iterator[Exemplar]:
        return (e for e in self.exemplars if e.skill == skill_id)

    def exercises_of(self, skill_id: str) -> Iterator[Exercise]:
        return (e for e in self.exercises if e.skill == skill_id)

    def links_of(self, theme_id: str) -> ThemeLinks:
        """What a feedback theme points members to (nothing, when it names nothing)."""
        return next((t for t in self.theme_links if t.theme == theme_id), ThemeLinks(theme_id))

    def intro(self, rel: str) -> Page | None:
        """The page whose text introduces a generated page (home, guides)."""
        return next((p for p in self.pages if p.source.rel == rel), None)

    def guides(self) -> list[Page]:
        """Every page but the intros of generated pages, in reading order."""
        return list(self._guides)
