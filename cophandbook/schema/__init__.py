"""One validator per kind: raw sources → the frozen Handbook. The only module that knows fields."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import PurePosixPath

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.fields import SLUG_RE, Fields, a_or_an, choices_hint
from cophandbook.model import (
    BANDS,
    Criterion,
    CriterionRef,
    Exemplar,
    Exercise,
    FeedbackNote,
    Handbook,
    ItemRef,
    Page,
    Rubric,
    Session,
    Settings,
    Skill,
    Source,
    ThemeLinks,
    Written,
)
from cophandbook.pageids import theme_element
from cophandbook.schemes import is_allowed_url, refused_urls
from cophandbook.sources import RawSource

_COMMON = ("type", "title", "summary")
ALLOWED_KEYS = {
    "skill": (*_COMMON, "order"),
    "rubric": (*_COMMON, "skill", "criteria"),
    "exemplar": (*_COMMON, "skill", "level", "criteria", "contributor", "anonymous", "date",
                 "media", "tags", "band", "next_step", "calibration"),
    "exercise": (*_COMMON, "skill", "levels", "criteria", "duration", "group_size"),
    "session": (*_COMMON, "date", "skills", "facilitator", "exercises", "exemplars_reviewed",
                "feedback"),
    "page": (*_COMMON, "order"),
}
_DURATION_RE = re.compile(
    r"^\s*(?:(\d+)\s*(?:h|hr|hrs|hours?))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?)?)?\s*$", re.I
)


def parse_minutes(text: str) -> int | None:
    """'15 min' → 15, '1 h 30' → 90, '1 hour' → 60; None when it is not a duration."""
    match = _DURATION_RE.match(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes = match.groups()
    return int(hours or 0) * 60 + int(minutes or 0)


class _Validator:
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

    # -- helpers ----------------------------------------------------------------------------

    def fields(self, raw: RawSource) -> Fields:
        fields = Fields(raw.meta, raw.path, self.problems)
        fields.reject_unknown(ALLOWED_KEYS[raw.kind], f"{a_or_an(raw.kind)}'s front matter")
        return fields

    def source(self, raw: RawSource) -> Source:
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

    def url(self, fields: Fields, key: str) -> str:
        value = fields.text(key) or ""
        if value and not is_allowed_url(value):
            self.problems.error(
                "unsafe-url",
                f"'{key}' uses a URL scheme that is not allowed: '{value}'",
                fields.loc(key),
                "use an http(s) link or a path such as /recordings/talk.mp3",
            )
            return ""
        return value

    # -- kinds ------------------------------------------------------------------------------

    def skill(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        skill_id = raw.skill or raw.slug
        if not SLUG_RE.match(skill_id):
            self.problems.error("invalid-id", f"skill folder '{skill_id}' is not a valid id",
                                Location(raw.path, 1), "use lowercase letters, digits and hyphens")
            return
        if skill_id in self.skills:
            other = self.skills[skill_id].source.path
            self.problems.error("duplicate-id", f"skill '{skill_id}' is also defined in {other}",
                                Location(raw.path, 1))
            return
        self.skills[skill_id] = Skill(
            id=skill_id,
            title=self.title(raw, fields),
            summary=fields.text("summary") or "",
            order=fields.integer("order", 0) or 0,
            source=self.source(raw),
        )

    def rubric(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        skill_id = self.skill_of(raw, fields)
        title = self.title(raw, fields)
        if skill_id is None:
            return
        criteria: list[Criterion] = []
        for item in fields.node_list("criteria"):
            loc = Location(raw.path, item.line, item.col)
            if not isinstance(item.value, dict):
                self.problems.error("wrong-type", "each criterion should be a mapping with id, "
                                    "name and descriptors", loc)
                continue
            crit = Fields(item, raw.path, self.problems)
            crit.reject_unknown(("id", "name", "summary", "descriptors"), "a criterion")
            crit_id = crit.slug("id", required=True)
            if crit_id is None:
                continue
            if any(c.id == crit_id for c in criteria):
                self.problems.error("duplicate-id", f"criterion '{crit_id}' is listed twice", loc)
                continue
            element = theme_element(crit_id)
            if element is not None:
                # Kept all the same, so what names it hears nothing more: one mistake, one error.
                self.problems.error(
                    "reserved-id", f"criterion id '{crit_id}' is taken: the rubric page gives "
                    f"its row that id, and {element} has that id too", crit.loc("id"),
                    "rename the criterion (here and where exemplars, exercises and annotations "
                    "name it): a page with one id twice breaks the links and scripts that "
                    "look for it")
            descriptors: dict[str, str] = {}
            mapping = crit.mapping("descriptors")
            if mapping is not None:
                for level_id in mapping.entries:
                    if self.level(level_id, mapping.loc(level_id)):
                        descriptors[level_id] = mapping.text(level_id) or ""
                        for url in refused_urls(descriptors[level_id]):
                            self.problems.error(
                                "unsafe-url", f"'{url}' is not a link that can be published",
                                mapping.loc(level_id),
                                "links may use http, https, mailto or a relative path")
            missing = [lvl for lvl in self.level_ids if not descriptors.get(lvl)]
            if missing:
                self.problems.error(
                    "missing-descriptor",
                    f"criterion '{crit_id}' has no descriptor for {', '.join(missing)}",
                    loc,
                    "describe what this criterion looks like at every level",
                )
            criteria.append(Criterion(
                id=crit_id,
                name=crit.text("name") or crit_id.replace("-", " ").capitalize(),
                summary=crit.text("summary") or "",
                descriptors=tuple((lvl, descriptors.get(lvl, "")) for lvl in self.level_ids),
                location=loc,
            ))
        if not criteria:
            self.problems.error("missing-field", "a rubric needs at least one criterion",
                                fields.loc("criteria"), "add 'criteria:' with id, name and "
                                "descriptors for each level")
        if skill_id in self.rubrics:
            self.problems.error("duplicate-id", f"skill '{skill_id}' already has a rubric in "
                                f"{self.rubrics[skill_id].source.path}", Location(raw.path, 1))
            return
        self.rubrics[skill_id] = Rubric(skill_id, title, tuple(criteria), self.source(raw))

    def exemplar(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        title = self.title(raw, fields)
        skill_id = self.skill_of(raw, fields)
        level_text = fields.text("level", required=True, example=self.level_ids[0])
        level = level_text and self.level(level_text, fields.loc("level"))
        assessment: list[tuple[str, str]] = []
        mapping = fields.mapping("criteria")
        if mapping is not None and skill_id:
            for crit_id in mapping.entries:
                crit = self.criterion(skill_id, crit_id, mapping.loc(crit_id))
                value = mapping.text(crit_id)
                at = value and self.level(value, mapping.loc(crit_id))
                if crit and at:
                    assessment.append((crit, at))
        anonymous = fields.boolean("anonymous")
        contributor = fields.text("contributor") or ""
        date = fields.date("date")
        tags = tuple(tag for tag, _ in fields.text_list("tags"))
        media = self.url(fields, "media")
        band = self.band(fields)
        next_step = self.inline_markdown(fields, "next_step")
        calibration = fields.boolean("calibration", default=True)
        if skill_id is None or not level:
            if skill_id:
                self.invalid.add((skill_id, raw.slug))
            return
        self.add(self.exemplars, (skill_id, raw.slug), raw, Exemplar(
            skill=skill_id,
            slug=raw.slug,
            title=title,
            level=level,
            assessment=tuple(assessment),
            contributor="" if anonymous else contributor,
            anonymous=anonymous,
            date=date,
            media=media,
            media_line=fields.loc("media").line if media else 0,
            tags=tags,
            summary=fields.text("summary") or "",
            source=self.source(raw),
            band=band,
            next_step=next_step,
            calibration=calibration,
        ))

    def band(self, fields: Fields) -> str:
        value = fields.text("band")
        if value is None or value in BANDS:
            return value or "secure"
        self.problems.error("unknown-band", f"unknown band '{value}'", fields.loc("band"),
                            choices_hint(value, BANDS) + " (where the work sits within its "
                            "level: only just there, clearly there, or nearly at the next)")
        return "secure"

    def inline_markdown(self, fields: Fields, key: str) -> str:
        """Text shown as inline Markdown, like a rubric descriptor: its links are judged
        here, since no body's link check sees them."""
        text = fields.text(key) or ""
        for url in refused_urls(text):
            self.problems.error("unsafe-url", f"'{url}' is not a link that can be published",
                                fields.loc(key),
                                "links may use http, https, mailto or a relative path")
        return text

    def exercise(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        title = self.title(raw, fields)
        skill_id = self.skill_of(raw, fields)
        levels = [lvl for text, loc in fields.text_list("levels") if (lvl := self.level(text, loc))]
        if not fields.has("levels"):
            self.problems.error("missing-field", "'levels' is required: who is this exercise for?",
                                fields.loc(), f"add a line like 'levels: [{self.level_ids[0]}]'")
        criteria = [
            crit for text, loc in fields.text_list("criteria")
            if skill_id and (crit := self.criterion(skill_id, text, loc))
        ]
        duration = fields.text("duration") or ""
        minutes = parse_minutes(duration) if duration else None
        if duration and minutes is None:
            self.problems.error("invalid-duration", f"'duration' should read like '15 min' or "
                                f"'1 h 30', not '{duration}'", fields.loc("duration"))
        if skill_id is None:
            return
        self.add(self.exercises, (skill_id, raw.slug), raw, Exercise(
            skill=skill_id,
            slug=raw.slug,
            title=title,
            levels=tuple(sorted(set(levels), key=self.level_ids.index)),
            criteria=tuple(criteria),
            duration=duration,
            minutes=minutes,
            group_size=fields.text("group_size") or "",
            summary=fields.text("summary") or "",
            source=self.source(raw),
        ))

    def session(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        title = self.title(raw, fields)
        date = fields.date("date", required=True)
        skills = []
        for text, loc in fields.text_list("skills"):
            if text in self.skills:
                skills.append(text)
            else:
                self.problems.error("unknown-skill", f"unknown skill '{text}'", loc,
                                    choices_hint(text, self.skills))
        exercises = self.refs(fields, "exercises", self.exercises, skills)
        exemplars = self.refs(fields, "exemplars_reviewed", self.exemplars, skills)
        feedback = self.feedback(fields)
        if date is None:
            return
        if raw.slug in self.sessions:
            self.problems.error("duplicate-id", f"session '{raw.slug}' is also defined in "
                                f"{self.sessions[raw.slug].source.path}", Location(raw.path, 1))
            return
        self.sessions[raw.slug] = Session(
            slug=raw.slug,
            title=title,
            date=date,
            skills=tuple(skills),
            facilitator=fields.text("facilitator") or "",
            exercises=exercises,
            exemplars_reviewed=exemplars,
            feedback=feedback,
            summary=fields.text("summary") or "",
            source=self.source(raw),
        )

    def _slugs(self, kind: str, registry: dict[tuple[str, str], object]
               ) -> dict[str, list[tuple[str, str]]]:
        """The keys of `registry` by slug; searching it whole for each reference made a large
        handbook's validation quadratic (a second more at 10,000 pages)."""
        if kind not in self._by_slug:
            by_slug: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for item_key in registry:
                by_slug[item_key[1]].append(item_key)
            self._by_slug[kind] = dict(by_slug)
        return self._by_slug[kind]

    def refs(self, fields: Fields, key: str, registry: dict[tuple[str, str], object],
             skills: list[str]) -> tuple[ItemRef, ...]:
        """Resolve `slug` (within the session's skills first) or `skill/slug` references."""
        return self.resolve(key.split("_")[0].rstrip("s"), fields.text_list(key), registry,
                            skills)

    def resolve(self, kind: str, written: list[tuple[str, Location]],
                registry: dict[tuple[str, str], object], skills: list[str]
                ) -> tuple[ItemRef, ...]:
        resolved: list[ItemRef] = []
        for text, loc in written:
            if "/" in text:
                skill_id, _, slug = text.partition("/")
                candidates = [(skill_id, slug)] if (skill_id, slug) in registry else []
            else:
                slug = text
                everywhere = self._slugs(kind, registry).get(slug, [])
                candidates = [k for k in everywhere if k[0] in skills] or everywhere
            if not candidates and any(k[1] == slug for k in self.invalid):
                continue  # the target has its own error already
            if len(candidates) == 1:
                resolved.append(ItemRef(*candidates[0]))
            elif candidates:
                options = ", ".join(f"{s}/{n}" for s, n in sorted(candidates))
                self.problems.error("ambiguous-reference", f"'{text}' matches several "
                                    f"{kind}s: {options}", loc, "write it as skill/slug")
            else:
                self.problems.error("unknown-reference", f"no {kind} '{text}'", loc,
                                    choices_hint(slug, sorted({k[1] for k in registry})))
        return tuple(resolved)

    def feedback(self, fields: Fields) -> tuple[FeedbackNote, ...]:
        notes: list[FeedbackNote] = []
        declared = [t.id for t in self.settings.feedback_themes]
        for item in fields.node_list("feedback"):
            loc = Location(fields.path, item.line, item.col)
            if isinstance(item.value, str):  # "- rushing" is short for {theme: rushing}
                entry = Fields.shorthand("theme", item, fields.path, self.problems)
            elif isinstance(item.value, dict):
                entry = Fields(item, fields.path, self.problems)
            else:
                self.problems.error("wrong-type", "each feedback item should be a mapping with "
                                    "'theme' and 'note'", loc)
                continue
            entry.reject_unknown(("theme", "note"), "a feedback item")
            theme = entry.slug("theme", required=True)
            if theme is None:
                continue
            if declared and theme not in declared:
                self.problems.error("unknown-theme", f"unknown feedback theme '{theme}'",
                                    entry.loc("theme"), choices_hint(theme, declared)
                                    + " (themes are declared in handbook.yml)")
                continue
            notes.append(FeedbackNote(theme, entry.text("note") or ""))
        return tuple(notes)

    def theme_links(self) -> tuple[ThemeLinks, ...]:
        """The criteria and exercises each declared feedback theme names, resolved."""
        links = []
        for theme in self.settings.feedback_themes:
            criteria = tuple(ref for written in theme.criteria_refs
                             if (ref := self.criterion_ref(written)))
            skills = list(dict.fromkeys(ref.skill for ref in criteria))
            exercises = self.resolve("exercise", [(w.text, w.location)
                                                  for w in theme.exercise_refs],
                                     self.exercises, skills)
            if criteria or exercises:
                links.append(ThemeLinks(theme.id, criteria, exercises))
        return tuple(links)

    def criterion_ref(self, written: Written) -> CriterionRef | None:
        """`skill/criterion`, or a criterion id that one skill's rubric has."""
        if "/" in written.text:
            skill_id, _, crit_id = written.text.partition("/")
            if skill_id not in self.skills:
                self.problems.error("unknown-skill", f"unknown skill '{skill_id}'",
                                    written.location, choices_hint(skill_id, self.skills))
                return None
            found = self.criterion(skill_id, crit_id, written.location)
            return CriterionRef(skill_id, found) if found else None
        having = [skill for skill, rubric in self.rubrics.items()
                  if rubric.criterion(written.text) is not None]
        if len(having) == 1:
            return CriterionRef(having[0], written.text)
        if having:
            options = ", ".join(f"{skill}/{written.text}" for skill in sorted(having))
            self.problems.error("ambiguous-reference", f"'{written.text}' is a criterion of "
                                f"several skills: {options}", written.location,
                                "write it as skill/criterion")
            return None
        criteria = {c.id for rubric in self.rubrics.values() for c in rubric.criteria}
        self.problems.error("unknown-criterion", f"no skill's rubric has the criterion "
                            f"'{written.text}'", written.location,
                            choices_hint(written.text, criteria))
        return None

    def page(self, raw: RawSource) -> None:
        fields = self.fields(raw)
        rel = PurePosixPath(raw.rel)
        folder = rel.parent.as_posix()
        parts = [] if folder == "." else [folder]
        if rel.stem != "index":
            parts.append(rel.stem)
        url_path = "/".join(parts) + "/" if parts else ""
        self.pages.append(Page(
            slug=raw.slug,
            url_path=url_path,
            title=self.title(raw, fields),
            summary=fields.text("summary") or "",
            order=fields.integer("order", 0) or 0,
            source=self.source(raw),
        ))

    def add(self, registry: dict, key: tuple[str, str], raw: RawSource, item: object) -> None:
        if key in registry:
            self.problems.error("duplicate-id", f"'{key[1]}' is already used in skill '{key[0]}' "
                                f"by {registry[key].source.path}", Location(raw.path, 1),
                                "rename one of the files")
            return
        registry[key] = item


def validate(sources: list[RawSource], settings: Settings, problems: Diagnostics) -> Handbook:
    check = _Validator(settings, problems)
    by_kind: dict[str, list[RawSource]] = defaultdict(list)
    for raw in sources:
        by_kind[raw.kind].append(raw)
    # Order matters: rubrics need skills, exemplars need rubrics, sessions need exemplars.
    steps: list[tuple[str, Callable[[RawSource], None]]] = [
        ("skill", check.skill), ("rubric", check.rubric), ("exemplar", check.exemplar),
        ("exercise", check.exercise), ("session", check.session), ("page", check.page),
    ]
    for kind, step in steps:
        for raw in by_kind[kind]:
            step(raw)
    skill_folders = {raw.skill for raw in sources if raw.skill}
    for skill_id in sorted(skill_folders - set(check.skills)):
        first = next(raw for raw in sources if raw.skill == skill_id)
        problems.error("missing-skill-index", f"skill folder '{skill_id}' has no index.md",
                       Location(first.path, 1),
                       f"add content/skills/{skill_id}/index.md with a title and summary")
    for skill in check.skills.values():
        if skill.id not in check.rubrics:
            problems.error("missing-rubric", f"skill '{skill.id}' has no rubric",
                           skill.source.location,
                           f"add content/skills/{skill.id}/rubric.md with its criteria")
    skills = sorted(check.skills.values(), key=lambda s: (s.order, s.title.lower()))
    return Handbook(
        settings=settings,
        skills=tuple(skills),
        rubrics=tuple(check.rubrics[s.id] for s in skills if s.id in check.rubrics),
        exemplars=tuple(sorted(check.exemplars.values(), key=lambda e: (
            e.skill, check.level_ids.index(e.level), BANDS.index(e.band), e.title.lower()))),
        exercises=tuple(sorted(check.exercises.values(), key=lambda e: (e.skill, e.title.lower()))),
        sessions=tuple(sorted(check.sessions.values(), key=lambda s: (s.date, s.slug))),
        pages=tuple(sorted(check.pages, key=lambda p: p.source.rel)),
        theme_links=check.theme_links(),
    )
