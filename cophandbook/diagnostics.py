"""The one problem type passed between stages: a message tied to a file, line and column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and col are 1-based, 0 when unknown."""

    path: Path
    line: int = 0
    col: int = 0

    def at(self, line: int, col: int = 0) -> Location:
        return Location(self.path, line, col)


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    location: Location | None = None
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.message)
        return (str(loc.path), loc.line, loc.col, self.message)

    def to_dict(self) -> dict[str, object]:
        """Plain data, to keep with a build's output and report again when it is reused."""
        loc = self.location
        return {"severity": self.severity.value, "code": self.code, "message": self.message,
                "hint": self.hint, "path": str(loc.path) if loc else None,
                "line": loc.line if loc else 0, "col": loc.col if loc else 0}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Diagnostic:
        path = data.get("path")
        location = (Location(Path(str(path)), int(str(data.get("line") or 0)),
                             int(str(data.get("col") or 0))) if path else None)
        hint = data.get("hint")
        return cls(Severity(str(data["severity"])), str(data["code"]), str(data["message"]),
                   location, str(hint) if hint is not None else None)


@dataclass
class Diagnostics:
    """Collects every problem of a run, so a build reports all of them at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self, code: str, message: str, location: Location | None = None, hint: str | None = None
    ) -> None:
        self.items.append(Diagnostic(Severity.ERROR, code, message, location, hint))

    def warning(
        self, code: str, message: str, location: Location | None = None, hint: str | None = None
    ) -> None:
        self.items.append(Diagnostic(Severity.WARNING, code, message, location, hint))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    def promote(self, codes: frozenset[str]) -> None:
        """Turn warnings with these codes into errors: `check` is stricter than `build`."""
        self.items = [
            Diagnostic(Severity.ERROR, d.code, d.message, d.location, d.hint)
            if d.code in codes else d
            for d in self.items
        ]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if not d.is_error]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)
