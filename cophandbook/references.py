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
    return _md_link_from(from_rel.rpartition("/")[0], href)


def _md_link_from(folder: str, href: str) -> tuple[str, str] | None:
    if is_external(href) or href.startswith(("/", "#")):
        return None
    path, fragment = split_relative(href)
    if "%" in path:
        path = unquote(path)
    if not path.endswith(".md"):
        return None
    target = posixpath.normpath(posixpath.join(folder, path))
    return target, fragment


def split_relative(href: str) -> tuple[str, str]:
    """(path, fragment) of a URL without a scheme, as `urlsplit` splits it; without its
    cost for the common case (a large handbook has a hundred thousand links)."""
    if "\t" in href or "\n" in href or "\r" in href or href[:1] <= " ":
        parts = urlsplit(href)  # it removes those characters first
        return parts.path, parts.fragment
    before, _, fragment = href.partition("#")
    return before.partition("?")[0], fragment


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
