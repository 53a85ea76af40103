"""Shared helpers: tiny sites written inline into temp folders, and parsed HTML."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from cophandbook.build import BuildResult, build
from cophandbook.diagnostics import Diagnostics
from cophandbook.pipeline import prepare

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "example-site"

SETTINGS = """\
title: Test Circle
levels:
  - {id: novice, name: Novice, summary: Starting out}
  - {id: competent, name: Competent, summary: Reliable}
  - {id: expert, name: Expert, summary: Fluent}
feedback_themes:
  - {id: rushing, name: Rushing the ending}
  - {id: filler-words, name: Filler words}
"""

SKILL = """\
---
title: Toasts
summary: Short speeches at gatherings.
---
Toasts are short.
"""

RUBRIC = """\
---
title: Toast rubric
criteria:
  - id: structure
    name: Structure
    descriptors:
      novice: Ideas in the order they occur.
      competent: A point and an example.
      expert: An arc that closes with a *call-back*.
  - id: delivery
    name: Delivery
    descriptors:
      novice: Quiet and fast.
      competent: Audible and steady.
      expert: Pauses used on purpose.
---
"""

EXEMPLAR = """\
---
title: Wedding toast
level: competent
criteria: {structure: competent, delivery: expert}
contributor: Sam R.
date: 2026-03-02
---
## Transcript

We met at a bus stop in the rain.

::: annotation structure
Opens with a concrete scene.
:::

Raise your glasses.
"""

NOVICE_EXEMPLAR = """\
---
title: First toast
level: novice
anonymous: true
contributor: Hidden Name
---
Um, so, hi.

::: annotation delivery
Very quiet.
:::
"""

EXERCISE = """\
---
title: One-minute ladder
levels: [novice, competent]
criteria: [structure]
duration: 15 min
group_size: 3-8
---
## How it runs

Speak for a minute. See [the rubric](../rubric.md).
"""

SESSION_A = """\
---
title: Toast night
date: 2026-01-14
skills: [toasts]
facilitator: Ana
exercises: [one-minute-ladder]
exemplars_reviewed: [wedding-toast]
feedback:
  - {theme: rushing, note: Three speakers sped up at the end.}
  - {theme: filler-words, note: Lots of "so".}
---
We practised toasts.
"""

SESSION_B = """\
---
title: Spring restart
date: 2026-04-01
skills: [toasts]
feedback:
  - {theme: rushing, note: Endings again.}
---
Back after a break.
"""

GUIDE = """\
---
title: Giving feedback
summary: How to say something useful.
---
## Be specific

Name the criterion. Read [the safety note](safety.md#pausing).
"""

SAFETY = """\
---
title: Safety
order: 2
---
## Pausing

Anyone may pause.
"""

MINIMAL = {
    "handbook.yml": SETTINGS,
    "content/index.md": "---\ntitle: Welcome\n---\nHello, circle. Start with "
                        "[giving feedback](guides/giving-feedback.md).\n",
    "content/skills/toasts/index.md": SKILL,
    "content/skills/toasts/rubric.md": RUBRIC,
    "content/skills/toasts/exemplars/wedding-toast.md": EXEMPLAR,
    "content/skills/toasts/exemplars/first-toast.md": NOVICE_EXEMPLAR,
    "content/skills/toasts/exercises/one-minute-ladder.md": EXERCISE,
    "content/sessions/2026-01-14-toast-night.md": SESSION_A,
    "content/sessions/2026-04-01-spring-restart.md": SESSION_B,
    "content/guides/giving-feedback.md": GUIDE,
    "content/guides/safety.md": SAFETY,
}

SiteWriter = Callable[..., Path]


def write_files(root: Path, files: dict[str, str | bytes | None]) -> Path:
    for rel, text in files.items():
        path = root / rel
        if text is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text) if text.startswith("\n") else text,
                            encoding="utf-8")
    return root


@pytest.fixture(autouse=True, scope="session")
def _body_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Builds keep rendered bodies in a cache outside the handbook (~/.cache by default);
    the tests', subprocesses included, go to a folder of their own."""
    os.environ["COPHANDBOOK_CACHE"] = str(tmp_path_factory.mktemp("body-cache"))


@pytest.fixture
def make_site(tmp_path: Path) -> SiteWriter:
    """Write the minimal valid site, with `changes` applied (None deletes a file)."""

    def make(changes: dict[str, str | bytes | None] | None = None, name: str = "site") -> Path:
        root = tmp_path / name
        write_files(root, {**MINIMAL, **(changes or {})})
        return root

    return make


@pytest.fixture
def built(make_site: SiteWriter) -> Callable[..., tuple[BuildResult, Path]]:
    """Build a minimal site with changes; returns the result and the output folder."""

    def run(changes: dict[str, str | bytes | None] | None = None) -> tuple[BuildResult, Path]:
        site = make_site(changes)
        result = build(site)
        return result, site / "_site"

    return run


def git(repo: Path, *args: str, date: str = "2026-01-05T12:00:00") -> None:
    """Run git in `repo` with a fixed identity and date, whatever the machine's config."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
                   check=True, capture_output=True, env=env)


def diagnose(site: Path) -> Diagnostics:
    """Every problem the build stages find, without rendering or writing."""
    problems = Diagnostics()
    prepare(site, problems)
    return problems


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def page(out: Path, site_path: str) -> BeautifulSoup:
    """Parse the page at a site path ("skills/x/") of a built site."""
    file = out / (site_path + "index.html" if site_path == "" or site_path.endswith("/")
                  else site_path)
    assert file.is_file(), f"missing page /{site_path}"
    return soup(file)


def messages(result: BuildResult) -> list[str]:
    return [d.message for d in result.problems]


def codes(result: BuildResult) -> list[str]:
    return [d.code for d in result.problems]


@pytest.fixture(scope="session")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site, built once per test session."""
    site = tmp_path_factory.mktemp("example") / "example-site"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("_site", ".*"))
    result = build(site)
    assert not result.problems.items, [str(d) for d in result.problems]
    assert result.output is not None
    return result.output
