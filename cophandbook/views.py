"""Read-models for pages: ladder, level, criterion climb, rubric matrix, neighbours,
exercise catalog, timeline, feedback themes and coverage. Pure functions of `Derived`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup

from cophandbook.derive import Derived
from cophandbook.markdown import Annotation, render_inline
from cophandbook.model import (
    Criterion,
    Exemplar,
    Exercise,
    FeedbackTheme,
    Level,
    Rubric,
    Session,
    Skill,
)

GAP_DAYS = 42  # six weeks without a session is worth calling out
RECENT_DAYS = 91  # a feedback theme's trend compares the last three months with the time before
TREND_MONTHS = 12  # the months a theme's trend shows, up to the latest session


def descriptor_html(derived: Derived, criterion: Criterion, level_id: str) -> Markup:
    text = criterion.descriptor(level_id)
    return Markup(render_inline(text, derived.handbook.settings.allow_html))


def _neighbours(levels: tuple[Level, ...], level_id: str) -> tuple[Level | None, Level | None]:
    ids = [lvl.id for lvl in levels]
    rank = ids.index(level_id)
    lower = levels[rank - 1] if rank > 0 else None
    higher = levels[rank + 1] if rank + 1 < len(levels) else None
    return lower, higher


# -- ladder -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Descriptor:
    criterion: Criterion
    level: Level
    html: Markup
    exemplars: tuple[Exemplar, ...]


@dataclass(frozen=True)
class Rung:
    level: Level
    descriptors: tuple[Descriptor, ...]
    exemplars: tuple[Exemplar, ...]
    exercises: tuple[Exercise, ...]


def _descriptor(derived: Derived, skill: str, crit: Criterion, level: Level) -> Descriptor:
    return Descriptor(crit, level, descriptor_html(derived, crit, level.id),
                      tuple(derived.cells.get((skill, crit.id, level.id), ())))


def rung(derived: Derived, rubric: Rubric, level: Level) -> Rung:
    handbook = derived.handbook
    return Rung(
        level=level,
        descriptors=tuple(_descriptor(derived, rubric.skill, c, level) for c in rubric.criteria),
        exemplars=tuple(e for e in handbook.exemplars_of(rubric.skill) if e.level == level.id),
        exercises=tuple(e for e in handbook.exercises_of(rubric.skill) if level.id in e.levels),
    )


def ladder(derived: Derived, rubric: Rubric) -> tuple[Rung, ...]:
    return tuple(rung(derived, rubric, level) for level in derived.handbook.settings.levels)


# -- level ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LevelStep:
    """One criterion at this level beside the same criterion one level up, with a passage
    of real work at that level and the exercises that practise the criterion here."""

    criterion: Criterion
    here: Markup
    next: Markup | None
    passage: Passage | None  # at the next level
    exercises: tuple[Exercise, ...]  # for this criterion, at this level


@dataclass(frozen=True)
class LevelView:
    level: Level
    lower: Level | None
    higher: Level | None
    steps: tuple[LevelStep, ...]
    here: Rung
    next_exemplars: tuple[Exemplar, ...]


def level_view(derived: Derived, rubric: Rubric, level: Level, practice: bool = True
               ) -> LevelView:
    """`practice`: with each step's passage and exercises (the level page shows them, the
    level pack does not, and should not depend on the exemplars they come from)."""
    levels = derived.handbook.settings.levels
    lower, higher = _neighbours(levels, level.id)
    steps = tuple(
        LevelStep(c, descriptor_html(derived, c, level.id),
                  descriptor_html(derived, c, higher.id) if higher else None,
                  passage_at(derived, rubric.skill, c.id, higher.id)
                  if higher and practice else None,
                  exercises_at(derived, rubric.skill, c.id, level.id) if practice else ())
        for c in rubric.criteria
    )
    next_exemplars = tuple(
        e for e in derived.handbook.exemplars_of(rubric.skill) if higher and e.level == higher.id
    )
    return LevelView(level, lower, higher, steps, rung(derived, rubric, level), next_exemplars)


# -- criterion climb --------------------------------------------------------------------------

@dataclass(frozen=True)
class Passage:
    exemplar: Exemplar
    annotation: Annotation


@dataclass(frozen=True)
class ClimbStep:
    level: Level
    descriptor: Markup
    passages: tuple[Passage, ...]
    exemplars: tuple[Exemplar, ...]  # assessed here, whether annotated or not


def climb(derived: Derived, rubric: Rubric, criterion: Criterion) -> tuple[ClimbStep, ...]:
    steps = []
    for level in derived.handbook.settings.levels:
        assessed = tuple(derived.cells.get((rubric.skill, criterion.id, level.id), ()))
        passages = tuple(
            Passage(exemplar, note)
            for exemplar in assessed
            for note in derived.body(exemplar.source).annotations
            if note.criterion == criterion.id
        )
        steps.append(ClimbStep(level, descriptor_html(derived, criterion, level.id),
                               passages, assessed))
    return tuple(steps)


def exercises_for_criterion(derived: Derived, skill: str, criterion: str) -> tuple[Exercise, ...]:
    return tuple(e for e in derived.handbook.exercises_of(skill) if criterion in e.criteria)


def exercises_at(derived: Derived, skill: str, criterion: str, level: str
                 ) -> tuple[Exercise, ...]:
    """The exercises that practise `criterion` and are meant for `level`."""
    return tuple(e for e in exercises_for_criterion(derived, skill, criterion)
                 if level in e.levels)


# Which exemplar shows a level best: one clearly at it, then one nearly past it, then one
# only just there.
_CLEAREST = {"secure": 0, "high": 1, "low": 2}


def passage_at(derived: Derived, skill: str, criterion: str, level: str) -> Passage | None:
    """One annotated passage of real work at `level` for `criterion`, or None when no
    exemplar assessed there annotates it."""
    assessed = derived.cells.get((skill, criterion, level), ())
    for exemplar in sorted(assessed, key=lambda e: _CLEAREST[e.band]):
        if any(mark.criterion == criterion for mark in derived.outline(exemplar.source).marks):
            note = next(a for a in derived.body(exemplar.source).annotations
                        if a.criterion == criterion)
            return Passage(exemplar, note)
    return None


# -- rubric matrix ----------------------------------------------------------------------------

@dataclass(frozen=True)
class MatrixRow:
    criterion: Criterion
    cells: tuple[Descriptor, ...]


def matrix(derived: Derived, rubric: Rubric) -> tuple[MatrixRow, ...]:
    levels = derived.handbook.settings.levels
    return tuple(
        MatrixRow(c, tuple(_descriptor(derived, rubric.skill, c, lvl) for lvl in levels))
        for c in rubric.criteria
    )


# -- exemplar ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessed:
    """One criterion of an exemplar, with the same criterion one level down and up."""

    criterion: Criterion
    here: Descriptor
    lower: Descriptor | None
    higher: Descriptor | None


def assessment(derived: Derived, exemplar: Exemplar) -> tuple[Assessed, ...]:
    settings = derived.handbook.settings
    rubric = derived.handbook.rubric(exemplar.skill)
    if rubric is None:
        return ()
    rows = []
    for crit_id, level_id in derived.assessment(exemplar).items():
        crit = rubric.criterion(crit_id)
        level = settings.level(level_id)
        if crit is None or level is None:
            continue
        lower, higher = _neighbours(settings.levels, level_id)

        def at(lvl: Level | None, crit: Criterion = crit) -> Descriptor | None:
            if lvl is None:
                return None
            found = _descriptor(derived, exemplar.skill, crit, lvl)
            # By identity: comparing exemplars field by field builds two tuples of every
            # field, for each of the hundred or so in a large handbook's cell.
            others = tuple(e for e in found.exemplars if e is not exemplar)
            return Descriptor(found.criterion, found.level, found.html, others)

        rows.append(Assessed(crit, at(level), at(lower), at(higher)))  # type: ignore[arg-type]
    return tuple(rows)


def sessions_using(derived: Derived, kind: str, skill: str, slug: str) -> tuple[Session, ...]:
    return tuple(derived.used_in.get((kind, skill, slug), ()))


# -- exercise catalog -------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogGroup:
    skill: Skill
    by_level: tuple[tuple[Level, tuple[Exercise, ...]], ...]


def catalog(derived: Derived) -> tuple[CatalogGroup, ...]:
    handbook = derived.handbook
    groups = []
    for skill in handbook.skills:
        exercises = list(handbook.exercises_of(skill.id))
        by_level = tuple(
            (lvl, tuple(e for e in exercises if lvl.id in e.levels))
            for lvl in handbook.settings.levels
        )
        groups.append(CatalogGroup(skill, by_level))
    return tuple(groups)


# -- sessions timeline ------------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    session: Session
    gap_before: int  # days since the previous session when over six weeks, else 0
    previous: Session | None


@dataclass(frozen=True)
class Month:
    key: str  # "2026-03"
    label: str  # "March 2026"
    entries: tuple[TimelineEntry, ...]  # newest first


def _months_between(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def timeline(derived: Derived) -> tuple[Month, ...]:
    """Every month from the first session to the last, newest first, empty months included."""
    sessions = derived.handbook.sessions  # oldest first
    if not sessions:
        return ()
    entries: dict[tuple[int, int], list[TimelineEntry]] = defaultdict(list)
    previous: Session | None = None
    for session in sessions:
        gap = (session.date - previous.date).days if previous else 0
        entries[(session.date.year, session.date.month)].append(
            TimelineEntry(session, gap if gap > GAP_DAYS else 0, previous))
        previous = session
    months = []
    for year, month in reversed(_months_between(sessions[0].date, sessions[-1].date)):
        label = dt.date(year, month, 1).strftime("%B %Y")
        months.append(Month(f"{year:04d}-{month:02d}", label,
                            tuple(reversed(entries.get((year, month), [])))))
    return tuple(months)


# -- feedback themes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Trend:
    """How often a theme came up lately, against the sessions before."""

    months: tuple[tuple[str, int], ...]  # (month label, sessions that raised it), oldest first
    recent: tuple[int, int]  # (sessions that raised it, sessions) in the last three months
    earlier: tuple[int, int]  # the same before them

    @property
    def label(self) -> str:
        """"new", "recurring", "fading", or "" for a theme never raised."""
        (raised, held), (before, held_before) = self.recent, self.earlier
        if not raised and not before:
            return ""
        if not before:
            return "new"
        # Rates per session, not per month: a long break is not a theme fading.
        if raised and raised * held_before >= before * held:
            return "recurring"
        return "fading"


@dataclass(frozen=True)
class ThemeView:
    theme: FeedbackTheme
    mentions: tuple[tuple[Session, str], ...]  # (session, note), oldest first
    trend: Trend

    @property
    def count(self) -> int:
        return len({session.slug for session, _ in self.mentions})


def _trend(sessions: tuple[Session, ...], raised: set[str]) -> Trend:
    if not sessions:
        return Trend((), (0, 0), (0, 0))
    since = sessions[-1].date - dt.timedelta(days=RECENT_DAYS)
    recent = [s for s in sessions if s.date > since]
    earlier = [s for s in sessions if s.date <= since]
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for session in sessions:
        per_month[(session.date.year, session.date.month)] += session.slug in raised
    months = tuple((dt.date(year, month, 1).strftime("%B %Y"), per_month.get((year, month), 0))
                   for year, month in _months_between(sessions[0].date, sessions[-1].date)
                   [-TREND_MONTHS:])
    return Trend(months,
                 (sum(s.slug in raised for s in recent), len(recent)),
                 (sum(s.slug in raised for s in earlier), len(earlier)))


def feedback_themes(derived: Derived) -> tuple[ThemeView, ...]:
    """Themes most often raised first; declared themes nobody raised yet come last."""
    settings = derived.handbook.settings
    sessions = derived.handbook.sessions
    mentions: dict[str, list[tuple[Session, str]]] = defaultdict(list)
    for session in sessions:
        for note in session.feedback:
            mentions[note.theme].append((session, note.note))
    ids = [t.id for t in settings.feedback_themes]
    ids += sorted(t for t in mentions if t not in ids)
    views = [
        ThemeView(settings.theme(t) or FeedbackTheme(t, t.replace("-", " ").capitalize()),
                  tuple(mentions.get(t, ())),
                  _trend(sessions, {session.slug for session, _ in mentions.get(t, ())}))
        for t in ids
    ]
    return tuple(sorted(views, key=lambda v: (-v.count, v.theme.name.lower())))


@dataclass(frozen=True)
class WorkOn:
    """A criterion a feedback theme points to: the skill, and the criterion at every level."""

    skill: Skill
    criterion: Criterion
    descriptors: tuple[tuple[Level, Markup], ...]


@dataclass(frozen=True)
class ThemeWork:
    criteria: tuple[WorkOn, ...]
    exercises: tuple[Exercise, ...]


def theme_work(derived: Derived, theme_id: str) -> ThemeWork:
    """What a member can work on when a theme keeps coming up: the criteria it names, and
    its exercises (those it names, else those that practise its criteria)."""
    handbook = derived.handbook
    links = handbook.links_of(theme_id)
    criteria = []
    for ref in links.criteria:
        skill, rubric = handbook.skill(ref.skill), handbook.rubric(ref.skill)
        criterion = rubric.criterion(ref.criterion) if rubric else None
        if skill and criterion:
            criteria.append(WorkOn(skill, criterion, tuple(
                (level, descriptor_html(derived, criterion, level.id))
                for level in handbook.settings.levels)))
    named = [handbook.exercise(ref) for ref in links.exercises]
    practising = {(e.skill, e.slug): e for work in criteria
                  for e in exercises_for_criterion(derived, work.skill.id, work.criterion.id)}
    return ThemeWork(tuple(criteria), tuple(named or practising.values()))


# -- coverage ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoverageSkill:
    skill: Skill
    rubric: Rubric
    counts: tuple[tuple[Criterion, tuple[tuple[Level, int], ...]], ...]
    missing: tuple[tuple[Criterion, Level], ...]
    exercises_per_level: tuple[tuple[Level, int], ...]

    @property
    def levels_without_exercise(self) -> tuple[Level, ...]:
        return tuple(level for level, count in self.exercises_per_level if count == 0)


def coverage(derived: Derived) -> tuple[CoverageSkill, ...]:
    handbook = derived.handbook
    levels = handbook.settings.levels
    result = []
    for skill in handbook.skills:
        rubric = handbook.rubric(skill.id)
        if rubric is None:
            continue
        counts = tuple(
            (c, tuple((lvl, len(derived.cells.get((skill.id, c.id, lvl.id), ())))
                      for lvl in levels))
            for c in rubric.criteria
        )
        missing = tuple((c, lvl) for c, row in counts for lvl, n in row if n == 0)
        exercises = list(handbook.exercises_of(skill.id))
        per_level = tuple((lvl, sum(lvl.id in e.levels for e in exercises)) for lvl in levels)
        result.append(CoverageSkill(skill, rubric, counts, missing, per_level))
    return tuple(result)


# -- search -----------------------------------------------------------------------------------

# What the search page can narrow results to. Each indexed page carries one kind (see the
# `search_tags` macro of the theme); the labels are what members see.
SEARCH_KINDS = ("Exemplar", "Exercise", "Rubric", "Skill", "Level", "Criterion", "Session",
                "Guide", "Feedback theme")


@dataclass(frozen=True)
class SearchFilters:
    kinds: tuple[str, ...]
    skills: tuple[str, ...]  # skill titles, as the pages' filters carry them
    levels: tuple[str, ...]  # level names, lowest first


def search_filters(derived: Derived) -> SearchFilters:
    handbook = derived.handbook
    return SearchFilters(SEARCH_KINDS, tuple(s.title for s in handbook.skills),
                         tuple(level.name for level in handbook.settings.levels))
