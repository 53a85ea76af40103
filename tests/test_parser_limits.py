"""Markdown that is too deep or too slow to parse is reported, never dropped or left to run;
so are bodies that are each within their limit but together take longer than a build may.

The time each pathological input takes is measured by bench/pathological.py, not here."""

from __future__ import annotations

import re
import threading
import time

import pytest

import cophandbook.derive
from cophandbook import deadline, parallel
from cophandbook.build import build
from cophandbook.caches import Caches
from cophandbook.cli import main
from cophandbook.deadline import TimeUp, time_limit
from cophandbook.derive import all_items
from cophandbook.diagnostics import Diagnostics
from cophandbook.markdown import MAX_NESTING
from cophandbook.memo import Memo
from cophandbook.pipeline import prepare
from tests.conftest import page, write_files
from tests.pathological_inputs import cases

PATH = "content/guides/deep.md"
HEAD = "---\ntitle: Deep\n---\n"  # the body starts on file line 4


def codes_at(result, code: str) -> list[int]:
    return [d.location.line for d in result.problems if d.code == code]


def test_nesting_up_to_the_limit_is_all_shown(built):
    depth = MAX_NESTING - 2
    body = HEAD + "> " * depth + "deepest words\n\nafter the quote\n"
    result, out = built({PATH: body})
    assert result.written
    text = page(out, "guides/deep/").find("main").get_text()
    assert "deepest words" in text and "after the quote" in text
    assert len(page(out, "guides/deep/").find_all("blockquote")) == depth


def test_nesting_past_the_limit_is_an_error_at_its_line(built):
    body = HEAD + "Intro.\n\n" + "".join("  " * i + "- item\n" for i in range(MAX_NESTING + 5))
    result, _ = built({PATH: body})
    assert not result.written
    # Each list nests two levels (list, item): the 50th item's text (line 55) is the
    # first that would be dropped.
    assert codes_at(result, "markdown-too-deep") == [5 + MAX_NESTING // 2]


def test_a_body_that_takes_too_long_is_reported_and_the_build_goes_on(built, monkeypatch):
    monkeypatch.setattr(cophandbook.derive, "render_seconds", lambda size: 0.01)
    slow = cases(0.2)["nested strong emph"]
    result, _ = built({PATH: HEAD + slow})
    assert not result.written
    too_slow = [d for d in result.problems if d.code == "markdown-too-slow"]
    assert [(d.location.path.name, d.location.line) for d in too_slow] == [("deep.md", 4)]
    # The other pages rendered and were checked as usual.
    assert not [d for d in result.problems if d.code != "markdown-too-slow"]


def test_the_time_limit_stops_work_on_the_main_thread():
    with pytest.raises(TimeUp), time_limit(0.05):
        while True:
            pass


def test_the_time_limit_is_off_on_other_threads():
    """The preview builds on a thread, where no signal can interrupt it."""
    finished = []

    def work() -> None:
        with time_limit(0.01):
            threading.Event().wait(0.05)
        finished.append(True)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert finished == [True]


@pytest.mark.parametrize("name", list(cases(0.01)))
def test_pathological_inputs_build_or_are_reported(built, name):
    body = cases(0.01)[name]
    result, out = built({PATH: HEAD + body})
    if result.written:
        assert page(out, "guides/deep/").find("main") is not None
    else:
        assert result.problems.errors
        assert all(d.location is not None and d.location.path.name == "deep.md"
                   for d in result.problems.errors), result.problems.errors


# -- the build's budget -----------------------------------------------------------------------

SLOW = "---\ntitle: Slow {n}\n---\nSLOW words {n}.\n"  # the body starts on file line 4


def slow_files(count: int) -> dict[str, str | bytes | None]:
    return {f"content/guides/slow-{n}.md": SLOW.format(n=n) for n in range(1, count + 1)}


@pytest.fixture
def slow_bodies(monkeypatch):
    """Bodies that say SLOW take `seconds` each to render, and the build may take `budget`
    for all of them; every body's own limit is far off."""

    def set_up(seconds: float, budget: float) -> None:
        real = cophandbook.derive.render_markdown

        def render(body: str, **kwargs):
            if "SLOW" in body:
                time.sleep(seconds)
            return real(body, **kwargs)

        monkeypatch.setattr(cophandbook.derive, "render_markdown", render)
        monkeypatch.setattr(cophandbook.derive, "BUILD_SECONDS", budget)
        monkeypatch.setattr(cophandbook.derive, "BUILD_SECONDS_PER_MB", 0.0)
        monkeypatch.setattr(cophandbook.derive, "BODY_SECONDS", 60.0)

    return set_up


@pytest.fixture
def two_workers(monkeypatch):
    """Bodies rendered by forked workers, each chunk of one body in a process of its own,
    however small the handbook."""
    monkeypatch.setenv("COPHANDBOOK_WORKERS", "2")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    # Other tests of the session may leave threads running (see test_parallel.py).
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)


def spent(result) -> list:
    return [d for d in result.problems if d.code == "build-too-slow"]


def assert_one_error_naming_slow_files(result) -> None:
    assert not result.written
    errors = result.problems.errors
    assert [d.code for d in errors] == ["build-too-slow"], [str(d) for d in errors]
    error = errors[0]
    assert error.location.path.name.startswith("slow-") and error.location.line == 4
    assert "content/guides/slow-" in error.message and error.hint


def test_slow_bodies_under_their_own_limit_spend_the_build_s_budget(built, slow_bodies):
    slow_bodies(seconds=0.3, budget=1.0)
    result, _ = built(slow_files(8))
    assert_one_error_naming_slow_files(result)
    # Rendering stopped when the budget ran out: the bodies after were not rendered, and
    # are not reported one by one.
    message = spent(result)[0].message
    stopped = re.search(r"(\d+) of \d+ bodies were not rendered", message)
    assert stopped and 1 <= int(stopped.group(1)) < 8, message
    assert "markdown-too-slow" not in {d.code for d in result.problems}
    # Bodies that took next to nothing are not named.
    assert "content/index.md" not in message


def test_the_budget_is_the_build_s_not_each_worker_s(built, slow_bodies, two_workers):
    # Each body renders in a worker of its own well within the budget; together they do not.
    slow_bodies(seconds=0.3, budget=0.8)
    result, _ = built(slow_files(8))
    assert_one_error_naming_slow_files(result)


def test_slow_bodies_within_the_budget_build(built, slow_bodies):
    slow_bodies(seconds=0.05, budget=10.0)
    result, out = built(slow_files(3))
    assert result.written and not result.problems.errors
    assert "SLOW words 3." in page(out, "guides/slow-3/").find("main").get_text()


def test_a_spent_budget_keeps_the_last_output_and_nothing_of_what_it_did_not_render(
        make_site, slow_bodies, monkeypatch):
    site = make_site()
    assert build(site).written
    before = {path: path.read_bytes() for path in (site / "_site").rglob("*") if path.is_file()}
    write_files(site, slow_files(6))
    slow_bodies(seconds=0.3, budget=0.5)
    failed = build(site)
    assert spent(failed) and not failed.written
    assert {path: path.read_bytes()
            for path in (site / "_site").rglob("*") if path.is_file()} == before
    # With time enough, the next build renders what this one did not, rather than report
    # it again from what it kept.
    monkeypatch.setattr(cophandbook.derive, "BUILD_SECONDS", 30.0)
    again = build(site)
    assert again.written and not again.problems.errors
    for n in range(1, 7):
        assert f"SLOW words {n}." in page(site / "_site", f"guides/slow-{n}/").get_text()


def test_a_spent_budget_is_one_error_for_people(make_site, slow_bodies, capsys):
    site = make_site(slow_files(6))
    slow_bodies(seconds=0.3, budget=0.5)
    assert main(["build", str(site)]) == 1
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if "[build-too-slow]" in line]
    assert len(lines) == 1 and re.search(r"slow-\d\.md:4: error: ", lines[0]), text
    assert "hint: " in text


def test_on_another_thread_the_budget_is_checked_between_bodies(built, slow_bodies):
    """The preview builds on a thread, where no timer interrupts a body: the body that
    spends the budget renders to its end, and those after it are not rendered."""
    slow_bodies(seconds=0.3, budget=0.5)
    results = []
    thread = threading.Thread(target=lambda: results.append(built(slow_files(6))))
    thread.start()
    thread.join()
    [(result, _)] = results
    assert_one_error_naming_slow_files(result)


def test_a_budget_within_another_ends_by_the_outer_one():
    assert deadline.left() is None
    with deadline.budget(0.5):
        with deadline.budget(100.0):
            assert 0 < deadline.left() <= 0.5
        assert 0 < deadline.left() <= 0.5
    assert deadline.left() is None


def test_the_preview_s_bodies_share_a_budget_and_what_it_did_not_render_is_rendered_next(
        make_site, slow_bodies, monkeypatch):
    site = make_site(slow_files(6))
    memo = Memo()
    slow_bodies(seconds=0.3, budget=0.5)
    problems = Diagnostics()
    prepare(site, problems, Caches(None, None, None, memo))
    assert [d.code for d in problems.errors] == ["build-too-slow"]
    monkeypatch.setattr(cophandbook.derive, "BUILD_SECONDS", 30.0)
    problems = Diagnostics()
    prepared = prepare(site, problems, Caches(None, None, None, memo))
    assert prepared is not None and not problems.errors
    for item in all_items(prepared.derived.handbook):
        assert not any(note.code == "build-too-slow"
                       for note in prepared.derived.outline(item.source).notes)
