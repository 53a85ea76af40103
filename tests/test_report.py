import json
from pathlib import Path

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.report import format_text, github_report, json_report, text_report


def sample(root: Path) -> Diagnostics:
    problems = Diagnostics()
    problems.warning("orphan-page", "no other page links to this guide",
                     Location(root / "content/guides/b.md", 1))
    problems.error("unknown-level", "unknown level 'x'", Location(root / "content/a.md", 3, 8),
                   "did you mean 'y'?")
    problems.error("broken-link", "no page 'z.md', 50% sure\nreally",
                   Location(root / "content/a.md", 12, 4))
    problems.warning("search-unavailable", "no search yet")
    return problems


def test_text_format_path_line_col_severity_code_and_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = Diagnostics()
    problems.error("unknown-level", "unknown level 'x'", Location(tmp_path / "a.md", 3, 8),
                   "did you mean 'y'?")
    (d,) = problems.items
    assert format_text(d).splitlines() == [
        "a.md:3:8: error: unknown level 'x' [unknown-level]",
        "    hint: did you mean 'y'?",
    ]


def test_text_report_sorted_by_file_then_line_with_summary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [line for line in text_report(sample(tmp_path)).splitlines()
             if not line.startswith("    hint:")]
    assert lines == [
        "warning: no search yet [search-unavailable]",  # unlocated problems come first
        "content/a.md:3:8: error: unknown level 'x' [unknown-level]",
        "content/a.md:12:4: error: no page 'z.md', 50% sure",
        "really [broken-link]",
        "content/guides/b.md:1: warning: no other page links to this guide [orphan-page]",
        "2 errors, 2 warnings",
    ]


def test_json_report_objects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    items = json.loads(json_report(sample(tmp_path)))
    assert [set(item) for item in items] == [
        {"path", "line", "column", "severity", "code", "message", "hint"}] * 4
    assert items[0] == {"path": None, "line": None, "column": None, "severity": "warning",
                        "code": "search-unavailable", "message": "no search yet", "hint": None}
    assert items[1] == {"path": "content/a.md", "line": 3, "column": 8, "severity": "error",
                        "code": "unknown-level", "message": "unknown level 'x'",
                        "hint": "did you mean 'y'?"}
    assert items[3]["column"] is None and items[3]["line"] == 1


def test_github_annotations_are_relative_to_the_repository_root(tmp_path, monkeypatch):
    handbook = tmp_path / "repo" / "handbook"
    monkeypatch.chdir(handbook.parent.parent)  # a different folder: paths must not follow it
    lines = github_report(sample(handbook), tmp_path / "repo").splitlines()
    assert lines == [
        "::warning::no search yet [search-unavailable]",
        "::error file=handbook/content/a.md,line=3,col=8::unknown level 'x' [unknown-level]"
        "%0Ahint: did you mean 'y'?",
        "::error file=handbook/content/a.md,line=12,col=4::no page 'z.md', 50%25 sure%0Areally "
        "[broken-link]",
        "::warning file=handbook/content/guides/b.md,line=1::no other page links to this guide "
        "[orphan-page]",
    ]


def test_github_escapes_commas_and_colons_in_file_names(tmp_path):
    problems = Diagnostics()
    problems.error("x", "m", Location(tmp_path / "a,b:c.md", 2, 1))
    assert github_report(problems, tmp_path) == "::error file=a%2Cb%3Ac.md,line=2,col=1::m [x]"


def test_promote_turns_chosen_warnings_into_errors():
    problems = Diagnostics()
    problems.warning("broken-link", "a")
    problems.warning("orphan-page", "b")
    problems.promote(frozenset({"broken-link"}))
    assert [(d.code, d.is_error) for d in problems] == [("broken-link", True),
                                                        ("orphan-page", False)]
