"""A handbook made by `new` deploys as its publish workflow says: what the site publishes is
the site only, and a deploy after a small change starts from the last deploy's output and
cache (the workflow's own cache paths, restored into a fresh clone at the runner's path), so
it renders only what changed, and publishes what a clean build would."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cophandbook.cli import main
from tests.conftest import git

PAGES_URL = "https://org.github.io/circle"


def publish_workflow(handbook: Path) -> dict:
    return yaml.safe_load((handbook / ".github/workflows/publish.yml").read_text())


def workflow_step(handbook: Path, name: str) -> dict:
    steps = publish_workflow(handbook)["jobs"]["build"]["steps"]
    return next(step for step in steps if step.get("name") == name)


def copy(source: Path, target: Path) -> None:
    """A file or a folder, as actions/cache keeps it (nothing when there is none)."""
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


class Runner:
    """A CI runner: a workspace at a fixed path, a home folder, and the actions/cache store
    the workflow's cache steps save to and restore from."""

    def __init__(self, root: Path, origin: Path) -> None:
        self.workspace = root / "work" / "circle"
        self.home, self.store = root / "home", root / "cache-store"
        self.origin = origin
        self.home.mkdir(parents=True)

    def checkout(self) -> None:
        """A fresh clone, as actions/checkout makes on a new runner: no file of the last."""
        shutil.rmtree(self.workspace, ignore_errors=True)
        shutil.rmtree(self.home / ".cache", ignore_errors=True)
        subprocess.run(["git", "clone", "--quiet", str(self.origin), str(self.workspace)],
                       check=True, capture_output=True)

    def paths(self, step: str) -> list[Path]:
        written = workflow_step(self.workspace, step)["with"]["path"].split()
        return [Path(p.replace("~", str(self.home), 1)) if p.startswith("~")
                else self.workspace / p for p in written]

    def kept(self, path: Path) -> Path:
        return self.store / hashlib.sha256(str(path).encode()).hexdigest()

    def save(self) -> None:
        shutil.rmtree(self.store, ignore_errors=True)
        for path in self.paths("Keep this build for the next deploy"):
            copy(path, self.kept(path))

    def restore(self) -> None:
        for path in self.paths("Restore the last build"):
            copy(self.kept(path), path)

    def build(self) -> str:
        command = workflow_step(self.workspace, "Build")["run"].replace(
            "${{ steps.pages.outputs.base_url }}", PAGES_URL)
        env = {key: value for key, value in os.environ.items()
               if key not in ("COPHANDBOOK_CACHE", "XDG_CACHE_HOME")}
        done = subprocess.run([sys.executable, "-m", "cophandbook", *command.split()[1:]],
                              cwd=self.workspace, env={**env, "HOME": str(self.home)},
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def published(self) -> dict[str, bytes]:
        """The files the workflow uploads to GitHub Pages, by path."""
        steps = publish_workflow(self.workspace)["jobs"]["build"]["steps"]
        upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
        site = self.workspace / upload["with"]["path"]
        return {p.relative_to(site).as_posix(): p.read_bytes()
                for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """The handbook's repository, as `new` made it (search off: Pagefind names some of its
    files differently from run to run, so the published index is not compared)."""
    repository = tmp_path / "origin"
    assert main(["new", str(repository)]) == 0
    settings = repository / "handbook.yml"
    settings.write_text(settings.read_text().replace("search: true", "search: false"))
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "start")
    return repository


def counts(summary: str) -> tuple[int, int]:
    """(files written, pages not rendered again) from a build's summary line."""
    written = int(re.search(r"(\d+) written", summary)[1])
    kept = re.search(r"(\d+) pages not rendered again", summary)
    return written, int(kept[1]) if kept else 0


def test_what_is_published_is_the_site_only_and_the_same_for_the_same_commit(origin,
                                                                              tmp_path):
    first, second = Runner(tmp_path / "a", origin), Runner(tmp_path / "b", origin)
    for runner in (first, second):
        runner.checkout()
        runner.build()
    published = first.published()
    assert published == second.published()  # byte for byte, two runners, two times
    assert not [rel for rel in published if any(part.startswith(".")
                                                for part in rel.split("/"))]
    assert "index.html" in published


def test_a_deploy_after_a_small_change_renders_only_what_changed(origin, tmp_path):
    runner = Runner(tmp_path / "runner", origin)
    runner.checkout()
    runner.restore()  # the first deploy: nothing to restore
    cold = runner.build()
    written, kept = counts(cold)
    assert kept == 0 and written > 30
    runner.save()

    guide = origin / "content" / "guides" / "how-we-work.md"
    guide.write_text(guide.read_text() + "\nWe also keep a list of who brings snacks.\n")
    git(origin, "commit", "-q", "-am", "A line in one guide")

    runner.checkout()  # a new runner: a fresh clone, every file's time new
    runner.restore()
    warm = runner.build()
    written, kept = counts(warm)
    assert kept > 30 and written <= 3, warm  # the guide's page; the feed, sitemap unchanged
    assert "bodies from the cache" in warm

    clean = Runner(tmp_path / "clean", origin)
    clean.checkout()
    clean.build()
    assert runner.published() == clean.published()


def test_a_new_cophandbook_or_new_templates_start_from_nothing(origin):
    restore = workflow_step(origin, "Restore the last build")["with"]
    save = workflow_step(origin, "Keep this build for the next deploy")["with"]
    assert save["key"] == restore["key"] and save["path"] == restore["path"]
    assert restore["key"].startswith(restore["restore-keys"])
    inputs = re.search(r"hashFiles\(([^)]*)\)", restore["restore-keys"])[1]
    assert {name.strip(" '") for name in inputs.split(",")} == {"requirements.txt",
                                                               "templates/**"}
    assert restore["key"].endswith("-${{ github.sha }}")
