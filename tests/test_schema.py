"""Validation of each kind, through real builds of small sites."""

from cophandbook.diagnostics import Diagnostics
from cophandbook.schema import parse_minutes, validate
from cophandbook.settings import load_settings
from cophandbook.sources import discover
from tests.conftest import EXEMPLAR, SESSION_A, diagnose


def handbook_of(site):
    problems = Diagnostics()
    settings = load_settings(site, problems)
    return validate(discover(site, problems).sources, settings, problems), problems


def test_minimal_site_is_valid_and_frozen(make_site):
    handbook, problems = handbook_of(make_site())
    assert not problems.items
    assert [s.id for s in handbook.skills] == ["toasts"]
    exemplar = next(e for e in handbook.exemplars if e.slug == "wedding-toast")
    assert exemplar.assessment == (("structure", "competent"), ("delivery", "expert"))
    anonymous = next(e for e in handbook.exemplars if e.slug == "first-toast")
    assert anonymous.anonymous and anonymous.contributor == ""
    session = handbook.sessions[0]
    assert [(r.skill, r.slug) for r in session.exercises] == [("toasts", "one-minute-ladder")]
    assert [f.theme for f in session.feedback] == ["rushing", "filler-words"]
    try:
        exemplar.title = "changed"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("the model must be frozen")


def errors_for(make_site, changes):
    problems = diagnose(make_site(changes))
    return [(d.code, d.location.path.name, d.location.line) for d in problems.errors]


def test_unknown_level_with_suggestion(make_site):
    problems = diagnose(make_site({"content/skills/toasts/exemplars/wedding-toast.md":
                              EXEMPLAR.replace("level: competent", "level: competant")}))
    (d,) = problems.errors
    assert d.code == "unknown-level" and d.location.line == 3
    assert "did you mean 'competent'" in d.hint


def test_assessment_names_unknown_criterion_and_level(make_site):
    text = EXEMPLAR.replace("criteria: {structure: competent, delivery: expert}",
                            "criteria:\n  structur: competent\n  delivery: master")
    assert sorted(errors_for(make_site, {"content/skills/toasts/exemplars/wedding-toast.md":
                                         text})) == [
        ("unknown-criterion", "wedding-toast.md", 5),
        ("unknown-level", "wedding-toast.md", 6),
    ]


def test_missing_required_fields(make_site):
    found = errors_for(make_site, {
        "content/skills/toasts/exemplars/x.md": "---\ntitle: X\n---\n",
        "content/sessions/s.md": "---\ntitle: S\n---\n",
        "content/skills/toasts/exercises/e.md": "---\ntitle: E\n---\n",
    })
    assert ("missing-field", "x.md", 2) in found
    assert ("missing-field", "s.md", 2) in found
    assert ("missing-field", "e.md", 2) in found


def test_wrong_types_point_at_the_value(make_site):
    found = errors_for(make_site, {"content/skills/toasts/exemplars/x.md":
                                   "---\ntitle: yes\nlevel: novice\nanonymous: maybe\n---\n"})
    assert found == [("wrong-type", "x.md", 2), ("wrong-type", "x.md", 4)]


def test_an_impossible_date_is_a_field_error_and_the_rest_is_still_read(make_site):
    found = errors_for(make_site, {"content/sessions/s.md":
                                   "---\ntitle: S\ndate: 2026-02-30\nskills: [toast]\n---\n"})
    assert found == [("invalid-date", "s.md", 3), ("unknown-skill", "s.md", 4)]
    # Shaped like a date, it is still fine as text.
    site = make_site({"content/guides/x.md": "---\ntitle: 2026-02-30\n---\n"}, name="other")
    assert not diagnose(site).errors


def test_unknown_front_matter_key(make_site):
    problems = diagnose(make_site({"content/guides/safety.md": "---\ntitle: S\nsumary: x\n---\n"}))
    assert not problems.errors  # a warning in build, an error in check (test_hostile_files)
    (d,) = [d for d in problems.warnings if d.code == "unknown-key"]
    assert d.code == "unknown-key" and "summary" in d.hint and d.location.line == 3


def test_session_references_resolved_or_reported(make_site):
    text = SESSION_A.replace("exercises: [one-minute-ladder]", "exercises: [one-minute-ladde]")
    text = text.replace("exemplars_reviewed: [wedding-toast]",
                        "exemplars_reviewed: [toasts/wedding-toast, nope]")
    text = text.replace("theme: rushing,", "theme: rushin,")
    found = errors_for(make_site, {"content/sessions/2026-01-14-toast-night.md": text})
    assert sorted(c for c, _, _ in found) == ["unknown-reference", "unknown-reference",
                                             "unknown-theme"]


def test_ambiguous_reference_across_skills(make_site):
    changes = {
        "content/skills/talks/index.md": "---\ntitle: Talks\n---\n",
        "content/skills/talks/rubric.md": "---\ntitle: R\ncriteria:\n  - id: s\n    descriptors:"
        " {novice: a, competent: b, expert: c}\n---\n",
        "content/skills/talks/exercises/one-minute-ladder.md":
            "---\ntitle: L\nlevels: [novice]\n---\n",
        "content/sessions/2026-01-14-toast-night.md": SESSION_A.replace("skills: [toasts]\n", ""),
    }
    found = errors_for(make_site, changes)
    assert [c for c, _, _ in found] == ["ambiguous-reference"]


def test_a_slug_in_two_skills_resolves_to_the_sessions_skill(make_site):
    site = make_site({
        "content/skills/talks/index.md": "---\ntitle: Talks\n---\n",
        "content/skills/talks/rubric.md": "---\ntitle: R\ncriteria:\n  - id: s\n    descriptors:"
        " {novice: a, competent: b, expert: c}\n---\n",
        "content/skills/talks/exercises/one-minute-ladder.md":
            "---\ntitle: L\nlevels: [novice]\n---\n",
        "content/sessions/2026-02-01-talk-night.md": SESSION_A.replace(
            "skills: [toasts]", "skills: [talks]").replace("Toast night", "Talk night"),
    })
    handbook, problems = handbook_of(site)
    assert not problems.errors
    refs = {s.source.rel: [(r.skill, r.slug) for r in s.exercises] for s in handbook.sessions}
    assert refs["sessions/2026-01-14-toast-night.md"] == [("toasts", "one-minute-ladder")]
    assert refs["sessions/2026-02-01-talk-night.md"] == [("talks", "one-minute-ladder")]


def test_skill_without_rubric_or_index(make_site):
    found = errors_for(make_site, {
        "content/skills/toasts/rubric.md": None,
        "content/skills/orphan/exercises/x.md": "---\ntitle: X\nlevels: [novice]\n---\n",
    })
    codes = {c for c, _, _ in found}
    assert {"missing-rubric", "missing-skill-index"} <= codes


def test_rubric_missing_a_descriptor(make_site):
    from tests.conftest import RUBRIC
    text = RUBRIC.replace("      expert: Pauses used on purpose.\n", "")
    found = errors_for(make_site, {"content/skills/toasts/rubric.md": text})
    assert found == [("missing-descriptor", "rubric.md", 10)]


def test_unsafe_media_url(make_site):
    text = EXEMPLAR.replace("date: 2026-03-02", "media: javascript:alert(1)")
    found = errors_for(make_site, {"content/skills/toasts/exemplars/wedding-toast.md": text})
    assert found == [("unsafe-url", "wedding-toast.md", 6)]


def test_parse_minutes():
    assert parse_minutes("15 min") == 15
    assert parse_minutes("1 h 30") == 90
    assert parse_minutes("1 hour") == 60
    assert parse_minutes("45") == 45
    assert parse_minutes("a while") is None
