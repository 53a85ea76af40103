from cophandbook.derive import derive
from cophandbook.diagnostics import Diagnostics
from cophandbook.schema import validate
from cophandbook.settings import load_settings
from cophandbook.sources import discover
from tests.conftest import EXEMPLAR, diagnose


def derived_of(site):
    problems = Diagnostics()
    settings = load_settings(site, problems)
    handbook = validate(discover(site, problems).sources, settings, problems)
    return derive(handbook, problems), problems


def test_assessment_falls_back_to_the_exemplar_level_for_annotated_criteria(make_site):
    text = EXEMPLAR.replace("criteria: {structure: competent, delivery: expert}\n", "")
    derived, problems = derived_of(make_site(
        {"content/skills/toasts/exemplars/wedding-toast.md": text}))
    assert not problems.items
    toast = next(e for e in derived.handbook.exemplars if e.slug == "wedding-toast")
    assert derived.assessment(toast) == {"structure": "competent"}
    assert derived.cells[("toasts", "structure", "competent")] == [toast]


def test_annotation_with_unknown_or_missing_criterion(make_site):
    text = EXEMPLAR.replace("::: annotation structure", "::: annotation structur")
    text += "\n::: annotation\nNo criterion.\n:::\n"
    problems = diagnose(make_site({"content/skills/toasts/exemplars/wedding-toast.md": text}))
    found = sorted((d.code, d.location.line) for d in problems)
    assert found == [("missing-criterion", 18), ("unknown-criterion", 12)]
    assert "did you mean 'structure'" in next(
        d.hint for d in problems if d.code == "unknown-criterion")


def test_annotations_outside_exemplars_are_errors(make_site):
    text = "---\ntitle: S\n---\n## Pausing\n\nP\n\n::: annotation structure\nx\n:::\n"
    problems = diagnose(make_site({"content/guides/safety.md": text}))
    found = [(d.code, d.location.line) for d in problems]
    assert found == [("misplaced-annotation", 8)]


def test_a_second_page_title_in_the_body_is_a_warning(make_site):
    text = "---\ntitle: S\n---\n\n# Safety\n\n## Pausing\n"
    problems = diagnose(make_site({"content/guides/safety.md": text}))
    assert [(d.code, d.location.line, d.is_error) for d in problems] == [
        ("body-h1", 5, False)]
