"""A site hosted under a sub-path: every internal link and asset resolves to a built file."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from tests.conftest import SETTINGS


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


def test_every_internal_link_and_asset_resolves_under_sub_path(built):
    result, out = built({"handbook.yml": SETTINGS + "base_url: /sub/\n",
                         "static/img/photo.png": b"\x89PNG",
                         "content/guides/safety.md":
                         "---\ntitle: Safety\n---\n## Pausing\n\n![p](/img/photo.png)\n"})
    assert result.written, [d.message for d in result.problems]
    checked = 0
    for page_file in sorted(out.rglob("*.html")):
        doc = BeautifulSoup(page_file.read_text(), "html.parser")
        for el in doc.find_all(["a", "link", "script", "img"]):
            ref = el.get("href") or el.get("src")
            if ref is None:
                continue
            target = resolve(out, "/sub/", ref, page_file)
            if target is None:
                continue
            assert target.is_file(), f"{page_file.relative_to(out)}: {ref} → missing"
            fragment = urlsplit(ref).fragment
            if fragment and target.suffix == ".html":
                ids = {t["id"] for t in BeautifulSoup(target.read_text(), "html.parser")
                       .find_all(id=True)}
                assert fragment in ids, f"{page_file.relative_to(out)}: {ref} → no #{fragment}"
            checked += 1
    assert checked > 200
