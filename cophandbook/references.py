"""Relative links between Markdown files: rewrite them to page URLs and find broken ones."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from cophandbook.urls import Urls


def is_external(href: str) -> bool:
    if ":" not in href:  # no scheme: the common case, without parsing (large sites check
        return href.startswith("//")  # a hundred thousand links)
    parts = urlsplit(href)
    return bool(parts.scheme) or href.startswith("//")


def split_md_link(href: str, from_rel: str) -> tuple[str, str] | None:
    """(content path of the target, fragment) for a relative link to a .md file, else None."""
    if ".md" not in href and "%" not in href:
        return None
    if is_external(href) or href.startswith(("/", "#")):
        return None
    parts = urlsplit(href)
    path = unquote(parts.path)
    if not path.endswith(".md"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(from_rel), path))
    return target, parts.fragment


def make_rewriter(
    from_rel: str, page_paths: dict[str, str], urls: Urls
) -> Callable[[str], str]:
    """A link rewriter for one source: .md links → page URLs; root-relative → under base_url."""

    def rewrite(href: str) -> str:
        if href.startswith("/") and not href.startswith("//"):
            return urls.href(href)
        md_link = split_md_link(href, from_rel)
        if md_link is None:
            return href
        target, fragment = md_link
        site_path = page_paths.get(target)
        if site_path is None:
            return href  # reported as a broken link
        return urls.href(site_path) + (f"#{fragment}" if fragment else "")

    return rewrite
