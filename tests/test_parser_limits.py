"""Markdown that is too deep or too slow to parse is reported, never dropped or left to run.

The time each pathological input takes is measured by bench/pathological.py, not here."""

from __future__ import annotations

import threading

import pytest

import cophandbook.derive
from cophandbook.deadline import TimeUp, time_limit
from cophandbook.markdown import MAX_NESTING
from tests.conftest import page
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
