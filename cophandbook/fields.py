"""Typed reading of `Located` YAML mappings, reporting each bad value at its line.

Shared by the settings and the content schema so that both speak the same language about
types ("expected text", "expected a list") and about unknown keys.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cophandbook.diagnostics import Diagnostics, Location
from cophandbook.yamltext import Located

# Warnings in `build` that `check` reports as errors (see check.py).
STRICT_IN_CHECK = frozenset({"unknown-key"})

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping of keys to values",
}


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"'{value}'"


def a_or_an(word: str) -> str:
    """'a skill', 'an exemplar', 'an exercise': the article for a kind's name."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def choices_hint(word: str, choices: Iterable[str]) -> str:
    options = sorted(choices)
    guess = did_you_mean(word, options)
    listed = ", ".join(options) if options else "none defined"
    return f"{guess} valid: {listed}" if guess else f"valid: {listed}"


class Fields:
    """Reads the keys of one mapping, remembering which were used."""

    def __init__(self, node: Located | None, path: Path, problems: Diagnostics) -> None:
        self.path = path
        self.problems = problems
        self.line = node.line if node else 1
        self.entries: dict[str, Located] = dict(node.value) if node else {}

    @classmethod
    def shorthand(cls, key: str, item: Located, path: Path, problems: Diagnostics) -> Fields:
        """Read a plain list item such as `- novice` as if it were `- {key: novice}`."""
        return cls(Located({key: item}, item.line, item.col), path, problems)

    def loc(self, key: str | None = None) -> Location:
        entry = self.entries.get(key) if key else None
        if entry is not None:
            return Location(self.path, entry.line, entry.col)
        return Location(self.path, self.line)

    def has(self, key: str) -> bool:
        return key in self.entries and self.entries[key].value is not None

    def _bad_type(self, key: str, expected: str, got: Any, hint: str | None = None) -> None:
        if isinstance(got, bool) and expected == "text":
            hint = hint or "YAML reads yes/no/on/off as booleans; put the text in quotes"
        self.problems.error(
            "wrong-type", f"'{key}' should be {expected}, not {describe(got)}", self.loc(key), hint
        )

    def _missing(self, key: str, example: str) -> None:
        self.problems.error(
            "missing-field",
            f"'{key}' is required",
            Location(self.path, self.line),
            f"add a line like '{key}: {example}'",
        )

    def text(self, key: str, *, required: bool = False, example: str = "...") -> str | None:
        if not self.has(key):
            if required:
                self._missing(key, example)
            return None
        value = self.entries[key].value
        if isinstance(value, (bool, list | dict)):
            self._bad_type(key, "text", value)
            return None
        if isinstance(value, dt.date | int | float):
            return str(value)
        text = str(value).strip()
        if required and not text:
            self._missing(key, example)
            return None
        return text

    def slug(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key, required=required, example="a-slug")
        if value is not None and not SLUG_RE.match(value):
            self.problems.error(
                "invalid-id",
                f"'{key}' must be lowercase letters, digits and hyphens, not '{value}'",
                self.loc(key),
            )
            return None
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        if not self.has(key):
            return default
        value = self.entries[key].value
        if not isinstance(value, bool):
            self._bad_type(key, "true or false", value)
            return default
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        if not self.has(key):
            return default
        value = self.entries[key].value
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad_type(key, "a whole number", value)
            return default
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        if not self.has(key):
            if required:
                self._missing(key, "2026-01-14")
            return None
        value = self.entries[key].value
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        message = f"'{key}' should be a date written YYYY-MM-DD, not {describe(value)}"
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                if _ISO_DATE_RE.match(value.strip()):
                    message = f"'{key}' is not a real date: {value.strip()} ({exc})"
        self.problems.error("invalid-date", message, self.loc(key))
        return None

    def node_list(self, key: str) -> list[Located]:
        """A list value; a single scalar is accepted as a list of one."""
        if not self.has(key):
            return []
        entry = self.entries[key]
        if isinstance(entry.value, list):
            return [item for item in entry.value if item.value is not None]
        if isinstance(entry.value, dict):
            self._bad_type(key, "a list", entry.value)
            return []
        return [entry]

    def text_list(self, key: str) -> list[tuple[str, Location]]:
        items: list[tuple[str, Location]] = []
        for item in self.node_list(key):
            loc = Location(self.path, item.line, item.col)
            if isinstance(item.value, (list | dict, bool)):
                self.problems.error(
                    "wrong-type",
                    f"each item of '{key}' should be text, not {describe(item.value)}",
                    loc,
                )
                continue
            items.append((str(item.value).strip(), loc))
        return items

    def mapping(self, key: str) -> Fields | None:
        if not self.has(key):
            return None
        entry = self.entries[key]
        if not isinstance(entry.value, dict):
            self._bad_type(key, "a mapping of keys to values", entry.value)
            return None
        return Fields(entry, self.path, self.problems)

    def reject_unknown(self, allowed: Iterable[str], what: str) -> None:
        """Report keys not in `allowed`. A warning, so that a typo does not take the site
        down; `check` makes it an error (STRICT_IN_CHECK), so a review still catches it."""
        allowed = list(allowed)
        for key, entry in self.entries.items():
            if key in allowed:
                continue
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(sorted(allowed))}"
            self.problems.warning(
                "unknown-key",
                f"unknown key '{key}' in {what}; it is ignored",
                Location(self.path, entry.line, entry.col),
                hint,
            )
