from pathlib import Path

from cophandbook.diagnostics import Diagnostics, Location, Severity


def test_collects_and_sorts_by_file_and_line():
    problems = Diagnostics()
    problems.warning("w", "later", Location(Path("b.md"), 1))
    problems.error("e", "second", Location(Path("a.md"), 9, 2))
    problems.error("e", "first", Location(Path("a.md"), 3))
    assert [d.message for d in problems.sorted()] == ["first", "second", "later"]
    assert problems.has_errors and len(problems.errors) == 2 and len(problems.warnings) == 1
    assert problems.warnings[0].severity is Severity.WARNING


def test_warnings_alone_are_not_errors():
    problems = Diagnostics()
    problems.warning("w", "just a warning")
    assert not problems.has_errors
