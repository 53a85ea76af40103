"""Read-models for a member's practice loop: the self-assessment ("where am I?"), the next
steps it leads to, and the calibration set ("practise judging"). Pure functions of Derived.

What a member answers stays in their browser (themes/default/static/assess.js and
calibrate.js); these views give the pages what those scripts compare the answers with.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from cophandbook.derive import Derived
from cophandbook.markdown import Annotation, without_annotations
from cophandbook.model import Criterion, Exemplar, Level, Rubric
from cophandbook.pageids import without_ids
from cophandbook.urls import Urls
from cophandbook.views import (
    Passage,
    ThemeView,
    descriptor_html,
    exercises_at,
    feedback_themes,
    passage_at,
)

# The most exemplars a skill offers for practising judgement: enough for a sitting, and a
# bound on the pages a large handbook gains.
CALIBRATION_SET = 12


def _digest(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def criterion_digest(criterion: Criterion, levels: tuple[Level, ...]) -> str:
    """Changes whenever what a member chose between changes: the criterion's name, a level
    added, removed or renamed, a descriptor edited. An answer is kept with the digest it was
    given under, so the page can say which answers may be out of date."""
    return _digest([criterion.id, criterion.name,
                    [[lvl.id, lvl.name, criterion.descriptor(lvl.id)] for lvl in levels]])


def rubric_digest(rubric: Rubric, levels: tuple[Level, ...]) -> str:
    return _digest([[c.id, criterion_digest(c, levels)] for c in rubric.criteria])


# -- where am I? ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """One descriptor a member can pick for a criterion."""

    level: Level
    html: Markup


@dataclass(frozen=True)
class Question:
    criterion: Criterion
    digest: str
    choices: tuple[Choice, ...]  # lowest level first


@dataclass(frozen=True)
class SelfAssessment:
    digest: str
    questions: tuple[Question, ...]  # in the rubric's order


def _choices(derived: Derived, criterion: Criterion) -> tuple[Choice, ...]:
    return tuple(Choice(level, descriptor_html(derived, criterion, level.id))
                 for level in derived.handbook.settings.levels)


def self_assessment(derived: Derived, rubric: Rubric) -> SelfAssessment:
    levels = derived.handbook.settings.levels
    return SelfAssessment(
        rubric_digest(rubric, levels),
        tuple(Question(c, criterion_digest(c, levels), _choices(derived, c))
              for c in rubric.criteria))


# -- my next steps ----------------------------------------------------------------------------

def themes_by_criterion(derived: Derived, skill: str) -> dict[str, list[ThemeView]]:
    """The raised feedback themes that point at each criterion of a skill, most raised
    first."""
    pointing: dict[str, list[ThemeView]] = defaultdict(list)
    for view in feedback_themes(derived):
        if not view.count:
            continue
        for ref in derived.handbook.links_of(view.theme.id).criteria:
            if ref.skill == skill:
                pointing[ref.criterion].append(view)
    return pointing


def _passage_data(derived: Derived, passage: Passage | None) -> dict[str, str] | None:
    if passage is None:
        return None
    exemplar, note = passage.exemplar, passage.annotation
    return {"exemplar": exemplar.title, "band": exemplar.band,
            "url": derived.urls.href(Urls.exemplar(exemplar)) + "#" + note.anchor,
            "passage": without_ids(note.passage_html), "note": note.note_html}


def next_steps(derived: Derived, rubric: Rubric) -> dict[str, Any]:
    """What the self-assessment page shows as next steps, for any answers: for each
    criterion and level, one annotated passage of real work at that level and the exercises
    for it. A static file per skill, read by the page once a member has answered.

    Criteria that the group's recurring feedback points at come first: where the group
    keeps finding the same thing, a member's next step is most likely there too."""
    handbook, urls = derived.handbook, derived.urls
    levels = handbook.settings.levels
    pointing = themes_by_criterion(derived, rubric.skill)
    order = sorted(rubric.criteria, key=lambda c: -sum(v.count for v in pointing[c.id]))
    criteria = []
    for criterion in order:
        criteria.append({
            "id": criterion.id,
            "name": criterion.name,
            "url": urls.href(Urls.criterion(rubric.skill, criterion.id)),
            "themes": [{"name": v.theme.name, "url": urls.href(Urls.theme(v.theme.id)),
                        "sessions": v.count} for v in pointing[criterion.id]],
            "levels": {level.id: {
                "passage": _passage_data(derived, passage_at(derived, rubric.skill,
                                                             criterion.id, level.id)),
                "exercises": [{"title": e.title, "url": urls.href(Urls.exercise(e)),
                               "duration": e.duration}
                              for e in exercises_at(derived, rubric.skill, criterion.id,
                                                    level.id)],
            } for level in levels},
        })
    return {"skill": rubric.skill, "rubric": rubric_digest(rubric, levels),
            "criteria": criteria}


# -- practise judging -------------------------------------------------------------------------

# Boundary exemplars first: they are the ones that teach where a level begins and ends.
_BOUNDARY_FIRST = {"low": 0, "high": 0, "secure": 1}


def calibration_set(derived: Derived, rubric: Rubric) -> tuple[Exemplar, ...]:
    """The exemplars a skill offers for practising judgement, in the order they are shown.

    Those the rubric places on a criterion, unless `calibration: false`; past
    CALIBRATION_SET, spread over the levels (see `_spread`). Shown in an order that does not
    follow the levels, which would give the placements away. Found from where exemplars sit
    on the rubric (`cells`), not from their bodies, since pages are planned with it."""
    placed = {e.source.rel for (skill, _, _), cell in derived.cells.items()
              if skill == rubric.skill for e in cell}
    eligible = [e for e in derived.handbook.exemplars_of(rubric.skill)
                if e.calibration and e.source.rel in placed]
    chosen = _spread(eligible, derived.handbook.settings.levels, CALIBRATION_SET)
    return tuple(sorted(chosen, key=lambda e: _digest([e.skill, e.slug])))


def _spread(exemplars: list[Exemplar], levels: tuple[Level, ...], most: int
            ) -> list[Exemplar]:
    """At most `most` exemplars, taken from each level in turn, boundary exemplars first
    within a level: as evenly spread over the levels as the handbook allows."""
    if len(exemplars) <= most:
        return exemplars
    by_level: dict[str, list[Exemplar]] = defaultdict(list)
    for exemplar in sorted(exemplars, key=lambda e: _BOUNDARY_FIRST[e.band]):
        by_level[exemplar.level].append(exemplar)
    queues = [by_level[level.id] for level in levels]
    chosen: list[Exemplar] = []
    while len(chosen) < most:
        chosen += [queue.pop(0) for queue in queues if queue]
    return chosen[:most]


@dataclass(frozen=True)
class Placement:
    """Where the handbook places an exemplar on one criterion, and why."""

    criterion: Criterion
    level: Level
    choices: tuple[Choice, ...]  # every level's descriptor, for the member to choose from
    notes: tuple[Annotation, ...]  # the exemplar's annotations on this criterion


@dataclass(frozen=True)
class CalibrationItem:
    exemplar: Exemplar
    work: Markup  # the body without its annotations
    placements: tuple[Placement, ...]


def calibration_item(derived: Derived, exemplar: Exemplar) -> CalibrationItem:
    handbook = derived.handbook
    settings = handbook.settings
    rubric = handbook.rubric(exemplar.skill)
    body = derived.body(exemplar.source)
    placements = []
    for crit_id, level_id in derived.assessment(exemplar).items():
        criterion = rubric.criterion(crit_id) if rubric else None
        level = settings.level(level_id)
        if criterion is None or level is None:
            continue
        notes = tuple(a for a in body.annotations if a.criterion == crit_id)
        placements.append(Placement(criterion, level, _choices(derived, criterion), notes))
    return CalibrationItem(exemplar, Markup(without_annotations(body.html)), tuple(placements))
