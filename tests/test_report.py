import os
from pathlib import Path

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.report import format_text, text_report


def test_text_format_path_line_col_severity_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = Diagnostics()
    problems.error("unknown-level", "unknown level 'x'", Location(tmp_path / "a.md", 3, 8),
                   "did you mean 'y'?")
    (d,) = problems.items
    assert format_text(d) == (f"a.md:3:8: error: unknown level 'x'{os.linesep[-1]}"
                              "    hint: did you mean 'y'?")


def test_report_summary_line():
    problems = Diagnostics()
    problems.error("e", "bad", Location(Path("/x/a.md"), 1))
    problems.warning("w", "meh")
    lines = text_report(problems).splitlines()
    assert lines[-1] == "1 error, 1 warning"
    assert lines[0] == "warning: meh"  # unlocated problems sort first
