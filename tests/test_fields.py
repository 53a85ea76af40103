from pathlib import Path

from cophandbook.diagnostics import Diagnostics
from cophandbook.fields import Fields, choices_hint, did_you_mean
from cophandbook.yamltext import parse_yaml


def fields(text: str) -> tuple[Fields, Diagnostics]:
    problems = Diagnostics()
    return Fields(parse_yaml(text), Path("f.md"), problems), problems


def test_yes_as_text_explains_the_boolean():
    f, problems = fields("title: yes\n")
    assert f.text("title") is None
    (d,) = problems.items
    assert "quotes" in d.hint


def test_numbers_and_dates_are_accepted_as_text():
    f, problems = fields("duration: 15\nwhen: 2026-01-01\n")
    assert f.text("duration") == "15" and f.text("when") == "2026-01-01"
    assert not problems.items


def test_slug_list_and_date():
    f, problems = fields("id: Not A Slug\nlevels: novice\ndate: '2026-13-01'\n")
    assert f.slug("id") is None
    assert [t for t, _ in f.text_list("levels")] == ["novice"]
    assert f.date("date") is None
    assert [d.code for d in problems] == ["invalid-id", "invalid-date"]


def test_suggestions():
    assert did_you_mean("competant", ["novice", "competent"]) == "did you mean 'competent'?"
    assert choices_hint("zzz", ["b", "a"]) == "valid: a, b"
