"""`cophandbook new exemplar|exercise|session|skill|guide`: skeletons in the right place."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cophandbook.build import build
from cophandbook.check import check
from cophandbook.cli import main
from cophandbook.scaffold import slugify, yaml_scalar
from tests.conftest import RUBRIC, SKILL, page, write_files

TODAY = dt.date.today().isoformat()


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def new(site: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["new", *args, "--site", str(site)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def created(out: str) -> list[Path]:
    return [Path(line.removeprefix("Created ")) for line in out.splitlines()
            if line.startswith("Created ")]


def test_exemplar_has_every_criterion_ready_to_assess_and_an_annotation_each(make_site, capsys):
    site = make_site()
    code, out, _ = new(site, capsys, "exemplar", "A toast: for Jo!", "--level", "competent")
    assert code == 0
    (path,) = created(out)
    assert path.resolve() == (site / "content/skills/toasts/exemplars/a-toast-for-jo.md").resolve()
    meta = front_matter(path)
    assert meta["title"] == "A toast: for Jo!" and meta["level"] == "competent"
    assert meta["criteria"] == {"structure": "competent", "delivery": "competent"}
    assert meta["date"] == dt.date.today()
    problems = check(site).problems
    assert not problems.errors, [d.message for d in problems]
    build(site)
    exemplar = page(site / "_site", "skills/toasts/exemplars/a-toast-for-jo/")
    notes = exemplar.select("aside.annotation .annotation-criterion")
    assert [n.text for n in notes] == ["Structure", "Delivery"]


def test_exercise_session_guide_land_in_place_and_build(make_site, capsys):
    site = make_site()
    assert new(site, capsys, "exercise", "Mirror drill", "--level", "novice")[0] == 0
    code, out, _ = new(site, capsys, "session", "Second night", "--date", "2026-05-06")
    assert code == 0
    (session,) = created(out)
    assert session.name == "2026-05-06-second-night.md"
    meta = front_matter(session)
    assert meta["date"] == dt.date(2026, 5, 6) and meta["skills"] == ["toasts"]
    assert new(site, capsys, "guide", "Running a night")[0] == 0
    exercise = site / "content/skills/toasts/exercises/mirror-drill.md"
    assert front_matter(exercise)["levels"] == ["novice"]
    assert (site / "content/guides/running-a-night.md").is_file()
    assert not check(site).problems.errors
    result = build(site)
    assert result.written, [d.message for d in result.problems]
    for site_path in ("skills/toasts/exercises/mirror-drill/", "sessions/2026-05-06-second-night/",
                      "guides/running-a-night/"):
        assert page(site / "_site", site_path).find("h1")


def test_skill_comes_with_a_rubric_describing_every_level(make_site, capsys):
    site = make_site()
    code, out, _ = new(site, capsys, "skill", "Eulogies")
    assert code == 0
    assert {p.name for p in created(out)} == {"index.md", "rubric.md"}
    rubric = front_matter(site / "content/skills/eulogies/rubric.md")
    assert set(rubric["criteria"][0]["descriptors"]) == {"novice", "competent", "expert"}
    assert not check(site).problems.errors
    assert build(site).written
    assert page(site / "_site", "skills/eulogies/").find("h1").text == "Eulogies"


def test_never_overwrites(make_site, capsys):
    site = make_site()
    target = site / "content/skills/toasts/exemplars/wedding-toast.md"
    before = target.read_bytes()
    code, _, err = new(site, capsys, "exemplar", "Wedding toast", "--level", "novice")
    assert code == 1 and "already exists" in err
    assert target.read_bytes() == before
    new(site, capsys, "skill", "Eulogies")
    assert new(site, capsys, "skill", "Eulogies")[0] == 1


@pytest.mark.parametrize(("args", "expected"), [
    (("--level", "novise"), "unknown level 'novise': did you mean 'novice'? valid: competent, "
                            "expert, novice"),
    ((), "needs --level (at which level is the work?), one of: novice, competent, expert"),
    (("--level", "novice", "--skill", "toast"), "unknown skill 'toast': did you mean 'toasts'?"),
])
def test_unknown_or_missing_skill_and_level_list_the_valid_ones(make_site, capsys, args, expected):
    site = make_site()
    code, _, err = new(site, capsys, "exemplar", "X", *args)
    assert code == 2 and expected in err
    assert not (site / "content/skills/toasts/exemplars/x.md").exists()


def test_several_skills_need_skill(make_site, capsys):
    site = make_site({"content/skills/eulogies/index.md": SKILL,
                      "content/skills/eulogies/rubric.md": RUBRIC})
    code, _, err = new(site, capsys, "exercise", "X", "--level", "novice")
    assert code == 2 and "add --skill, one of: eulogies, toasts" in err
    assert new(site, capsys, "exercise", "X", "--level", "novice", "--skill", "eulogies")[0] == 0


def test_options_that_do_not_apply_are_usage_errors(make_site, capsys):
    site = make_site()
    assert new(site, capsys, "guide", "G", "--level", "novice")[0] == 2
    assert new(site, capsys, "skill", "S", "--skill", "toasts")[0] == 2
    assert new(site, capsys, "guide", "G", "--date", "2026-01-01")[0] == 2
    assert new(site, capsys, "guide", "!!!")[0] == 2  # no slug can be made of it
    assert new(site, capsys, "guide", "!!!", "--slug", "bangs")[0] == 0


def test_missing_title_without_a_terminal_is_a_usage_error(make_site):
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "new", "guide"],
                          capture_output=True, text=True, cwd=make_site(),
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "give the guide's title" in proc.stderr


def test_outside_a_handbook_says_so(tmp_path, capsys):
    code, _, err = new(tmp_path, capsys, "guide", "G")
    assert code == 1 and "no handbook.yml" in err


@pytest.mark.parametrize(("title", "slug"), [
    ("What's next? Café talks", "whats-next-cafe-talks"),
    ("  Two  -- spaces ", "two-spaces"),
    ("Ünïcödé", "unicode"),
    ("日本語", ""),
    ("a" * 70 + " b", "a" * 60),
])
def test_slugify(title, slug):
    assert slugify(title) == slug


@pytest.mark.parametrize("text", [
    "Plain title", "Yes", "no", "2026-01-01", "12", "A: colon", "#hash", "- dash", "* star",
    "'quoted'", '"double"', "tab\there", "ends with #", "{braces}", "[list]", "&anchor",
    "!tag", "@at", "`tick`", "café ☕", "null", "~", "", " leading space",
])
def test_yaml_scalar_round_trips(text):
    assert yaml.safe_load(f"title: {yaml_scalar(text)}") == {"title": text}


def test_written_titles_survive_the_build(make_site, capsys):
    site = make_site()
    new(site, capsys, "guide", 'Yes: "quoted" #1 & <b>')
    write_files(site, {"content/index.md": "---\ntitle: W\n---\n[g](guides/yes-quoted-1-b.md)\n"
                                           "[h](guides/giving-feedback.md)\n"})
    result = build(site)
    assert result.written
    heading = page(site / "_site", "guides/yes-quoted-1-b/").find("h1")
    assert heading.text == 'Yes: "quoted" #1 & <b>'
