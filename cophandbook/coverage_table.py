"""The coverage read-model for the terminal: a table per skill, or JSON for tools.

Organizers read it to decide what to ask members for next, so the gaps are marked in the
table and then spelt out in words.
"""

from __future__ import annotations

import json

from cophandbook.views import CoverageSkill

GAP = "--"


def _row(label: str, cells: list[str], label_width: int, widths: list[int]) -> str:
    parts = [label.ljust(label_width)] + [c.rjust(w) for c, w in zip(cells, widths, strict=True)]
    return "  " + "  ".join(parts).rstrip()


def _skill_table(cov: CoverageSkill) -> list[str]:
    """The skill's counts, then its gaps in words."""
    return [*_counts(cov), *_asks(cov)]


def _counts(cov: CoverageSkill) -> list[str]:
    """A heading line, then exemplars per criterion and level, and exercises per level."""
    levels = [lvl for lvl, _ in cov.exercises_per_level]
    labels = ["Exemplars", *(c.name for c, _ in cov.counts), "Exercises"]
    label_width = max(len(label) for label in labels)
    widths = [max(len(lvl.name), len(GAP)) for lvl in levels]
    cells = len(cov.counts) * len(levels)
    lines = [f"{cov.skill.title} ({cov.skill.id}): {cells - len(cov.missing)} of {cells} "
             "criterion-level cells have an exemplar"]
    lines.append(_row("Exemplars", [lvl.name for lvl in levels], label_width, widths))
    for criterion, row in cov.counts:
        lines.append(_row(criterion.name, [str(n) if n else GAP for _, n in row],
                          label_width, widths))
    lines.append(_row("Exercises", [str(n) if n else GAP for _, n in cov.exercises_per_level],
                      label_width, widths))
    return lines


def _asks(cov: CoverageSkill) -> list[str]:
    """What to ask members for: exemplars of each criterion's gaps, exercises at levels
    without one; or that there is nothing to ask for."""
    wanted = _wanted_exemplars(cov)
    lines = []
    if wanted:
        lines.append(f"  Ask for exemplars of: {'; '.join(wanted)}.")
    if cov.levels_without_exercise:
        names = ", ".join(lvl.name for lvl in cov.levels_without_exercise)
        lines.append(f"  Ask for exercises at: {names}.")
    if not wanted and not cov.levels_without_exercise:
        lines.append("  No gaps: every cell has an exemplar and every level an exercise.")
    return lines


def _wanted_exemplars(cov: CoverageSkill) -> list[str]:
    """Each criterion with gaps, and at which levels ("every level" when all)."""
    level_count = len(cov.exercises_per_level)
    wanted = []
    for criterion, _ in cov.counts:
        gaps = [lvl.name for c, lvl in cov.missing if c == criterion]
        if gaps:
            where = "every level" if len(gaps) == level_count else ", ".join(gaps)
            wanted.append(f"{criterion.name} ({where})")
    return wanted


def coverage_text(skills: tuple[CoverageSkill, ...]) -> str:
    if not skills:
        return "No skill with a rubric yet, so there is no coverage to show."
    blocks = ["\n".join(_skill_table(cov)) for cov in skills]
    gaps = sum(len(cov.missing) for cov in skills)
    levels = sum(len(cov.levels_without_exercise) for cov in skills)
    blocks.append(f"{GAP} marks a gap. In all: {gaps} cell{'s' * (gaps != 1)} without an "
                  f"exemplar, {levels} level{'s' * (levels != 1)} without an exercise.")
    return "\n\n".join(blocks)


def coverage_json(skills: tuple[CoverageSkill, ...]) -> str:
    data = [
        {
            "id": cov.skill.id,
            "title": cov.skill.title,
            "levels": [lvl.id for lvl, _ in cov.exercises_per_level],
            "criteria": [
                {"id": c.id, "name": c.name, "exemplars": {lvl.id: n for lvl, n in row}}
                for c, row in cov.counts
            ],
            "exercises": {lvl.id: n for lvl, n in cov.exercises_per_level},
            "gaps": [{"criterion": c.id, "level": lvl.id} for c, lvl in cov.missing],
            "levels_without_exercise": [lvl.id for lvl in cov.levels_without_exercise],
        }
        for cov in skills
    ]
    return json.dumps({"skills": data}, indent=2, ensure_ascii=False)
