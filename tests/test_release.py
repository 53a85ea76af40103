"""A release anyone can cut: `scripts/release.sh` (what the release workflow runs before it
uploads) makes an sdist and a wheel that pass `twine check`, and the wheel, installed away
from the checkout, builds the example handbook and a new one. The project's workflows run
the README's test command and publish a tagged version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from cophandbook import __version__
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
# What a copy of the checkout leaves out: environments, installs, outputs, caches.
NOT_SOURCE = shutil.ignore_patterns(".venv", "node_modules", "_site", "dist", "build",
                                    "__pycache__", ".pytest_cache", ".ruff_cache",
                                    "test-artifacts", "*.egg-info", ".git")


def release(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "RELEASE_OFFLINE": "1"}
    env.pop("GITHUB_REF_NAME", None)
    return subprocess.run(["bash", "scripts/release.sh", *args], cwd=checkout, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout after `scripts/release.sh v<version>`: its dist/ folder."""
    checkout = tmp_path_factory.mktemp("release") / "cophandbook"
    shutil.copytree(ROOT, checkout, ignore=NOT_SOURCE)
    done = release(checkout, f"v{__version__}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "its wheel built the example handbook and a new one" in done.stdout
    return checkout / "dist"


def test_the_release_files_hold_the_theme_the_starter_and_the_changelog(released):
    wheel = released / f"cophandbook-{__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"cophandbook/{p.relative_to(ROOT / 'cophandbook').as_posix()}"
                for p in (ROOT / "cophandbook" / "starter-handbook").rglob("*") if p.is_file()}
    expected |= {f"cophandbook/themes/{p.relative_to(ROOT / 'themes').as_posix()}"
                 for p in (ROOT / "themes").rglob("*") if p.is_file()}
    expected.add("cophandbook/serve/live.js")
    assert len(expected) > 30 and expected - names == set()
    metadata = zipfile.ZipFile(wheel).read(
        f"cophandbook-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    with tarfile.open(released / f"cophandbook-{__version__}.tar.gz") as sdist:
        files = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"CHANGELOG.md", "LICENSE", "README.md", "pyproject.toml",
            "themes/default/static/style.css", "example-site/handbook.yml",
            "tests/conftest.py"} <= files
    assert not any("node_modules" in name or "/_site/" in f"/{name}" for name in files)


def test_the_version_lives_in_one_place():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "cophandbook/__init__.py"
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_a_tag_that_is_not_the_version_stops_the_release_before_it_builds(tmp_path):
    checkout = tmp_path / "cophandbook"
    shutil.copytree(ROOT, checkout, ignore=NOT_SOURCE)
    stopped = release(checkout, "v99.0.0")
    assert stopped.returncode == 1
    assert f"does not match the version {__version__}" in stopped.stderr
    assert not (checkout / "dist").exists()
    changelog = checkout / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(f"## [{__version__}]", "## [next]"))
    stopped = release(checkout, f"v{__version__}")
    assert stopped.returncode == 1 and "CHANGELOG.md has no section" in stopped.stderr


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_ci_runs_the_readme_test_command_on_every_supported_python():
    data = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    (job,) = data["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    assert job["env"]["CI"] == "true"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    readme = (ROOT / "README.md").read_text()
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert runs == ["bash scripts/test.sh"]
    assert "```sh\nbash scripts/test.sh\n```" in readme and "scripts/test.sh" in ci_run


def test_a_tag_publishes_to_pypi_with_trusted_publishing_and_makes_a_github_release():
    data = workflow("release.yml")
    assert data["on"] == {"push": {"tags": ["v*"]}}
    assert data["permissions"] == {"contents": "read"}
    jobs = data["jobs"]
    build, pypi, github = jobs["build"], jobs["pypi"], jobs["github-release"]
    assert 'bash scripts/release.sh "$GITHUB_REF_NAME"' in [s.get("run") for s in build["steps"]]
    assert pypi["needs"] == "build" and pypi["environment"]["name"] == "pypi"
    assert pypi["permissions"] == {"id-token": "write"}  # no token stored anywhere
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")
               for s in pypi["steps"])
    assert github["needs"] == "pypi" and github["permissions"] == {"contents": "write"}
    (script,) = [s["run"] for s in github["steps"] if "run" in s]
    assert "gh release create" in script and "dist/*" in script
    # The notes are the changelog's section for the version.
    awk = script.splitlines()[1].strip()
    notes = subprocess.run(["bash", "-c", awk.replace(" > notes.md", "")], cwd=ROOT,
                           env={**os.environ, "version": __version__},
                           capture_output=True, text=True, check=True).stdout
    assert notes.strip().startswith("The first release.") and "## [" not in notes
