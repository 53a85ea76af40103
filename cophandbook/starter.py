"""`new SITE`: a small but complete handbook to start from, with the files its repository
needs (GitHub workflows to check pull requests and publish, a contributors' guide, .gitignore,
a pre-commit configuration).

The starter lives in `starter-handbook/` beside this module. Names beginning `dot-` become
dot-files when copied, so packaging tools that skip hidden files cannot lose them. The
workflows install the cophandbook that `requirements.txt` names: the one running `new`,
wherever it came from (see origin.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cophandbook import __version__
from cophandbook.origin import Origin
from cophandbook.scaffold import ScaffoldError, yaml_scalar

STARTER = Path(__file__).resolve().parent / "starter-handbook"


def default_title(folder: Path) -> str:
    """'riverside-circle' → 'Riverside circle'."""
    words = folder.resolve().name.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Our handbook"


def _target(rel: Path) -> Path:
    return Path(*(part.replace("dot-", ".", 1) if part.startswith("dot-") else part
                  for part in rel.parts))


def requirement(origin: Origin) -> str:
    """The lines of requirements.txt that install `origin`'s cophandbook on a CI runner; for
    one installed from a folder on this machine, which no runner can reach, what to write
    instead (the published version is pinned meanwhile)."""
    if origin.requirement:
        return origin.requirement
    return (f"# cophandbook was installed from {origin.where}, which GitHub's runners cannot\n"
            "# reach. The workflows need a published version or a git repository: keep the\n"
            "# line below once that version is on PyPI, or put one like these in its place:\n"
            f"#   cophandbook=={__version__}\n"
            "#   cophandbook @ git+https://github.com/ORG/REPOSITORY@COMMIT\n"
            f"cophandbook=={__version__}")


def _fill(text: str, rel: Path, title: str, today: dt.date, origin: Origin) -> str:
    title_text = yaml_scalar(title) if rel.suffix in (".yml", ".yaml") else title
    return (text.replace("__TITLE__", title_text)
                .replace("__TODAY__", today.isoformat())
                .replace("__REQUIREMENT__", requirement(origin))
                .replace("__HOOK_REPOSITORY__", origin.repository)
                .replace("__HOOK_REVISION__", origin.revision)
                .replace("__VERSION__", __version__))


def create_site(folder: Path, title: str, today: dt.date, origin: Origin) -> list[Path]:
    """Write the starter into `folder`, which must be missing or empty."""
    if folder.exists() and not folder.is_dir():
        raise ScaffoldError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise ScaffoldError(f"{folder} is not empty; 'new' only writes into a new or empty "
                            "folder, so nothing of yours is overwritten")
    written = []
    for source in sorted(STARTER.rglob("*")):
        if not source.is_file():
            continue
        rel = source.relative_to(STARTER)
        target = folder / _target(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(source.read_text(encoding="utf-8"), rel, title, today, origin),
                          encoding="utf-8")
        written.append(target)
    return written
