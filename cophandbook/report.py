"""Diagnostics → text for people, JSON for tools, and GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cophandbook.diagnostics import Diagnostic, Diagnostics

FORMATS = ("text", "json", "github")


def display_path(path: Path) -> str:
    """Relative to the working directory when that is shorter, so terminals can link it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def format_text(diagnostic: Diagnostic) -> str:
    """`path:line:col: severity: message [code]`, then the hint on its own line."""
    loc = diagnostic.location
    where = ""
    if loc is not None:
        where = display_path(loc.path)
        if loc.line:
            where += f":{loc.line}"
            if loc.col:
                where += f":{loc.col}"
        where += ": "
    line = f"{where}{diagnostic.severity.value}: {diagnostic.message} [{diagnostic.code}]"
    if diagnostic.hint:
        line += f"\n    hint: {diagnostic.hint}"
    return line


def summary(problems: Diagnostics) -> str:
    errors, warnings = len(problems.errors), len(problems.warnings)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def text_report(problems: Diagnostics) -> str:
    lines = [format_text(d) for d in problems.sorted()]
    if problems.items:
        lines.append(summary(problems))
    return "\n".join(lines)


def records(problems: Diagnostics) -> list[dict[str, object]]:
    """One plain dict per problem, sorted; unknown places are None. Paths are written as in
    the text report. Used for `--format json` and for the preview's overlay."""
    items: list[dict[str, object]] = []
    for d in problems.sorted():
        loc = d.location
        items.append({
            "path": display_path(loc.path) if loc else None,
            "line": loc.line or None if loc else None,
            "column": loc.col or None if loc else None,
            "severity": d.severity.value,
            "code": d.code,
            "message": d.message,
            "hint": d.hint,
        })
    return items


def json_report(problems: Diagnostics) -> str:
    return json.dumps(records(problems), indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _repo_relative(path: Path, repo_root: Path | None) -> str:
    resolved = path.resolve()
    if repo_root is not None and resolved.is_relative_to(repo_root):
        return resolved.relative_to(repo_root).as_posix()
    return display_path(path)


def github_report(problems: Diagnostics, repo_root: Path | None) -> str:
    """`::error file=PATH,line=N,col=M::message` lines. PATH is relative to the repository
    root, which is what GitHub needs to place the annotation on a pull request's diff."""
    lines = []
    for d in problems.sorted():
        loc = d.location
        props = []
        if loc is not None:
            props.append(f"file={_escape_property(_repo_relative(loc.path, repo_root))}")
            if loc.line:
                props.append(f"line={loc.line}")
                if loc.col:
                    props.append(f"col={loc.col}")
        message = f"{d.message} [{d.code}]" + (f"\nhint: {d.hint}" if d.hint else "")
        head = f"::{d.severity.value}" + (" " + ",".join(props) if props else "")
        lines.append(f"{head}::{_escape_data(message)}")
    return "\n".join(lines)
