"""Each folder of invalid_sites/ is laid over the minimal site and must report exactly
the diagnostics in its expected.txt, and write nothing."""

from pathlib import Path

import pytest

from cophandbook.build import build
from tests.conftest import MINIMAL, write_files

CASES = Path(__file__).parent / "invalid_sites"


def overlay(case: Path) -> dict[str, bytes]:
    return {
        p.relative_to(case).as_posix(): p.read_bytes()
        for p in sorted(case.rglob("*")) if p.is_file() and p.name != "expected.txt"
    }


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_invalid_site_reports_expected_diagnostics(case, tmp_path):
    site = write_files(tmp_path / "site", {**MINIMAL, **overlay(CASES / case)})
    result = build(site)
    found = sorted(
        f"{d.severity.value} {d.location.path.relative_to(site).as_posix()}:"
        f"{d.location.line} {d.code}"
        for d in result.problems
    )
    expected = sorted((CASES / case / "expected.txt").read_text().split("\n")[:-1])
    assert found == expected
    assert not result.written and not (site / "_site").exists()
