"""Diagnostics → text for people (`path:line:col: severity: message`)."""

from __future__ import annotations

import os
from pathlib import Path

from cophandbook.diagnostics import Diagnostic, Diagnostics


def display_path(path: Path) -> str:
    """Relative to the working directory when that is shorter, so terminals can link it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def format_text(diagnostic: Diagnostic) -> str:
    loc = diagnostic.location
    where = ""
    if loc is not None:
        where = display_path(loc.path)
        if loc.line:
            where += f":{loc.line}"
            if loc.col:
                where += f":{loc.col}"
        where += ": "
    line = f"{where}{diagnostic.severity.value}: {diagnostic.message}"
    if diagnostic.hint:
        line += f"\n    hint: {diagnostic.hint}"
    return line


def text_report(problems: Diagnostics) -> str:
    lines = [format_text(d) for d in problems.sorted()]
    errors, warnings = len(problems.errors), len(problems.warnings)
    if errors or warnings:
        lines.append(f"{errors} error{'s' * (errors != 1)}, "
                     f"{warnings} warning{'s' * (warnings != 1)}")
    return "\n".join(lines)
