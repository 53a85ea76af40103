"""What the validators of every kind share: the problems, the settings, and what is known so far."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.fields import Fields, a_or_an, choices_hint
from cophandbook.model import Exemplar, Exercise, Page, Rubric, Session, Settings, Skill, Source
from cophandbook.sources import RawSource

# Every kind's front matter may have these.
COMMON_KEYS = ("type", "title", "summary")

Item = TypeVar("Item", Exemplar, Exercise)


class Context:
    """The items validated so far, by kind; kinds are validated in an order in which each only
    looks up kinds that came before it."""

    def __init__(self, settings: Settings, problems: Diagnostics) -> None:
        self.settings = settings
        self.problems = problems
        self.level_ids = [lvl.id for lvl in settings.levels]
        self.skills: dict[str, Skill] = {}
        self.rubrics: dict[str, Rubric] = {}
        self.exemplars: dict[tuple[str, str], Exemplar] = {}
        self.exercises: dict[tuple[str, str], Exercise] = {}
        self.sessions: dict[str, Session] = {}
        self.pages: list[Page] = []
        # Items that exist but failed validation: references to them are not errors too.
        self.invalid: set[tuple[str, str]] = set()
        # (skill, slug) keys of each kind by slug, for references by slug alone: made once,
        # when the first session asks (sessions come after every exemplar and exercise).
        self._by_slug: dict[str, dict[str, list[tuple[str, str]]]] = {}

    def fields(self, raw: RawSource, allowed: tuple[str, ...]) -> Fields:
        fields = Fields(raw.meta, raw.path, self.problems)
        fields.reject_unknown(allowed, f"{a_or_an(raw.kind)}'s front matter")
        return fields

    @staticmethod
    def source(raw: RawSource) -> Source:
        return Source(raw.path, raw.rel, raw.text, raw.body_line, raw.updated)

    def title(self, raw: RawSource, fields: Fields) -> str:
        if raw.meta is None:
            self.problems.error(
                "missing-front-matter",
                "file has no front matter",
                raw.path and Location(raw.path, 1),
                "start the file with '---', a line 'title: ...', and '---'",
            )
            return raw.slug.replace("-", " ").capitalize()
        return fields.text("title", required=True, example="A clear title") or raw.slug

    def level(self, value: str, loc: Location) -> str | None:
        if value in self.level_ids:
            return value
        self.problems.error(
            "unknown-level",
            f"unknown level '{value}'",
            loc,
            choices_hint(value, self.level_ids) + " (levels are set in handbook.yml)",
        )
        return None

    def skill_of(self, raw: RawSource, fields: Fields) -> str | None:
        skill_id = fields.slug("skill") or raw.skill
        if not skill_id:
            self.problems.error(
                "missing-field",
                f"a {raw.kind} outside a skill folder needs 'skill:'",
                fields.loc(),
                "move it under content/skills/<skill>/ or add a line 'skill: <skill id>'",
            )
            return None
        if skill_id not in self.skills:
            self.problems.error(
                "unknown-skill",
                f"unknown skill '{skill_id}'",
                fields.loc("skill") if fields.has("skill") else fields.loc(),
                choices_hint(skill_id, self.skills)
                + f" (a skill is a folder content/skills/{skill_id}/ with an index.md)",
            )
            return None
        return skill_id

    def criterion(self, skill_id: str, value: str, loc: Location) -> str | None:
        rubric = self.rubrics.get(skill_id)
        if rubric is None:
            return None  # the missing rubric is reported once, on the skill
        if rubric.criterion(value) is not None:
            return value
        self.problems.error(
            "unknown-criterion",
            f"unknown criterion '{value}' for skill '{skill_id}'",
            loc,
            choices_hint(value, [c.id for c in rubric.criteria]),
        )
        return None

    def add(self, registry: dict[tuple[str, str], Item], key: tuple[str, str], raw: RawSource,
            item: Item) -> None:
        if key in registry:
            self.problems.error("duplicate-id", f"'{key[1]}' is already used in skill '{key[0]}' "
                                f"by {registry[key].source.path}", Location(raw.path, 1),
                                "rename one of the files")
            return
        registry[key] = item

    def slugs(self, kind: str, registry: dict[tuple[str, str], Item]
              ) -> dict[str, list[tuple[str, str]]]:
        """The keys of `registry` by slug; searching it whole for each reference made a large
        handbook's validation quadratic in its number of pages."""
        if kind not in self._by_slug:
            by_slug: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for item_key in registry:
                by_slug[item_key[1]].append(item_key)
            self._by_slug[kind] = dict(by_slug)
        return self._by_slug[kind]
