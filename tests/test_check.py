"""`cophandbook check`: everything build reports and more, in three formats, writing nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cophandbook.build import build
from cophandbook.check import check
from cophandbook.cli import main
from tests.conftest import EXERCISE, NOVICE_EXEMPLAR, write_files

BROKEN = {
    # an unknown level (error in both), a broken link (warning in build, error in check)
    "content/skills/toasts/exemplars/first-toast.md": NOVICE_EXEMPLAR.replace(
        "level: novice", "level: novise"),
    "content/guides/giving-feedback.md": "---\ntitle: G\n---\nSee [x](nope.md) and "
                                         "[safety](safety.md).\n",
}


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cophandbook", "check", str(site), *args],
                          capture_output=True, text=True, cwd=site, stdin=subprocess.DEVNULL)


def test_clean_site_exits_0_and_says_so(make_site):
    proc = run(make_site())
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip() == "No problems in 10 files."


def test_everything_build_reports_plus_stricter_links(make_site):
    site = make_site(BROKEN)
    built = {(d.code, d.location.line, d.is_error) for d in build(site).problems}
    checked = {(d.code, d.location.line, d.is_error) for d in check(site).problems}
    assert ("unknown-level", 3, True) in built and ("broken-link", 4, False) in built
    assert ("broken-link", 4, True) in checked  # promoted to an error
    assert {(c, line) for c, line, _ in built} <= {(c, line) for c, line, _ in checked}


def test_editorial_warnings_come_from_check_only(make_site):
    site = make_site({
        "content/skills/toasts/exemplars/first-toast.md":
            NOVICE_EXEMPLAR.split("::: annotation")[0],
        "content/skills/toasts/exercises/unused.md": EXERCISE.replace("See [the rubric]", "[r]"),
    })
    found = {(d.code, d.location.path.name) for d in check(site).problems}
    assert found == {("unannotated-exemplar", "first-toast.md"), ("unused-exercise", "unused.md")}
    assert all(not d.is_error for d in check(site).problems)
    assert not build(site).problems.items


def test_a_guide_no_other_page_links_to_is_an_orphan(make_site):
    site = make_site({"content/index.md": "---\ntitle: W\n---\nHello.\n"})
    assert [(d.code, d.location.path.name) for d in check(site).problems] == [
        ("orphan-page", "giving-feedback.md")]
    # A link from the guide to itself does not count; one by URL from another page does.
    site = make_site({"content/index.md": "---\ntitle: W\n---\n[g](/guides/giving-feedback)\n"})
    assert not check(site).problems.items


def test_text_format_sorted_with_codes_and_exit_1(make_site):
    proc = run(make_site(BROKEN))
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("    hint:")]
    assert lines == [
        "content/guides/giving-feedback.md:4:9: error: no page 'guides/nope.md' for the link "
        "'nope.md' [broken-link]",
        "content/skills/toasts/exemplars/first-toast.md:3:1: error: unknown level 'novise' "
        "[unknown-level]",
        "2 errors, 0 warnings",
    ]


def test_json_format(make_site):
    proc = run(make_site(BROKEN), "--format", "json")
    assert proc.returncode == 1
    items = json.loads(proc.stdout)
    assert [(i["path"], i["line"], i["column"], i["severity"], i["code"]) for i in items] == [
        ("content/guides/giving-feedback.md", 4, 9, "error", "broken-link"),
        ("content/skills/toasts/exemplars/first-toast.md", 3, 1, "error", "unknown-level"),
    ]
    assert "did you mean 'novice'?" in items[1]["hint"]


def test_github_format_paths_from_the_repository_root(tmp_path):
    repo = tmp_path / "repo"
    site = repo / "docs" / "handbook"
    from tests.conftest import MINIMAL
    write_files(site, {**MINIMAL, **BROKEN})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    proc = run(site, "--format", "github")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "::error file=docs/handbook/content/guides/giving-feedback.md,line=4,col=9::no page "
        "'guides/nope.md' for the link 'nope.md' [broken-link]%0Ahint: links to other pages are "
        "relative paths to their .md files, such as ../rubric.md",
        "::error file=docs/handbook/content/skills/toasts/exemplars/first-toast.md,line=3,col=1::"
        "unknown level 'novise' [unknown-level]%0Ahint: did you mean 'novice'? valid: competent, "
        "expert, novice (levels are set in handbook.yml)",
    ]
    assert "2 errors" in proc.stderr


def test_warnings_pass_unless_strict(make_site):
    site = make_site({"content/skills/toasts/exercises/unused.md": EXERCISE})
    assert run(site).returncode == 0
    assert run(site, "--strict").returncode == 1


def test_check_writes_nothing(make_site):
    site = make_site(BROKEN)
    before = snapshot(site)
    folders = sorted(p for p in site.parent.rglob("*") if p.is_dir())
    assert run(site).returncode == 1
    assert snapshot(site) == before
    assert sorted(p for p in site.parent.rglob("*") if p.is_dir()) == folders


def test_template_syntax_errors_are_found_without_rendering(make_site):
    site = make_site({"templates/page.html": "{% extends 'theme/page.html' %}\n"
                                             "{% block content %}{% if %}{% endblock %}\n"})
    (d,) = check(site).problems.errors
    assert d.code == "template-error" and d.location.path.name == "page.html"
    assert d.location.line == 2


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "check", "--format", "xml"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_missing_settings_is_a_problem_not_a_usage_error(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 1 and "no handbook.yml" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_example_site_checks_clean_even_strictly(tmp_path):
    from tests.conftest import EXAMPLE_SITE
    proc = subprocess.run([sys.executable, "-m", "cophandbook", "check", str(EXAMPLE_SITE),
                           "--strict"], capture_output=True, text=True, cwd=os.getcwd())
    assert proc.returncode == 0, proc.stdout


def test_check_after_a_build_reads_the_cache_and_finds_the_same_problems(make_site, tmp_path,
                                                                        monkeypatch):
    import cophandbook.derive
    import cophandbook.sources
    from cophandbook.bodycache import default_folder
    monkeypatch.setenv("COPHANDBOOK_CACHE", str(tmp_path / "cache"))
    site = make_site({"content/skills/toasts/exercises/unused.md":
                      EXERCISE + "\nSee [gone](gone.md) and [the toast](../rubric.md#nope).\n"})
    without_cache = [d.to_dict() for d in check(site).problems]
    assert {"broken-link", "broken-anchor", "unused-exercise"} <= {d["code"] for d in
                                                                    without_cache}
    build(site)
    cache = default_folder(site)
    kept = snapshot(cache)
    work: list[str] = []
    render, parse = cophandbook.derive.render_markdown, cophandbook.sources.parse_source
    monkeypatch.setattr(cophandbook.derive, "render_markdown",
                        lambda body, **kw: work.append("render") or render(body, **kw))
    monkeypatch.setattr(cophandbook.sources, "parse_source",
                        lambda *a, **kw: work.append("parse") or parse(*a, **kw))
    assert [d.to_dict() for d in check(site).problems] == without_cache
    assert work == []  # every file as parsed, every body as rendered, by the build
    assert snapshot(cache) == kept  # read, never written
    # A file changed since the build is read and rendered again.
    write_files(site, {"content/skills/toasts/exercises/unused.md": EXERCISE})
    after = check(site)
    assert work == ["parse", "render"]
    assert "broken-link" not in {d.code for d in after.problems}
