"""Which URLs content may publish: the one allow-list for links, images and front matter."""

from __future__ import annotations

import re

URL_SCHEMES = frozenset({"http", "https", "mailto"})  # and relative URLs, which have none
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")  # browsers skip these when reading a URL


def is_allowed_url(url: str) -> bool:
    """True for http, https and mailto URLs and for relative ones; never for javascript:,
    data:, vbscript: and the like, however they are spelled."""
    scheme = _SCHEME.match(_IGNORED_IN_URL.sub("", url))
    return scheme is None or scheme.group(1).lower() in URL_SCHEMES


# Link and image targets, and autolinks, in a line of Markdown: enough to name a refused URL
# in short text such as a rubric descriptor, which rendering then drops anyway.
_INLINE_TARGET = re.compile(r"\]\(\s*<?([^\s)>]+)|<([A-Za-z][A-Za-z0-9+.-]*:[^\s<>]*)>")


def refused_urls(markdown: str) -> list[str]:
    """The link targets written in `markdown` that `is_allowed_url` refuses."""
    return [url for match in _INLINE_TARGET.finditer(markdown)
            for url in match.groups() if url and not is_allowed_url(url)]
