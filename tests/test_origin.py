"""Where cophandbook was installed from decides what `new` writes for the workflows and what
`--version` says: a package index (a pinned version), a git URL (that commit), or a folder
on this machine (which no runner can reach: say so, and how to write the requirement)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from cophandbook import __version__, origin
from cophandbook.cli import main
from cophandbook.origin import SOURCE, Origin, origin_of
from tests.conftest import ROOT

COMMIT = "3be014eb323401c95d52e9b0e3b54c0d27d13dc3"


def requirement_lines(handbook: Path) -> list[str]:
    return [line for line in (handbook / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]


def hook(handbook: Path) -> dict:
    (repo,) = yaml.safe_load((handbook / ".pre-commit-config.yaml").read_text())["repos"]
    return repo


# -- what pip records -------------------------------------------------------------------------

def test_an_install_from_an_index_is_pinned_to_its_version():
    found = origin_of(None, "1.2.3")
    assert found == Origin("index", "cophandbook==1.2.3", "a package index", SOURCE, "v1.2.3")


def test_an_install_from_a_git_url_is_required_at_its_commit():
    recorded = json.dumps({"url": "https://github.com/someone/cophandbook", "vcs_info": {
        "vcs": "git", "requested_revision": "main", "commit_id": COMMIT}})
    found = origin_of(recorded)
    assert found.kind == "git"
    assert found.requirement == f"cophandbook @ git+https://github.com/someone/cophandbook@{COMMIT}"
    assert Requirement(found.requirement).url.endswith(f"@{COMMIT}")
    assert (found.repository, found.revision) == ("https://github.com/someone/cophandbook", COMMIT)


def test_an_archive_at_a_url_is_required_from_there():
    url = "https://example.org/files/cophandbook-0.1.0-py3-none-any.whl"
    found = origin_of(json.dumps({"url": url, "archive_info": {}}))
    assert (found.kind, found.requirement) == ("url", f"cophandbook @ {url}")


@pytest.mark.parametrize("recorded, where", [
    ({"url": "file:///home/ana/cophandbook", "dir_info": {"editable": True}},
     "/home/ana/cophandbook (editable)"),
    ({"url": "file:///home/ana/cophandbook", "dir_info": {}}, "/home/ana/cophandbook"),
    ({"url": "file:///tmp/cophandbook-0.1.0-py3-none-any.whl", "archive_info": {}},
     "/tmp/cophandbook-0.1.0-py3-none-any.whl"),
    ({"url": "file:///srv/git/cophandbook", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
     f"git+file:///srv/git/cophandbook@{COMMIT}"),
    ({"url": "ssh://git@github.com/org/cophandbook", "vcs_info": {"vcs": "git",
                                                                  "commit_id": COMMIT}},
     f"git+ssh://git@github.com/org/cophandbook@{COMMIT}"),
])
def test_what_a_runner_cannot_reach_is_local(recorded, where):
    found = origin_of(json.dumps(recorded))
    assert (found.kind, found.requirement, found.where) == ("local", "", where)


def test_an_unreadable_record_is_not_a_traceback():
    assert origin_of("{not json").kind == "local"


# -- what `new` writes ------------------------------------------------------------------------

@pytest.fixture
def installed_from(monkeypatch: pytest.MonkeyPatch):
    def set_origin(found: Origin) -> None:
        monkeypatch.setattr("cophandbook.cli.installed", lambda: found)
    return set_origin


def test_new_pins_a_released_version_and_its_tag(tmp_path, installed_from, capsys):
    installed_from(origin_of(None))
    assert main(["new", str(tmp_path / "h")]) == 0
    assert requirement_lines(tmp_path / "h") == [f"cophandbook=={__version__}"]
    assert hook(tmp_path / "h") == {"repo": SOURCE, "rev": f"v{__version__}",
                                    "hooks": [{"id": "cophandbook-check"}]}
    assert "Note:" not in capsys.readouterr().err


def test_new_requires_the_git_commit_it_was_installed_from(tmp_path, installed_from, capsys):
    url = "https://github.com/someone/cophandbook"
    installed_from(origin_of(json.dumps({"url": url, "vcs_info": {"vcs": "git",
                                                                  "commit_id": COMMIT}})))
    assert main(["new", str(tmp_path / "h")]) == 0
    (line,) = requirement_lines(tmp_path / "h")
    assert line == f"cophandbook @ git+{url}@{COMMIT}" and Requirement(line).name == "cophandbook"
    assert (hook(tmp_path / "h")["repo"], hook(tmp_path / "h")["rev"]) == (url, COMMIT)
    assert "Note:" not in capsys.readouterr().err


def test_new_says_when_the_workflows_cannot_install_it(tmp_path, installed_from, capsys):
    installed_from(origin_of(json.dumps({"url": "file:///home/ana/cophandbook",
                                         "dir_info": {"editable": True}})))
    assert main(["new", str(tmp_path / "h")]) == 0
    text = (tmp_path / "h" / "requirements.txt").read_text()
    assert "installed from /home/ana/cophandbook (editable), which GitHub's runners" in text
    assert "#   cophandbook @ git+https://github.com/ORG/REPOSITORY@COMMIT" in text
    assert requirement_lines(tmp_path / "h") == [f"cophandbook=={__version__}"]
    err = capsys.readouterr().err
    assert "/home/ana/cophandbook (editable)" in err and "requirements.txt" in err


def test_new_writes_a_pre_commit_configuration_pre_commit_accepts(tmp_path, installed_from):
    installed_from(origin_of(None))
    assert main(["new", str(tmp_path / "h")]) == 0
    checked = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                              ".pre-commit-config.yaml"], cwd=tmp_path / "h",
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_version_says_where_cophandbook_came_from(capsys, monkeypatch):
    monkeypatch.setattr("cophandbook.cli.installed", lambda: origin_of(None))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == \
        f"cophandbook {__version__} (from a package index)"


# -- real installs, in new environments away from the checkout ---------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", str(ROOT),
                    "-w", str(folder)], check=True, capture_output=True)
    (found,) = folder.glob("cophandbook-*.whl")
    assert zipfile.ZipFile(found).testzip() is None
    return found


def new_environment(folder: Path) -> Path:
    """A virtual environment whose dependencies are this one's (its .pth files, among them
    the editable install of this checkout, are not read); returns its Python."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def install(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--ignore-installed",  # the dependencies' folder holds this checkout, installed
                    "--no-build-isolation", "--disable-pip-version-check", *args],
                   check=True, capture_output=True, cwd=python.parents[2])


def run_new(python: Path, tmp_path: Path) -> tuple[str, str, Path]:
    version = subprocess.run([str(python.parent / "cophandbook"), "--version"], cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout.strip()
    made = subprocess.run([str(python.parent / "cophandbook"), "new", "handbook"],
                          cwd=tmp_path, capture_output=True, text=True, check=True)
    return version, made.stderr, tmp_path / "handbook"


def test_installed_from_an_index_it_pins_the_version(tmp_path, wheel):
    index = tmp_path / "index"
    index.mkdir()
    (index / wheel.name).write_bytes(wheel.read_bytes())
    python = new_environment(tmp_path / "venv")
    install(python, "--find-links", str(index), "cophandbook")
    version, note, handbook = run_new(python, tmp_path)
    assert version == f"cophandbook {__version__} (from a package index)"
    assert note == "" and requirement_lines(handbook) == [f"cophandbook=={__version__}"]


def test_installed_from_git_it_names_the_commit(tmp_path):
    repository = tmp_path / "cophandbook.git"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(repository)],
                   check=True, capture_output=True)
    commit = subprocess.run(["git", "-C", str(repository), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    python = new_environment(tmp_path / "venv")
    install(python, f"git+file://{repository}@{commit}")  # old pips refuse "name @" here
    version, note, _ = run_new(python, tmp_path)
    # A file:// repository is this machine's: what pip recorded is named, and not required.
    assert version == f"cophandbook {__version__} (from git+file://{repository}@{commit})"
    assert "runners cannot reach" in note
    recorded = json.loads(next((tmp_path / "venv").rglob("cophandbook-*.dist-info"))
                          .joinpath("direct_url.json").read_text())
    https = {**recorded, "url": "https://github.com/cophandbook/cophandbook"}
    assert origin_of(json.dumps(https)).requirement == \
        f"cophandbook @ git+https://github.com/cophandbook/cophandbook@{commit}"


def test_installed_from_a_folder_it_says_how_to_write_the_requirement(tmp_path):
    python = new_environment(tmp_path / "venv")
    install(python, str(ROOT))
    version, note, handbook = run_new(python, tmp_path)
    assert version == f"cophandbook {__version__} (from {ROOT})"
    assert f"installed from {ROOT}, which GitHub's runners cannot reach" in note
    assert f"# cophandbook was installed from {ROOT}" in \
        (handbook / "requirements.txt").read_text()


def test_an_environment_without_a_record_is_an_index_install(monkeypatch):
    class Distribution:
        version = "2.0.0"

        def read_text(self, name: str) -> str | None:
            return None

    monkeypatch.setattr(origin.metadata, "distribution", lambda name: Distribution())
    assert origin.installed() == origin_of(None, "2.0.0")
