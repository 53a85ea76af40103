"""Each folder of invalid_sites/ is laid over the minimal site and must report exactly
the diagnostics in its expected.txt, and write nothing when one of them is an error; with
an expected-check.txt, `check` must report exactly the diagnostics in it. Together they
cover every problem code of docs/problems.md that a handbook's files can cause."""

import re
from pathlib import Path

import pytest

from cophandbook.build import build
from cophandbook.check import check
from cophandbook.diagnostics import Diagnostics
from tests.conftest import MINIMAL, ROOT, write_files

CASES = Path(__file__).parent / "invalid_sites"
EXPECTED = "expected.txt"  # what `build` reports
EXPECTED_CHECK = "expected-check.txt"  # what `check` reports, when the case has one
REMOVED = "removed.txt"  # files of the minimal site the case leaves out
LINKS = "links.txt"  # symbolic links the case lays, as `path -> target`
NOT_LAID = {EXPECTED, EXPECTED_CHECK, REMOVED, LINKS}

# Codes no handbook's files can cause: the environment does, or they take time to show.
EXCLUDED = {
    "unreadable-file": "file permissions, which git does not keep (and root reads anyway)",
    "unreadable-folder": "folder permissions, which git does not keep (and root reads anyway)",
    "special-file": "a device, pipe or socket, which git cannot hold",
    "changed-during-build": "a file saved while the build runs: a race, not a file",
    "markdown-too-slow": "a body that stalls the parser for 2.5 s or more: needs time",
    "build-too-slow": "bodies that take the build over its 30 s budget: needs time",
    "output-folder": "the output folder given, or writing to it, not the handbook",
    "output-not-ours": "files put in the output folder by hand, not the handbook",
    "shallow-clone": "how the repository was cloned",
    "output-in-git": "what the repository commits from the output folder",
    "search-failed": "Pagefind failing to run or index",
}


def cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def overlay(case: Path) -> dict[str, bytes | None]:
    """The case's files, and None for each file of the minimal site it leaves out (a line
    `content/` of its removed.txt leaves out everything under content/)."""
    removed = (case / REMOVED).read_text().split() if (case / REMOVED).exists() else []
    left_out = {rel: None for rel in MINIMAL for gone in removed
                if rel == gone or (gone.endswith("/") and rel.startswith(gone))}
    return {**left_out, **{
        p.relative_to(case).as_posix(): p.read_bytes()
        for p in sorted(case.rglob("*"))
        if p.is_file() and p.relative_to(case).as_posix() not in NOT_LAID
    }}


def lay_links(case: Path, site: Path) -> None:
    """The links of a case's links.txt (kept as text: git checkouts, copies and packages of
    the tests need not keep links, and a link to nowhere breaks some of them)."""
    lines = (case / LINKS).read_text().splitlines() if (case / LINKS).exists() else []
    for path, target in (line.split(" -> ") for line in lines):
        link = site / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)


def lay(case: Path, site: Path) -> Path:
    write_files(site, {**MINIMAL, **overlay(case)})
    lay_links(case, site)
    return site


def found(problems: Diagnostics, site: Path) -> list[str]:
    return sorted(f"{d.severity.value} {d.location.path.relative_to(site).as_posix()}:"
                  f"{d.location.line} {d.code}" for d in problems)


def expected(case: Path, name: str) -> list[str]:
    return sorted((case / name).read_text().split("\n")[:-1])


@pytest.mark.parametrize("case", cases())
def test_invalid_site_reports_expected_diagnostics(case, tmp_path):
    site = lay(CASES / case, tmp_path / "site")
    result = build(site)
    wanted = expected(CASES / case, EXPECTED)
    assert found(result.problems, site) == wanted
    if any(line.startswith("error ") for line in wanted):
        assert not result.written and not (site / "_site").exists()
    else:
        assert result.written


@pytest.mark.parametrize("case", [c for c in cases() if (CASES / c / EXPECTED_CHECK).exists()])
def test_invalid_site_check_reports_expected_diagnostics(case, tmp_path):
    site = lay(CASES / case, tmp_path / "site")
    assert found(check(site).problems, site) == expected(CASES / case, EXPECTED_CHECK)


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    return set(re.findall(r"^### `([a-z0-9-]+)`$", text, re.M))


def covered_codes() -> set[str]:
    return {line.split()[-1] for case in cases() for name in (EXPECTED, EXPECTED_CHECK)
            if (CASES / case / name).exists() for line in expected(CASES / case, name)}


def test_every_documented_problem_a_handbook_can_cause_has_an_invalid_site():
    documented = documented_codes()
    assert len(documented) > 50  # the headings were found
    covered = covered_codes()
    assert sorted(documented - covered - EXCLUDED.keys()) == []
    assert sorted(covered - documented) == []  # a fixture's code is a documented one
    assert sorted(EXCLUDED.keys() - documented) == []  # the exclusions are documented codes
    assert sorted(EXCLUDED.keys() & covered) == []  # a code with a fixture is not excluded
