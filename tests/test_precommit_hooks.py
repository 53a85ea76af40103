"""`.pre-commit-hooks.yaml`: a handbook repository can run `cophandbook check` before commits."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from cophandbook.cli import main
from tests.conftest import ROOT, git

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def test_manifest_names_an_installed_command():
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    command, *args = hook["entry"].split()
    assert command in scripts and args == ["check"]
    files = re.compile(hook["files"])
    assert files.search("content/skills/a/exemplars/b.md") and files.search("handbook.yml")
    assert files.search("static/img/a.png") and files.search("templates/page.html")
    assert not files.search("README.md")


def test_pre_commit_runs_the_hook_from_this_repository(tmp_path):
    """pre-commit installs this project into its own environment and runs the hook."""
    handbook = tmp_path / "handbook"
    assert main(["new", str(handbook)]) == 0
    git(handbook, "init", "-q")
    git(handbook, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cophandbook-check",
               "--all-files"]
    ok = subprocess.run(command, cwd=handbook, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"cophandbook check\.+Passed", ok.stdout)
    exemplar = next(Path(handbook, "content/skills/giving-feedback/exemplars").iterdir())
    exemplar.write_text(exemplar.read_text().replace("level: ", "level: x", 1))
    git(handbook, "add", ".")
    failed = subprocess.run(command, cwd=handbook, capture_output=True, text=True, env=env)
    assert failed.returncode == 1
    assert f"{exemplar.relative_to(handbook)}:3:1: error: unknown level" in failed.stdout
