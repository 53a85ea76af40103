import datetime as dt
from pathlib import Path

import pytest

from cophandbook.build import build
from cophandbook.diagnostics import Diagnostics
from cophandbook.yamltext import YamlProblem, decode, parse_yaml, split_front_matter

P = Path("x.md")


def split(text: str):
    problems = Diagnostics()
    return split_front_matter(text, P, problems), problems


def test_front_matter_lines_are_file_lines():
    result, problems = split("---\ntitle: A\nlevel: novice\n---\nBody\n")
    assert not problems.items
    assert result.meta.value["title"].line == 2
    assert result.meta.value["level"].line == 3
    assert result.body == "Body\n"
    assert result.body_line == 5


def test_no_front_matter_is_all_body():
    result, problems = split("# Just text\n")
    assert result.meta is None and result.body == "# Just text\n" and not problems.items


def test_unclosed_front_matter_is_reported_at_line_1():
    result, problems = split("---\ntitle: A\n")
    assert result is None
    (d,) = problems.items
    assert d.code == "front-matter-unclosed" and d.location.line == 1


def test_invalid_yaml_is_reported_at_the_file_line():
    result, problems = split("---\ntitle: A\nlevel: [novice\nother: x\n---\n")
    assert result is None
    (d,) = problems.items
    assert d.code == "invalid-yaml" and d.location.line >= 3


def test_front_matter_must_be_a_mapping():
    _, problems = split("---\n- a\n- b\n---\n")
    assert [d.code for d in problems] == ["front-matter-not-mapping"]


def test_duplicate_keys_name_both_lines():
    with pytest.raises(YamlProblem) as exc:
        parse_yaml("title: A\nlevel: x\ntitle: B\n")
    assert exc.value.line == 3 and "line 1" in exc.value.message


def test_python_tags_are_refused_not_executed():
    with pytest.raises(YamlProblem, match="not allowed"):
        parse_yaml("x: !!python/object/apply:os.system ['echo hi']\n")


def test_aliases_are_refused():
    with pytest.raises(YamlProblem, match="anchors and aliases"):
        parse_yaml("a: &x [1, 2]\nb: *x\n")


def test_an_impossible_date_stays_text_for_its_field_to_report():
    located = parse_yaml("title: a\ndate: 2026-02-30\nday: 2026-02-28\n")
    assert located.value["date"].value == "2026-02-30" and located.value["date"].line == 2
    assert located.value["day"].value == dt.date(2026, 2, 28)


def test_decode_strips_bom_and_normalises_crlf():
    problems = Diagnostics()
    assert decode("\ufeffa\r\nb\r".encode(), P, problems) == "a\nb\n"


def test_invalid_utf8_reports_its_line():
    problems = Diagnostics()
    assert decode(b"ok\nok\n\xff\n", P, problems) is None
    (d,) = problems.items
    assert d.code == "invalid-encoding" and d.location.line == 3


def test_a_billion_laughs_is_refused_before_it_expands():
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(8))
    with pytest.raises(YamlProblem, match="anchors and aliases") as refused:
        parse_yaml(laughs, line_offset=1)
    assert refused.value.line == 2  # the anchor the first alias repeats, at its file line


@pytest.mark.parametrize("text", ["x: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
                                  "x:\n" + "".join("  " * i + "- \n" for i in range(1, 60))])
def test_deep_nesting_is_an_error_not_a_recursion_error(text):
    with pytest.raises(YamlProblem, match=r"nest|depth") as refused:
        parse_yaml(text, line_offset=1)
    assert refused.value.line >= 2


def test_a_python_tag_in_front_matter_runs_nothing(make_site, tmp_path):
    marker = tmp_path / "ran"
    site = make_site({"content/guides/evil.md":
                      f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n"})
    result = build(site)
    assert not result.written and not marker.exists()
    [error] = result.problems.errors
    assert (error.code, error.location.line) == ("invalid-yaml", 2)


def located(problems: Diagnostics, code: str) -> list[tuple[int, int, str]]:
    return [(d.location.line, d.location.col, d.message) for d in problems if d.code == code]


def test_bidi_controls_are_removed_and_each_reported_at_its_line_and_column():
    problems = Diagnostics()
    text = "title: Safe \u202eexe.lmth\u202c\n\n\u05e9\u200f \u2067x\u2069 \x07y\u2066\n"
    assert decode(text.encode(), P, problems) == (
        "title: Safe exe.lmth\n\n\u05e9\u200f x y\n")  # the marks U+200E/U+200F stay
    assert [(line, col) for line, col, _ in located(problems, "bidi-control")] == [
        (1, 13), (1, 22), (3, 4), (3, 6), (3, 10)]
    messages = [message for _, _, message in located(problems, "bidi-control")]
    assert "U+202E" in messages[0] and "RIGHT-TO-LEFT OVERRIDE" in messages[0]
    assert "U+2069" in messages[3]
    assert [(line, col) for line, col, _ in located(problems, "control-character")] == [(3, 8)]
    assert all(d.severity.value == "warning" for d in problems)


def test_many_bidi_controls_in_one_file_are_reported_a_few_times_then_counted():
    problems = Diagnostics()
    assert decode(("a\u202eb\n" * 40).encode(), P, problems) == "ab\n" * 40
    found = located(problems, "bidi-control")
    assert [line for line, _, _ in found] == [1, 2, 3, 4, 5, 0]
    assert "35 more" in found[-1][2]


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                  "\u2067", "\u2068", "\u2069"])
def test_a_bidi_control_written_as_a_yaml_escape_is_an_error_at_its_line(char):
    with pytest.raises(YamlProblem, match=f"U\\+{ord(char):04X}") as caught:
        parse_yaml(f'title: ok\nsummary: "a \\u{ord(char):04x} b"\n')
    assert caught.value.line == 2


def test_marks_and_joiners_are_text_not_controls():
    problems = Diagnostics()
    text = "\u200e\u200f\u200d\u061c"
    assert decode(text.encode(), P, problems) == text and not problems.items
    assert parse_yaml('t: "\\u200f"\n').plain() == {"t": "\u200f"}
