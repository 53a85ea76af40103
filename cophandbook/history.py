"""When each content file last changed, from git: one `git log` for the whole site.

A shallow clone only knows its newest commits, so every file would seem to have changed in
the last one. Rather than show a wrong date, a shallow clone gives no dates and one warning.
Outside a git repository, or without git, there are simply no dates.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from cophandbook.diagnostics import Diagnostics

# Marks the date line of each commit in the log, so that no file name is read as a date.
_COMMIT = "\x01"
_GIT_TIMEOUT = 60


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding `.git`, found without running git."""
    path = path.resolve()
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True, timeout=_GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):  # no git, or a repository too slow to ask
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def parse_log(output: str) -> dict[str, dt.date]:
    """`git log -z --format=<_COMMIT>%cs --name-only` output → path → newest commit date."""
    dates: dict[str, dt.date] = {}
    current: dt.date | None = None
    for field in output.split("\0"):
        field = field.lstrip("\n")
        if field.startswith(_COMMIT):
            current = dt.date.fromisoformat(field[1:].strip())
        elif field and current is not None:
            dates.setdefault(field, current)  # newest first: keep the first date seen
    return dates


def last_changed(folder: Path, problems: Diagnostics) -> dict[str, dt.date]:
    """Path (POSIX, relative to `folder`) → date of the last commit that touched it."""
    if repository_root(folder) is None:
        return {}
    shallow = _git(folder, "rev-parse", "--is-shallow-repository")
    if shallow is None:
        return {}
    if shallow.strip() == "true":
        problems.warning(
            "shallow-clone",
            f"{folder} is in a shallow git clone, so pages show no 'last updated' date",
            None,
            "fetch the whole history (in GitHub Actions: actions/checkout with fetch-depth: 0)",
        )
        return {}
    log = _git(folder, "-c", "core.quotePath=false", "log", "-z", "--no-renames",
               f"--format={_COMMIT}%cs", "--name-only", "--relative", "--", ".")
    return parse_log(log) if log else {}


def tracked(paths: list[Path]) -> bool:
    """Whether git tracks any file at or under `paths` (siblings in one folder). Not in a
    repository, or without git, nothing is tracked."""
    here = [path.resolve() for path in paths if path.exists()]
    if not here or repository_root(here[0].parent) is None:
        return False
    names = [path.name for path in here]
    listed = _git(here[0].parent, "--literal-pathspecs", "ls-files", "-z", "--", *names)
    return bool(listed)
