"""`cophandbook new SITE`: a starter that builds and checks clean, with working workflows."""

import datetime as dt
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from cophandbook import __version__
from cophandbook.build import build
from cophandbook.check import check
from cophandbook.cli import main
from tests.conftest import ROOT, git, page

PAGES_URL = "https://org.github.io/circle"
# The actions the workflows use, at the major versions they were written for.
KNOWN_ACTIONS = {"actions/checkout@v4", "actions/setup-python@v5", "actions/configure-pages@v5",
                 "actions/upload-pages-artifact@v3", "actions/deploy-pages@v4",
                 "actions/cache/restore@v4", "actions/cache/save@v4"}


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new") / "riverside-circle"
    assert main(["new", str(folder)]) == 0
    return folder


def workflow(starter: Path, name: str) -> dict:
    data = yaml.safe_load((starter / ".github/workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def run_step(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a workflow's `cophandbook …` line the way the runner would, with this checkout."""
    command = command.replace("${{ steps.pages.outputs.base_url }}", PAGES_URL)
    assert "${{" not in command, command
    argv = shlex.split(command)
    assert argv[0] == "cophandbook"
    return subprocess.run([sys.executable, "-m", "cophandbook", *argv[1:]], cwd=cwd,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def test_starter_has_every_part(starter):
    files = {p.relative_to(starter).as_posix() for p in starter.rglob("*") if p.is_file()}
    assert {".github/workflows/check.yml", ".github/workflows/publish.yml", "CONTRIBUTING.md",
            ".gitignore", "handbook.yml", "requirements.txt", "README.md"} <= files
    kinds = {"skills/giving-feedback/index.md", "skills/giving-feedback/rubric.md",
             "sessions/first-practice-session.md", "guides/how-we-work.md"}
    assert {f"content/{k}" for k in kinds} <= files
    exemplars = [f for f in files if "/exemplars/" in f]
    assert len(exemplars) == 4 and any("/exercises/" in f for f in files)
    left = [f for f in files if re.search(r"__[A-Z]+__", (starter / f).read_text("utf-8"))]
    assert not left, f"placeholders left unfilled in {left}"


def test_starter_builds_and_checks_clean(starter, tmp_path):
    result = build(starter, tmp_path / "out")
    assert result.written and not result.problems.items, [d.message for d in result.problems]
    assert not check(starter).problems.items
    out = tmp_path / "out"
    assert page(out, "").select_one(".brand").text == "Riverside circle"
    exemplar_levels = {yaml.safe_load(p.read_text().split("---")[1])["level"]
                       for p in (starter / "content/skills/giving-feedback/exemplars").iterdir()}
    assert exemplar_levels == {"novice", "developing", "proficient", "expert"}
    session = page(out, "sessions/first-practice-session/").select_one("time")
    assert session["datetime"] == dt.date.today().isoformat()


def test_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert main(["new", str(folder)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["new", str(empty), 'Circle: "the best" #1']) == 0
    settings = yaml.safe_load((empty / "handbook.yml").read_text())
    assert settings["title"] == 'Circle: "the best" #1'


def test_a_kind_mistyped_as_a_site_is_caught(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "exemplars"]) == 2
    assert "did you mean 'cophandbook new exemplar'" in capsys.readouterr().err
    assert not (tmp_path / "exemplars").exists()
    assert main(["new", "./exemplars"]) == 0


def test_gitignore_covers_what_cophandbook_writes(starter, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(starter, site)
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "start")
    assert build(site).written
    staging = site / "._site.1234abcd.staging"  # as a build cut short leaves it
    staging.mkdir()
    (staging / "index.html").write_text("half")
    status = subprocess.run(["git", "-C", str(site), "status", "--porcelain", "--ignored"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert sorted(status) == ["!! ._site.1234abcd.staging/", "!! ._site.cophandbook.json",
                              "!! _site/"]


def test_requirements_pin_this_package(starter):
    (requirement,) = [line for line in (starter / "requirements.txt").read_text().splitlines()
                      if line and not line.startswith("#")]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirement == f"{project['name']}=={__version__}"
    assert project["scripts"]["cophandbook"] == "cophandbook.cli:run"


def test_check_workflow_annotates_pull_requests(starter):
    data = workflow(starter, "check.yml")
    assert "pull_request" in data["on"]
    assert data["permissions"] == {"contents": "read"}
    used = {s["uses"] for s in steps(data) if "uses" in s}
    assert used <= KNOWN_ACTIONS
    runs = [s["run"] for s in steps(data) if "run" in s]
    assert runs == ["pip install -r requirements.txt", "cophandbook check --format github"]
    proc = run_step(runs[1], starter)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout


def test_publish_workflow_builds_for_the_pages_url_and_deploys(starter, tmp_path):
    data = workflow(starter, "publish.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build_job, deploy_job = data["jobs"]["build"], data["jobs"]["deploy"]
    checkout = next(s for s in build_job["steps"]
                    if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    used = {s["uses"] for s in steps(data) if "uses" in s}
    assert used <= KNOWN_ACTIONS
    assert {"actions/upload-pages-artifact@v3", "actions/deploy-pages@v4"} <= used
    pages = next(s for s in build_job["steps"] if s.get("id") == "pages")
    assert pages["uses"].startswith("actions/configure-pages@")
    upload = next(s for s in build_job["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert deploy_job["needs"] == "build" and deploy_job["environment"]["name"] == "github-pages"
    (command,) = [s["run"] for s in build_job["steps"]
                  if s.get("run", "").startswith("cophandbook")]
    assert "steps.pages.outputs.base_url" in command
    site = tmp_path / "site"
    shutil.copytree(starter, site)
    proc = run_step(command, site)
    assert proc.returncode == 0, proc.stderr
    out = site / upload["with"]["path"]
    hrefs = [a["href"] for a in page(out, "").select("a[href]")]
    internal = [h for h in hrefs if not re.match(r"https?://|#", h)]
    assert internal and all(h.startswith("/circle/") for h in internal), internal


def test_contributing_guide_uses_real_commands_and_codes(starter, tmp_path):
    text = (starter / "CONTRIBUTING.md").read_text()
    commands = re.findall(r"^\.venv/bin/(cophandbook .+)$", text, re.M)
    assert commands and {c.split()[1] for c in commands} == {"new", "serve", "check"}
    documented = set(re.findall(r"^### `([a-z-]+)`", (ROOT / "docs/problems.md").read_text(), re.M))
    codes = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.M))
    assert codes and codes <= documented
    site = tmp_path / "site"
    shutil.copytree(starter, site)
    for command in commands:
        if command.split()[1] == "serve":  # runs until stopped: its own tests cover it
            continue
        proc = run_step(command, site)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
    assert (site / "content/skills/giving-feedback/exemplars/a-toast-for-a-retirement.md").is_file()
