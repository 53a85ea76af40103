"""`cophandbook coverage`: the gaps of each skill in the terminal, or as JSON."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_SITE, NOVICE_EXEMPLAR


def coverage(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cophandbook", "coverage", str(site), *args],
                          capture_output=True, text=True)


def table(stdout: str) -> dict[str, list[str]]:
    """The indented table rows: label → cells."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("  ") and not line.startswith("  Ask"):
            label, *cells = line.strip().rsplit(None, 3)
            rows[label] = cells
    return rows


def test_counts_per_level_and_criterion_with_gaps_marked(make_site):
    # The minimal site: structure is shown at competent, delivery at novice and expert.
    proc = coverage(make_site())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "Toasts (toasts): 3 of 6 criterion-level cells have an exemplar")
    assert table(proc.stdout) == {
        "Exemplars": ["Novice", "Competent", "Expert"],
        "Structure": ["--", "1", "--"],
        "Delivery": ["1", "--", "1"],
        "Exercises": ["1", "1", "--"],
    }
    assert "  Ask for exemplars of: Structure (Novice, Expert); Delivery (Competent)." in (
        proc.stdout.splitlines())
    assert "  Ask for exercises at: Expert." in proc.stdout.splitlines()
    assert proc.stdout.rstrip().endswith(
        "In all: 3 cells without an exemplar, 1 level without an exercise.")


def test_json(make_site):
    proc = coverage(make_site(), "--format", "json")
    assert proc.returncode == 0
    (skill,) = json.loads(proc.stdout)["skills"]
    assert skill["id"] == "toasts" and skill["levels"] == ["novice", "competent", "expert"]
    assert skill["criteria"][0] == {"id": "structure", "name": "Structure",
                                    "exemplars": {"novice": 0, "competent": 1, "expert": 0}}
    assert skill["exercises"] == {"novice": 1, "competent": 1, "expert": 0}
    assert skill["gaps"] == [{"criterion": "structure", "level": "novice"},
                             {"criterion": "structure", "level": "expert"},
                             {"criterion": "delivery", "level": "competent"}]
    assert skill["levels_without_exercise"] == ["expert"]


def test_the_json_agrees_with_the_example_site_sources():
    data = json.loads(coverage(EXAMPLE_SITE, "--format", "json").stdout)
    exemplar_files = list((EXAMPLE_SITE / "content/skills").glob("*/exemplars/*.md"))
    assert {s["id"] for s in data["skills"]} == {p.parent.parent.name for p in exemplar_files}
    for skill in data["skills"]:
        for criterion in skill["criteria"]:
            gaps = {g["level"] for g in skill["gaps"] if g["criterion"] == criterion["id"]}
            assert gaps == {lvl for lvl, n in criterion["exemplars"].items() if n == 0}


def test_errors_are_reported_and_the_table_still_shown(make_site):
    site = make_site({"content/skills/toasts/exemplars/first-toast.md":
                      NOVICE_EXEMPLAR.replace("level: novice", "level: novise")})
    proc = coverage(site)
    assert proc.returncode == 1
    assert "first-toast.md:3:1: error: unknown level 'novise'" in proc.stderr
    assert "not counted above" in proc.stderr
    assert table(proc.stdout)["Delivery"] == ["--", "--", "1"]
