"""Where this installation of cophandbook came from, as pip recorded it (PEP 610's
`direct_url.json`): a package index, a git repository, an archive at a URL, or a folder on
this machine. `--version` says so, and `new` writes the requirement that installs the same
cophandbook on a CI runner, or says why it cannot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urlsplit
from urllib.request import url2pathname

from cophandbook import __version__

NAME = "cophandbook"
# Where the project's code and releases are (a git repository that pre-commit can use).
SOURCE = "https://github.com/cophandbook/cophandbook"


@dataclass(frozen=True)
class Origin:
    kind: str  # "index", "git", "url" or "local"
    requirement: str  # a requirement that installs this cophandbook anywhere; "" for "local"
    where: str  # for people: "a package index", the git URL and commit, the folder
    # The git repository and revision holding this cophandbook's pre-commit hook: the
    # commit it was installed from, or else the project's repository at the release's tag.
    repository: str = SOURCE
    revision: str = f"v{__version__}"


def _reachable(url: str) -> bool:
    """A URL a CI runner can fetch from without this machine's files or keys."""
    return urlsplit(url).scheme in ("http", "https")


def origin_of(direct_url: str | None, version: str = __version__) -> Origin:
    """The origin described by the text of a `direct_url.json` (None: none was written,
    so pip took the package from an index)."""
    if direct_url is None:
        return Origin("index", f"{NAME}=={version}", "a package index", SOURCE, f"v{version}")
    try:
        data = json.loads(direct_url)
        url = str(data["url"])
    except (ValueError, KeyError, TypeError):
        return Origin("local", "", "an unknown place (its direct_url.json cannot be read)")
    subdirectory = f"#subdirectory={data['subdirectory']}" if data.get("subdirectory") else ""
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        located = f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}{subdirectory}"
        if not _reachable(url):  # a repository on this machine, or behind its keys
            return Origin("local", "", located)
        return Origin("git", f"{NAME} @ {located}", located, url, str(vcs["commit_id"]))
    if isinstance(data.get("archive_info"), dict) and _reachable(url):
        return Origin("url", f"{NAME} @ {url}", url)
    parts = urlsplit(url)
    folder = url2pathname(parts.path) if parts.scheme == "file" else url
    editable = isinstance(data.get("dir_info"), dict) and data["dir_info"].get("editable")
    return Origin("local", "", f"{folder}{' (editable)' if editable else ''}")


def installed() -> Origin:
    """Where the cophandbook running now came from."""
    try:
        distribution = metadata.distribution(NAME)
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return Origin("local", "", "a source tree, not installed")
    return origin_of(distribution.read_text("direct_url.json"), distribution.version)
