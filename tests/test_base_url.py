"""A site hosted under a sub-path: every internal link and asset resolves to a built file."""

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from cophandbook.build import build
from tests.conftest import EXAMPLE_SITE, SETTINGS


def resolve(out: Path, base: str, ref: str, page_file: Path) -> Path | None:
    """The file a link points at, or None when the link is external."""
    parts = urlsplit(ref)
    if parts.scheme or ref.startswith("//") or ref.startswith("#") or not ref:
        return None
    path = unquote(parts.path)
    assert path.startswith(base), f"{page_file}: link {ref} ignores base_url"
    target = out / path[len(base):]
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def assert_links_resolve(out: Path, base: str) -> int:
    checked = 0
    for page_file in sorted(out.rglob("*.html")):
        doc = BeautifulSoup(page_file.read_text(), "html.parser")
        for el in doc.find_all(["a", "link", "script", "img"]):
            ref = el.get("href") or el.get("src")
            if ref is None:
                continue
            target = resolve(out, base, ref, page_file)
            if target is None:
                continue
            assert target.is_file(), f"{page_file.relative_to(out)}: {ref} → missing"
            fragment = urlsplit(ref).fragment
            if fragment and target.suffix == ".html":
                ids = {t["id"] for t in BeautifulSoup(target.read_text(), "html.parser")
                       .find_all(id=True)}
                assert fragment in ids, f"{page_file.relative_to(out)}: {ref} → no #{fragment}"
            checked += 1
    return checked


def test_every_internal_link_and_asset_resolves_under_sub_path(built):
    result, out = built({"handbook.yml": SETTINGS + "base_url: /sub/\n",
                         "static/img/photo.png": b"\x89PNG",
                         "content/guides/safety.md":
                         "---\ntitle: Safety\n---\n## Pausing\n\n![p](/img/photo.png)\n"})
    assert result.written, [d.message for d in result.problems]
    assert assert_links_resolve(out, "/sub/") > 200


def test_example_site_links_resolve_under_a_sub_path(tmp_path):
    site = tmp_path / "example"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("_site"))
    settings = (site / "handbook.yml").read_text().replace("base_url: /\n",
                                                           "base_url: /handbook/\n")
    (site / "handbook.yml").write_text(settings)
    result = build(site)
    assert result.written and not result.problems.items, [d.message for d in result.problems]
    assert assert_links_resolve(site / "_site", "/handbook/") > 1000
